//! Reads of the ledger (issue 16) run on the driver's task: a member's wallet (the core's
//! statement with why the limit is what it is), the book's entries, the totals, proposals with
//! the viewer's pledges, vote and vote weight, and bounties. Writes are ordinary edits.

use super::driver::Driver;
use crate::dto::{BountyOut, FundOut, LedgerEntries, Wallet};
use crate::error::Result;
use qun_crdt::CommunityId;
use qun_crdt::ledger::view::Totals;
use qun_crdt::ledger::{Movement, PaymentStatus};
use qun_identity::MemberId;

impl Driver {
    /// `m`'s wallet.
    pub(super) fn wallet(&mut self, c: &CommunityId, m: &MemberId) -> Result<Wallet> {
        let mut rd = self.reader(c)?;
        let statement = rd.statement(m);
        let st = rd.state();
        let why = match &statement.policy {
            None => "the ledger has not been turned on".to_string(),
            Some(p) => match p.limits(rd.genesis(), &st).get(m) {
                Some((_, why)) => why.to_string(),
                None => "not a member".to_string(),
            },
        };
        Ok(Wallet::of(statement, why))
    }

    /// Every debit with its status, open holds and settlements.
    pub(super) fn ledger_entries(&mut self, c: &CommunityId) -> Result<LedgerEntries> {
        let book = self.reader(c)?.ledger_book();
        Ok(LedgerEntries::of(&book))
    }

    /// The community's totals.
    pub(super) fn ledger_totals(&mut self, c: &CommunityId) -> Result<Totals> {
        Ok(self.reader(c)?.ledger_totals())
    }

    /// Every proposal, with `me`'s pledges, vote and vote weight.
    pub(super) fn funds(&mut self, c: &CommunityId, me: &MemberId) -> Result<Vec<FundOut>> {
        let mut rd = self.reader(c)?;
        let book = rd.ledger_book();
        let st = rd.state();
        let funds = rd.funds();
        let g = rd.genesis();
        Ok(funds
            .into_iter()
            .map(|view| {
                let my_pledge = book
                    .entries
                    .iter()
                    .filter(|e| e.from == *me && e.status == PaymentStatus::Valid)
                    .filter(
                        |e| matches!(&e.movement, Movement::Pledge { fund } if *fund == view.id),
                    )
                    .map(|e| e.amount)
                    .sum();
                let percent = (view.pledged.saturating_mul(100) / view.fund.goal.max(1)).min(100);
                FundOut {
                    reference: view.id.to_string(),
                    my_vote: st.ledger.votes.get(&(view.id.clone(), *me)).copied(),
                    my_weight: view.tally.as_ref().map(|t| t.explain_weight(g, &st, me)),
                    my_pledge,
                    percent,
                    view,
                }
            })
            .collect())
    }

    /// Every motion with its tally.
    pub(super) fn motions(&mut self, c: &CommunityId) -> Result<Vec<crate::dto::MotionOut>> {
        Ok(self
            .reader(c)?
            .motions()
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Every bounty.
    pub(super) fn bounties(&mut self, c: &CommunityId) -> Result<Vec<BountyOut>> {
        Ok(self
            .reader(c)?
            .bounties()
            .into_iter()
            .map(|(id, state)| BountyOut {
                reference: id.to_string(),
                id,
                state,
            })
            .collect())
    }
}
