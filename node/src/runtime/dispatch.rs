//! Answering the handle's commands: each runs its operation on the driver, then the outputs it
//! caused (persist and flush first, then publish and events), and only then sends the answer —
//! so an edit is acknowledged once it is durable, and a read sees everything before it.

use super::command::{Command, Reply};
use super::driver::Driver;

impl Driver {
    /// Run `f`, then the outputs it caused, then answer.
    fn answer<T>(&mut self, reply: Reply<T>, f: impl FnOnce(&mut Self) -> T) {
        let r = f(self);
        self.execute();
        // The asker may have given up (a dropped request): nothing to do then.
        let _ = reply.send(r);
    }

    /// One command from a handle (`Shutdown` is handled by the event loop).
    pub(super) fn on_command(&mut self, cmd: Command) {
        match cmd {
            Command::Status(r) => self.answer(r, |d| d.status()),
            Command::DmSend(to, text, r) => {
                self.dm_send(to, text, r);
                self.execute();
            }
            Command::DmList(r) => self.answer(r, |d| d.dm_conversations()),
            Command::DmRead(m, r) => self.answer(r, |d| d.dm_read(m)),
            Command::Identity(r) => self.answer(r, |d| d.identity()),
            Command::Peers(r) => self.answer(r, |d| d.peers()),
            Command::Joins(r) => self.answer(r, |d| d.joins()),
            Command::BackupPhrase(r) => self.answer(r, |d| d.backup_phrase()),
            Command::CommunityView(c, r) => self.answer(r, |d| d.community_view(&c)),
            Command::CommunityInfo(c, r) => self.answer(r, |d| d.community_info(&c)),
            Command::Channels(c, r) => self.answer(r, |d| d.channels(&c)),
            Command::Posts(c, q, r) => self.answer(r, |d| d.posts(&c, q)),
            Command::Notifications(r) => self.answer(r, |d| d.notifications()),
            Command::PostHistory(c, p, r) => {
                self.answer(r, |d| Ok(d.reader(&c)?.post_history(&p)?))
            }
            Command::WindowPosts(c, ch, w, r) => {
                self.answer(r, |d| Ok(d.reader(&c)?.window_posts(&ch, w)?))
            }
            Command::Thread(c, p, r) => self.answer(r, |d| d.thread(&c, &p)),
            Command::Members(c, r) => self.answer(r, |d| d.members(&c)),
            Command::Member(c, m, r) => self.answer(r, |d| d.member_detail(&c, m)),
            Command::Profile(c, m, r) => self.answer(r, |d| {
                let m = m.unwrap_or(d.member);
                d.profile(&c, &m)
            }),
            Command::Follows(c, m, r) => self.answer(r, |d| {
                let m = m.unwrap_or(d.member);
                d.follows(&c, m)
            }),
            Command::Endorsements(c, q, r) => self.answer(r, |d| d.endorsements(&c, q)),
            Command::Trust(c, top, r) => self.answer(r, |d| d.trust(&c, top)),
            Command::TrustWhy(c, ms, r) => self.answer(r, |d| d.trust_explained(&c, &ms)),
            Command::MarketPolicy(c, r) => self.answer(r, |d| Ok(d.reader(&c)?.market_policy())),
            Command::Listings(c, q, r) => self.answer(r, |d| Ok(d.reader(&c)?.listings(&q))),
            Command::Listing(c, id, r) => self.answer(r, |d| Ok(d.reader(&c)?.listing(&id))),
            Command::Deals(c, m, r) => self.answer(r, |d| Ok(d.reader(&c)?.deals_of(&m))),
            Command::Deal(c, id, r) => self.answer(r, |d| Ok(d.reader(&c)?.deal(&id))),
            Command::Reviews(c, m, r) => self.answer(r, |d| {
                let mut rd = d.reader(&c)?;
                Ok(match m {
                    Some(m) => rd.reviews_about(&m),
                    None => rd.reviews(),
                })
            }),
            Command::Wallet(c, m, r) => self.answer(r, |d| d.wallet(&c, &m)),
            Command::LedgerEntries(c, r) => self.answer(r, |d| d.ledger_entries(&c)),
            Command::LedgerTotals(c, r) => self.answer(r, |d| d.ledger_totals(&c)),
            Command::Funds(c, m, r) => self.answer(r, |d| d.funds(&c, &m)),
            Command::Motions(c, r) => self.answer(r, |d| d.motions(&c)),
            Command::Bounties(c, r) => self.answer(r, |d| d.bounties(&c)),
            Command::Export(c, r) => self.answer(r, |d| d.export(&c)),
            Command::Create {
                name,
                description,
                policy,
                reply,
            } => self.answer(reply, |d| {
                d.restore_hold_ok()?;
                d.create_community(&name, &description, policy)
            }),
            Command::Invite {
                community,
                invitee,
                valid_ms,
                reply,
            } => self.answer(reply, |d| d.invite(&community, invitee, valid_ms)),
            Command::Join(code, r) => self.answer(r, |d| {
                d.restore_hold_ok()?;
                d.join(&code)
            }),
            Command::CancelJoin(c, r) => self.answer(r, |d| d.cancel_join(&c)),
            Command::Edit(c, e, r) => self.answer(r, |d| {
                d.restore_hold_ok()?;
                d.edit(&c, e)
            }),
            Command::EditOnce(c, k, e, r) => self.answer(r, |d| {
                d.restore_hold_ok()?;
                d.edit_once(&c, k, e)
            }),
            Command::Endorse(c, e, r) => self.answer(r, |d| {
                d.restore_hold_ok()?;
                d.endorse(&c, e)
            }),
            Command::LinkDevice(dev, label, r) => self.answer(r, |d| {
                d.restore_hold_ok()?;
                d.link_device(dev, &label)
            }),
            Command::RevokeDevice(dev, why, r) => self.answer(r, |d| {
                d.restore_hold_ok()?;
                d.revoke_device(dev, &why)
            }),
            Command::Dial(a, r) => self.answer(r, |d| d.dial(a)),
            Command::FetchBlob(id, r) => self.fetch_blob(id, r),
            Command::BlobRefs(r) => self.answer(r, |d| d.blob_refs()),
            Command::Health(r) => self.answer(r, |d| d.health()),
            Command::Metrics(r) => self.answer(r, |d| d.scrape()),
            Command::Snapshot(dest, r) => self.answer(r, |d| d.snapshot(&dest)),
            #[cfg(feature = "test-utils")]
            Command::Test(t) => self.on_test(t),
            Command::Shutdown(r) => {
                let _ = r.send(());
            }
        }
    }
}
