//! Forks of an account's chain of debits, and which debit of a fork stands: the one a quorum
//! of witnesses saw first (docs/ledger.md, rules 1 and "finality").

use super::Fold;
use crate::gov::index::Ix;
use crate::ids::Hash;
use std::collections::{BTreeMap, BTreeSet};

impl Fold<'_> {
    /// The debits of a fork that stand: in each set of debits linked by concurrency, the
    /// one that more than half of the witnesses saw first (each witness's earliest change, in
    /// `(lamport, hash)` order, with any of the set in its past, when it has exactly one of
    /// them there). An honest witness's changes form a chain, so once a quorum has seen a
    /// payment alone, no fork made later can take it away: the payment is final.
    pub(super) fn witnessed(
        &mut self,
        here: &BTreeSet<usize>,
        pairs: &[(usize, usize)],
    ) -> BTreeSet<usize> {
        let mut winners = BTreeSet::new();
        if self.quorum == 0 || here.is_empty() {
            return winners;
        }
        // Connected components of the concurrency relation.
        let mut comp: BTreeMap<usize, usize> = here.iter().map(|d| (*d, *d)).collect();
        fn root(c: &BTreeMap<usize, usize>, mut x: usize) -> usize {
            while let Some(p) = c.get(&x).copied().filter(|p| *p != x) {
                x = p;
            }
            x
        }
        for (a, b) in pairs {
            let (ra, rb) = (root(&comp, *a), root(&comp, *b));
            if ra != rb {
                comp.insert(ra.max(rb), ra.min(rb));
            }
        }
        let mut sets: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for d in here {
            sets.entry(root(&comp, *d)).or_default().push(*d);
        }
        for set in sets.values() {
            let Some(account) = set.first().map(|d| self.debits[*d].from) else {
                continue;
            };
            let Some(earliest) = set.iter().map(|d| self.key(self.debits[*d].node)).min() else {
                continue;
            };
            let mut votes: BTreeMap<usize, usize> = BTreeMap::new();
            for w in 0..self.witnesses.len() {
                if self.witnesses[w].0 == account {
                    continue;
                }
                let nodes = self.witnesses[w].1.clone();
                for g in nodes {
                    if self.key(g) <= earliest {
                        continue;
                    }
                    let p = self.past(g);
                    let seen: Vec<usize> = set
                        .iter()
                        .copied()
                        .filter(|d| p.contains(self.debits[*d].node))
                        .collect();
                    if seen.is_empty() {
                        continue;
                    }
                    if let [one] = seen[..] {
                        *votes.entry(one).or_default() += 1;
                    }
                    break;
                }
            }
            let top: Vec<(usize, usize)> = votes
                .into_iter()
                .filter(|(_, n)| *n >= self.quorum)
                .collect();
            if let [(d, n)] = top[..] {
                winners.insert(d);
                self.won.insert(d, n);
            }
        }
        winners
    }

    /// Witnesses (other than the payer) whose latest change has debit `d` in its past.
    pub(super) fn confirmations(&mut self, d: usize) -> usize {
        let (node, from) = (self.debits[d].node, self.debits[d].from);
        if let Some(n) = self.won.get(&d) {
            return *n;
        }
        let lasts: Vec<Ix> = self
            .witnesses
            .iter()
            .filter(|(m, _)| *m != from)
            .filter_map(|(_, ns)| ns.last().copied())
            .collect();
        lasts
            .into_iter()
            .filter(|g| *g != node && self.past(*g).contains(node))
            .count()
    }
}

/// What [`forks`] finds among one account's debits.
pub(super) struct Forks {
    /// Void: concurrent with another debit of the account and not the witnessed one.
    pub(super) forked: BTreeSet<usize>,
    /// Void: after a fork (a fork's debit in their past).
    pub(super) frozen: BTreeSet<usize>,
    /// Whether any fork was found at all.
    pub(super) any: bool,
    /// Whether the latest epoch forked (the account is frozen now).
    pub(super) latest: bool,
}

/// Forked and frozen debits among `ds` (indices into `debits`, of one account), with
/// `unfreezes` effective: each debit is compared only with those of its epoch (the greatest
/// effective unfreeze in its past). In each set of mutually concurrent debits, the one a
/// quorum of witnesses saw first stands (see [`Fold::witnessed`]); the others are void.
pub(super) fn forks(f: &mut Fold<'_>, ds: &[usize], unfreezes: &[Ix]) -> Forks {
    let mut groups: BTreeMap<Option<(u64, Hash)>, Vec<usize>> = BTreeMap::new();
    for d in ds {
        let p = f.past(f.debits[*d].node);
        let epoch = unfreezes
            .iter()
            .filter(|u| p.contains(**u))
            .map(|u| f.key(*u))
            .max();
        groups.entry(epoch).or_default().push(*d);
    }
    let latest = unfreezes.iter().map(|u| f.key(*u)).max();
    let mut out = Forks {
        forked: BTreeSet::new(),
        frozen: BTreeSet::new(),
        any: false,
        latest: false,
    };
    for (epoch, g) in &groups {
        let mut here = BTreeSet::new();
        let mut pairs = Vec::new();
        for (i, a) in g.iter().enumerate() {
            for b in &g[i + 1..] {
                let (na, nb) = (f.debits[*a].node, f.debits[*b].node);
                if !f.past(na).contains(nb) && !f.past(nb).contains(na) {
                    here.insert(*a);
                    here.insert(*b);
                    pairs.push((*a, *b));
                }
            }
        }
        for d in g {
            if here.contains(d) {
                continue;
            }
            let p = f.past(f.debits[*d].node);
            if here.iter().any(|x| p.contains(f.debits[*x].node)) {
                out.frozen.insert(*d);
            }
        }
        if !here.is_empty() {
            out.any = true;
            if *epoch == latest {
                out.latest = true;
            }
        }
        let winners = f.witnessed(&here, &pairs);
        out.forked.extend(here.difference(&winners).copied());
    }
    out
}
