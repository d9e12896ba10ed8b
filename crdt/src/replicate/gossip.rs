//! Gossip: validating a received gossip message and ingesting batches of changes.

use super::*;
use crate::community::authentic::Checked;

impl<P: Peer> Replicator<P> {
    pub(super) fn on_gossip(&mut self, now: Timestamp, from: P, id: MsgId, bytes: &[u8]) {
        let limits = self.config.limits;
        let msg = match wire::decode::<GossipMsg>("gossip message", bytes, limits.max_gossip_bytes)
        {
            Ok(m) => m,
            Err(error) => {
                self.push(Output::Verdict {
                    id,
                    from: from.clone(),
                    verdict: Verdict::Reject,
                });
                self.push(Output::Event(Event::Rejected {
                    community: None,
                    from,
                    error,
                }));
                return;
            }
        };
        if msg.changes.is_empty() || msg.changes.len() > limits.max_changes_per_gossip {
            self.push(Output::Verdict {
                id,
                from: from.clone(),
                verdict: Verdict::Reject,
            });
            self.push(Output::Event(Event::Rejected {
                community: Some(msg.community),
                from,
                error: Error::TooLarge {
                    what: "changes per gossip message",
                    limit: limits.max_changes_per_gossip,
                    actual: msg.changes.len(),
                },
            }));
            return;
        }
        if !self.communities.contains_key(&msg.community) {
            self.push(Output::Verdict {
                id,
                from,
                verdict: Verdict::Ignore,
            });
            return;
        }
        let docs = vec![(msg.doc, msg.changes)];
        let r = self.ingest_batch(now, &msg.community, &from, docs, Origin::Gossip);
        let verdict = if r.invalid > 0 {
            Verdict::Reject
        } else if r.accepted > 0 {
            Verdict::Accept
        } else {
            Verdict::Ignore
        };
        // ingest_batch queued Persist already: the verdict comes after it, events after that.
        self.push(Output::Verdict {
            id,
            from: from.clone(),
            verdict,
        });
        self.outbox.extend(r.events);
        self.settle(now, &msg.community);
        if r.pending > 0 {
            self.start_sync(&msg.community, from);
        }
    }

    /// Ingest changes from `from` into community `id`: accepted ones are persisted (queued now),
    /// waiting ones kept (see `pending`), invalid ones reported. Events are returned for the
    /// caller to queue.
    pub(super) fn ingest_batch(
        &mut self,
        now: Timestamp,
        id: &CommunityId,
        from: &P,
        docs: Vec<(DocId, Vec<WireChange>)>,
        origin: Origin,
    ) -> BatchResult<P> {
        let max_pending = self.config.limits.max_pending;
        let mut r = BatchResult {
            accepted: 0,
            invalid: 0,
            pending: 0,
            events: Vec::new(),
        };
        let Some(entry) = self.communities.get_mut(id) else {
            return r;
        };
        entry.community.observe_time(now);
        let mut persisted: Vec<(DocId, Hash, WireChange)> = Vec::new();
        // What arrived, as the keys pending changes wait on.
        let mut arrived: Vec<Hash> = Vec::new();
        #[allow(clippy::too_many_arguments)]
        let mut offer = |entry: &mut Entry<P>,
                         doc: DocId,
                         c: WireChange,
                         checked: Checked,
                         sender: &P,
                         since: Timestamp,
                         retry: bool,
                         r: &mut BatchResult<P>,
                         arrived: &mut Vec<Hash>| {
            match entry.community.ingest_with(&doc, &c.bytes, &c.sig, checked) {
                Ok(Ingested::Accepted(a)) => {
                    r.accepted += 1;
                    arrived.push(a.hash);
                    arrived.push(crate::community::apply::seq_key(&doc, &a.device, a.seq));
                    persisted.push((doc, a.hash, c));
                    r.events.push(Output::Event(Event::Accepted {
                        community: *id,
                        change: a,
                        origin,
                    }));
                }
                Ok(Ingested::Duplicate(_)) => {}
                Err(Error::MissingDeps {
                    hash,
                    missing,
                    known,
                }) => {
                    if !retry {
                        r.pending += 1;
                    }
                    let kept = if known {
                        entry.pending.insert(
                            hash,
                            doc,
                            c,
                            sender.clone(),
                            since,
                            missing,
                            max_pending,
                        )
                    } else {
                        Err(Error::UnknownDevice {
                            hash,
                            device: crate::change_actor(&c.bytes).unwrap_or_default(),
                        })
                    };
                    if let Err(error) = kept {
                        r.events.push(Output::Event(Event::Rejected {
                            community: Some(*id),
                            from: sender.clone(),
                            error,
                        }));
                    }
                }
                Err(error @ (Error::Equivocation { hash, .. } | Error::Stranded { hash })) => {
                    // Kept aside with its side of a fork (or refused): what waits for it is
                    // offered again, to be kept with it and counted as that side's support.
                    arrived.push(hash);
                    r.events.push(Output::Event(Event::Rejected {
                        community: Some(*id),
                        from: sender.clone(),
                        error,
                    }));
                }
                Err(error @ Error::FutureWindow { .. }) => {
                    // Not invalid: not yet. Not forwarded, not penalised.
                    r.events.push(Output::Event(Event::Rejected {
                        community: Some(*id),
                        from: sender.clone(),
                        error,
                    }));
                }
                Err(error) => {
                    r.invalid += usize::from(!retry);
                    r.events.push(Output::Event(Event::Rejected {
                        community: Some(*id),
                        from: sender.clone(),
                        error,
                    }));
                }
            }
        };
        // Authenticate the whole batch first: signatures in ZIP-215 batches, on every core the
        // community may use; each change is then judged as if it came alone.
        let checked = {
            let flat: Vec<(&DocId, &[u8], &[u8; 64])> = docs
                .iter()
                .flat_map(|(d, cs)| cs.iter().map(move |c| (d, c.bytes.as_slice(), &c.sig)))
                .collect();
            entry.community.authenticate(&flat)
        };
        let mut checked = checked.into_iter();
        for (doc, changes) in docs {
            for c in changes {
                offer(
                    entry,
                    doc.clone(),
                    c,
                    checked.next().unwrap_or_default(),
                    from,
                    now,
                    false,
                    &mut r,
                    &mut arrived,
                );
            }
        }
        // Whatever went in may complete what was waiting for it (and only that is retried).
        let mut round = std::mem::take(&mut arrived);
        while !round.is_empty() {
            for p in entry.pending.take_ready(&round) {
                // A waiting change passed its signature check before it was kept (ingest
                // reports missing dependencies only after the signature).
                let authentic = Checked {
                    head: None,
                    sig_valid: Some(true),
                };
                offer(
                    entry,
                    p.doc,
                    p.change,
                    authentic,
                    &p.from,
                    p.since,
                    true,
                    &mut r,
                    &mut arrived,
                );
            }
            round = std::mem::take(&mut arrived);
        }
        // What a fork's flip brought in is stored and reported like any accepted change.
        for (doc, a, bytes, sig) in entry.community.take_flipped_in() {
            r.accepted += 1;
            persisted.push((doc, a.hash, WireChange { bytes, sig }));
            r.events.push(Output::Event(Event::Accepted {
                community: *id,
                change: a,
                origin,
            }));
        }
        // Sync batches are applied now; gossip ones on the flush timer, unless many wait.
        if r.accepted > 0 {
            entry.unflushed += r.accepted;
            entry.unflushed_from = Some(from.clone());
        }
        if origin != Origin::Gossip || entry.unflushed >= FLUSH_MAX_STAGED {
            entry.unflushed = 0;
            if let Err(e) = entry.community.flush() {
                r.events.push(Output::Event(Event::Rejected {
                    community: Some(*id),
                    from: from.clone(),
                    error: e,
                }));
            }
        } else if entry.unflushed > 0 && !entry.flush_due {
            entry.flush_due = true;
            self.timers
                .insert(now.plus_millis(FLUSH_DELAY_MS), Timer::Flush(*id));
        }
        if !persisted.is_empty() {
            self.outbox.push_back(Output::Persist(Persist::Changes {
                community: *id,
                changes: persisted,
            }));
        }
        r
    }
}

/// What one batch of changes did.
pub(super) struct BatchResult<P> {
    pub(super) accepted: usize,
    pub(super) invalid: usize,
    pub(super) pending: usize,
    pub(super) events: Vec<Output<P>>,
}
