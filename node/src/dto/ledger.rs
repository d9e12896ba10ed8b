//! The ledger (issue 16, `docs/ledger.md`) as the API, the page and the CLI send and read it:
//! requests validated once into core ledger actions (the policy, payments and escrow,
//! unfreezing, proposals with pledges, closes and votes, bounties and their steps), and the
//! answers with what a member needs in words (why a limit is what it is, whether a line
//! counts and how safe money received is). Like `request`, each type reads from a JSON body
//! and from a form.

use super::market::{fresh_key, invalid, loose, number};
use super::parse;
use super::request::IntoEdit;
use crate::error::Result;
use qun_crdt::ledger::book::{SEEN_ENOUGH, Settlement};
use qun_crdt::ledger::view::{FundView, Line, Statement, describe};
use qun_crdt::ledger::{
    Account, Bounty, BountyId, BountyState, Choice, CreditLimit, Fund, FundId, Hold, HoldFor,
    LedgerEntry, LedgerPolicy, MAX_AMOUNT, PaymentStatus, VoteRule, Weighting,
};
use qun_crdt::{Action, Edit};
use qun_identity::{MemberId, Timestamp};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use std::fmt;

/// How long a proposal runs when the request names no deadline, ms (a week).
pub const DEFAULT_DEADLINE_MS: u64 = 7 * 24 * 3600 * 1000;
/// The largest share one member's vote may have under trust weighting when the request names
/// none, percent.
pub const DEFAULT_CAP_PERCENT: u16 = 25;
/// The share of yes (of yes + no) a vote must exceed when the request names none, percent.
pub const DEFAULT_THRESHOLD_PERCENT: u16 = 50;

/// A yes/no sent as JSON (`true`) or as form text (`"on"`, `"yes"`, `"false"`); `None` when
/// empty.
fn flag<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<bool>, D::Error> {
    struct Flag;
    impl Visitor<'_> for Flag {
        type Value = Option<bool>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("true or false")
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> std::result::Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Self::Value, E> {
            match v.trim() {
                "" => Ok(None),
                "true" | "on" | "yes" | "1" => Ok(Some(true)),
                "false" | "off" | "no" | "0" => Ok(Some(false)),
                other => Err(E::custom(format!("not true or false: {other:?}"))),
            }
        }
        fn visit_unit<E: de::Error>(self) -> std::result::Result<Self::Value, E> {
            Ok(None)
        }
    }
    d.deserialize_any(Flag)
}

/// An amount: a whole number 1..=[`MAX_AMOUNT`].
pub fn amount(field: &str, text: &str) -> Result<u64> {
    const HINT: &str = "an amount is a whole number of the community's unit, at least 1";
    let n: u64 =
        number(field, text, HINT)?.ok_or_else(|| invalid(format!("{field} is missing"), HINT))?;
    if n == 0 || n > MAX_AMOUNT {
        return Err(invalid(
            format!("{field} must be 1-{MAX_AMOUNT}, not {n}"),
            HINT,
        ));
    }
    Ok(n)
}

/// A proposal id (`<member>/<key>`).
pub fn fund_id(text: &str) -> Result<FundId> {
    text.trim().parse().map_err(|_| {
        invalid(
            format!("not a proposal id: {:?}", text.trim()),
            "proposal ids look like <member>/<key>; see GET …/ledger/proposals",
        )
    })
}

/// A bounty id (`<member>/<key>`).
pub fn bounty_id(text: &str) -> Result<BountyId> {
    text.trim().parse().map_err(|_| {
        invalid(
            format!("not a bounty id: {:?}", text.trim()),
            "bounty ids look like <member>/<key>; see GET …/ledger/bounties",
        )
    })
}

/// A credit limit: `N` (the same for everyone) or `trust:MAX`.
pub fn credit_limit(text: &str) -> Result<CreditLimit> {
    text.trim().parse().map_err(|e| {
        invalid(
            format!("{e}"),
            "a credit limit is a whole number (the same for everyone) or trust:MAX (scaled by trust from the founders)",
        )
    })
}

/// A vote: `yes`, `no` or `abstain`.
pub fn choice(text: &str) -> Result<Choice> {
    text.trim().parse().map_err(|_| {
        invalid(
            format!("not a vote: {:?}", text.trim()),
            "vote yes, no or abstain",
        )
    })
}

/// A deadline: `7d`, `12h`, `30m` from `now_ms`, or milliseconds since 1970; empty: a week.
pub fn deadline(text: &str, now_ms: u64) -> Result<Timestamp> {
    const HINT: &str = "a deadline is a time from now (7d, 12h, 30m) or milliseconds since 1970";
    let t = text.trim();
    if t.is_empty() {
        return Ok(Timestamp(now_ms.saturating_add(DEFAULT_DEADLINE_MS)));
    }
    let unit = match t.chars().last() {
        Some('d') => Some(24 * 3600 * 1000),
        Some('h') => Some(3600 * 1000),
        Some('m') => Some(60 * 1000),
        Some('s') => Some(1000),
        _ => None,
    };
    let bad = || invalid(format!("not a deadline: {t:?}"), HINT);
    match unit {
        Some(u) => {
            let n: u64 = t[..t.len() - 1].trim().parse().map_err(|_| bad())?;
            Ok(Timestamp(now_ms.saturating_add(n.saturating_mul(u))))
        }
        None => t.parse().map(Timestamp).map_err(|_| bad()),
    }
}

pub(crate) fn percent(field: &str, text: &str, default: u16, hint: &'static str) -> Result<u16> {
    let p: u16 = number(field, text, hint)?.unwrap_or(default);
    if p > 100 {
        return Err(invalid(format!("{field} must be 0-100 %, not {p}"), hint));
    }
    Ok(p)
}

/// Set the ledger's policy (`POST …/ledger/policy`): turn it on or off, name the unit, set the
/// credit limit. Fields left empty keep the policy in force.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct LedgerPolicyRequest {
    /// On (default) or off.
    #[serde(default, deserialize_with = "flag")]
    pub enabled: Option<bool>,
    /// The unit's name ("hours"); empty: the current one.
    #[serde(default)]
    pub unit: String,
    /// `N` or `trust:MAX`; empty: the current one (0 for a new ledger).
    #[serde(default)]
    pub limit: String,
}

impl LedgerPolicyRequest {
    /// The edit, given the policy in force.
    pub fn into_edit_with(self, current: Option<&LedgerPolicy>) -> Result<Edit> {
        let unit = match (self.unit.trim(), current) {
            ("", Some(p)) => p.unit.clone(),
            ("", None) => {
                return Err(invalid(
                    "the ledger needs a unit".into(),
                    "name the unit members count in: hours, credits, …",
                ));
            }
            (u, _) => u.to_string(),
        };
        let limit = match (self.limit.trim(), current) {
            ("", Some(p)) => p.limit,
            ("", None) => CreditLimit::Fixed { amount: 0 },
            (l, _) => credit_limit(l)?,
        };
        let policy = LedgerPolicy {
            on: self.enabled.unwrap_or(true),
            unit,
            limit,
        };
        policy.check().map_err(|e| {
            invalid(
                e.to_string(),
                "a unit is 1-24 bytes; a limit is N or trust:MAX",
            )
        })?;
        Ok(Edit::Govern(Action::LedgerPolicy { policy }))
    }
}

/// Pay a member, or hold a payment in escrow for a deal (`POST …/ledger/pay`, the wallet's
/// form, the deal's "Pay into escrow").
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PayRequest {
    /// The payee (for escrow: the deal's seller).
    pub to: String,
    /// How much, a whole number.
    #[serde(default, deserialize_with = "loose")]
    pub amount: String,
    /// A note.
    #[serde(default)]
    pub note: String,
    /// The deal the payment is held for (`<member>/<key>`), if any.
    #[serde(default)]
    pub deal: String,
}

impl IntoEdit for PayRequest {
    fn into_edit(self) -> Result<Edit> {
        let to = parse::member(self.to.trim())?;
        let deal = match self.deal.trim() {
            "" => None,
            d => Some(super::market::deal_id(d)?),
        };
        Ok(Edit::Govern(Action::Pay {
            to,
            amount: amount("amount", &self.amount)?,
            note: self.note.trim().to_string(),
            deal,
        }))
    }
}

/// Restart a frozen account (`POST …/ledger/unfreeze`, a moderator).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct UnfreezeRequest {
    /// Whose account.
    pub member: String,
}

impl IntoEdit for UnfreezeRequest {
    fn into_edit(self) -> Result<Edit> {
        Ok(Edit::Govern(Action::Unfreeze {
            member: parse::member(self.member.trim())?,
        }))
    }
}

/// Propose something to fund (`POST …/ledger/proposals`, the proposals page's form).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ProposalRequest {
    /// Its key (`[a-z0-9-]`); a new one from the title when empty.
    #[serde(default)]
    pub key: String,
    /// Title.
    pub title: String,
    /// Markdown text.
    #[serde(default)]
    pub description: String,
    /// The amount to reach.
    #[serde(default, deserialize_with = "loose")]
    pub goal: String,
    /// `7d`, `12h`, ms since 1970; empty: a week.
    #[serde(default, deserialize_with = "loose")]
    pub deadline: String,
    /// Who receives the money; empty: me.
    #[serde(default)]
    pub recipient: String,
    /// `none` (default), `equal` (one member one vote) or `trust` (weighted by trust).
    #[serde(default)]
    pub vote: String,
    /// The share of the eligible weight that must vote, percent (default 0).
    #[serde(default, deserialize_with = "loose")]
    pub quorum: String,
    /// Yes must be more than this share of yes + no, percent (default 50).
    #[serde(default, deserialize_with = "loose")]
    pub threshold: String,
    /// Under trust weighting, the largest share one member's vote may have, percent (default
    /// 25).
    #[serde(default, deserialize_with = "loose")]
    pub cap: String,
}

impl ProposalRequest {
    /// The proposal's id (mine) and the edit that makes it.
    pub fn into_edit_as(self, author: MemberId, now_ms: u64) -> Result<(FundId, Edit)> {
        let key = match self.key.trim() {
            "" => fresh_key(&self.title, now_ms),
            k => k.to_string(),
        };
        let id = FundId::new(author, &key).map_err(|e| {
            invalid(
                e.to_string(),
                "a proposal key is 1-40 of [a-z0-9-]; leave it out for a new one",
            )
        })?;
        let recipient = match self.recipient.trim() {
            "" => author,
            r => parse::member(r)?,
        };
        const VOTE_HINT: &str = "quorum, threshold and cap are percentages, 0-100";
        let weighting = match self.vote.trim() {
            "" | "none" => None,
            "equal" => Some(Weighting::Equal),
            "trust" => Some(Weighting::Trust {
                cap_permille: percent("cap", &self.cap, DEFAULT_CAP_PERCENT, VOTE_HINT)?.max(1)
                    * 10,
            }),
            other => {
                return Err(invalid(
                    format!("not a way of voting: {other:?}"),
                    "vote is none, equal (one member one vote) or trust (weighted by trust from the founders)",
                ));
            }
        };
        let vote = match weighting {
            None => None,
            Some(weighting) => Some(VoteRule {
                weighting,
                quorum_permille: percent("quorum", &self.quorum, 0, VOTE_HINT)? * 10,
                threshold_permille: percent(
                    "threshold",
                    &self.threshold,
                    DEFAULT_THRESHOLD_PERCENT,
                    VOTE_HINT,
                )?
                .min(99)
                    * 10,
            }),
        };
        let fund = Fund {
            title: self.title.trim().to_string(),
            description: self.description.trim_end().to_string(),
            goal: amount("goal", &self.goal)?,
            deadline: deadline(&self.deadline, now_ms)?,
            recipient,
            vote,
        };
        fund.check().map_err(|e| {
            invalid(
                e.to_string(),
                "a proposal needs a title and a goal; see docs/ledger.md",
            )
        })?;
        Ok((
            id.clone(),
            Edit::Govern(Action::FundPropose {
                id,
                fund: Box::new(fund),
            }),
        ))
    }
}

/// Pledge to a proposal (`POST …/ledger/proposals/pledge`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PledgeRequest {
    /// The proposal.
    pub proposal: String,
    /// How much.
    #[serde(default, deserialize_with = "loose")]
    pub amount: String,
}

impl IntoEdit for PledgeRequest {
    fn into_edit(self) -> Result<Edit> {
        Ok(Edit::Govern(Action::Pledge {
            fund: fund_id(&self.proposal)?,
            amount: amount("amount", &self.amount)?,
        }))
    }
}

/// Close a proposal (`POST …/ledger/proposals/close`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CloseRequest {
    /// The proposal.
    pub proposal: String,
}

impl IntoEdit for CloseRequest {
    fn into_edit(self) -> Result<Edit> {
        Ok(Edit::Govern(Action::FundClose {
            fund: fund_id(&self.proposal)?,
        }))
    }
}

/// Vote on a proposal (`POST …/ledger/proposals/vote`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct VoteRequest {
    /// The proposal.
    pub proposal: String,
    /// `yes`, `no`, `abstain`.
    pub choice: String,
}

impl IntoEdit for VoteRequest {
    fn into_edit(self) -> Result<Edit> {
        Ok(Edit::Govern(Action::Vote {
            fund: fund_id(&self.proposal)?,
            choice: choice(&self.choice)?,
        }))
    }
}

/// Offer a bounty (`POST …/ledger/bounties`, the board's form).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct BountyRequest {
    /// Its key; a new one from the title when empty.
    #[serde(default)]
    pub key: String,
    /// Title.
    pub title: String,
    /// The task (Markdown).
    #[serde(default)]
    pub description: String,
    /// The reward, held from my account.
    #[serde(default, deserialize_with = "loose")]
    pub reward: String,
    /// Whether several members may work on it at once.
    #[serde(default, deserialize_with = "flag")]
    pub several: Option<bool>,
    /// Pay it from this funded proposal of which I am the recipient (`<member>/<key>`).
    #[serde(default)]
    pub proposal: String,
}

impl BountyRequest {
    /// The bounty's id (mine) and the edit that makes it.
    pub fn into_edit_as(self, sponsor: MemberId, now_ms: u64) -> Result<(BountyId, Edit)> {
        let key = match self.key.trim() {
            "" => fresh_key(&self.title, now_ms),
            k => k.to_string(),
        };
        let id = BountyId::new(sponsor, &key).map_err(|e| {
            invalid(
                e.to_string(),
                "a bounty key is 1-40 of [a-z0-9-]; leave it out for a new one",
            )
        })?;
        let bounty = Bounty {
            title: self.title.trim().to_string(),
            description: self.description.trim_end().to_string(),
            reward: amount("reward", &self.reward)?,
            several: self.several.unwrap_or(false),
            funded_by: match self.proposal.trim() {
                "" => None,
                p => Some(fund_id(p)?),
            },
        };
        bounty.check().map_err(|e| {
            invalid(
                e.to_string(),
                "a bounty needs a title and a reward; see docs/ledger.md",
            )
        })?;
        Ok((
            id.clone(),
            Edit::Govern(Action::BountyCreate {
                id,
                bounty: Box::new(bounty),
            }),
        ))
    }
}

/// The steps of a bounty after its creation, as the API's paths and the page's `step` name
/// them.
pub const BOUNTY_STEPS: [&str; 5] = ["claim", "submit", "accept", "reject", "cancel"];

/// One step of a bounty (`POST …/ledger/bounties/{step}`; the page sends `step` in the form).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct BountyStepRequest {
    /// The bounty.
    pub bounty: String,
    /// `claim`, `submit`, `accept`, `reject`, `cancel` (the API takes it from the path).
    #[serde(default)]
    pub step: String,
    /// What was done (submit).
    #[serde(default)]
    pub work: String,
    /// Whose work (accept, reject).
    #[serde(default)]
    pub claimant: String,
}

impl IntoEdit for BountyStepRequest {
    fn into_edit(self) -> Result<Edit> {
        let id = bounty_id(&self.bounty)?;
        let claimant = || parse::member(self.claimant.trim());
        let action = match self.step.trim() {
            "claim" => Action::BountyClaim { id },
            "submit" => Action::BountySubmit {
                id,
                work: self.work.trim().to_string(),
            },
            "accept" => Action::BountyAccept {
                id,
                claimant: claimant()?,
            },
            "reject" => Action::BountyReject {
                id,
                claimant: claimant()?,
            },
            "cancel" => Action::BountyCancel { id },
            other => {
                return Err(invalid(
                    format!("not a bounty step: {other:?}"),
                    "steps are claim, submit, accept, reject, cancel",
                ));
            }
        };
        Ok(Edit::Govern(action))
    }
}

/// What was made: its id and the change (`POST …/ledger/proposals`, `…/ledger/bounties`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LedgerCreated {
    /// The new proposal's or bounty's id (`<member>/<key>`).
    pub id: String,
    /// The change's hash.
    pub hash: String,
}

/// Whether a debit counts, in words ("counts", or why it is void).
pub fn status_words(s: PaymentStatus) -> &'static str {
    match s {
        PaymentStatus::Valid => "counts",
        PaymentStatus::Forked => {
            "void: forked (the payer spent twice at once from two places, and the witnesses did not see this one first)"
        }
        PaymentStatus::Frozen => "void: the payer's account is frozen (after a fork)",
        PaymentStatus::OverLimit => "void: it took the payer over the credit limit",
        PaymentStatus::AfterClose => "void: pledged after the proposal's close",
        PaymentStatus::Unfunded => {
            "void: the proposal it is paid from was not funded, or its bounties already use what it raised"
        }
    }
}

/// How safe money received is to rely on, in words: final once more than half of the
/// witnesses (founders and moderators) saw it before any conflicting payment; until then, how
/// widely it is known (a fork by the payer could still void it).
pub fn safety_words(seen_by: usize, settled: bool) -> String {
    if settled {
        return "final: most of the community's witnesses saw it first".into();
    }
    match seen_by {
        0 => "only the payer has it so far".into(),
        1 => "seen by 1 other member, not final yet".into(),
        n if n >= SEEN_ENOUGH => format!("seen by {n} or more other members, not final yet"),
        n => format!("seen by {n} other members, not final yet"),
    }
}

/// What a hold waits for, in words.
pub fn hold_words(h: &HoldFor) -> String {
    match h {
        HoldFor::Deal { deal } => format!("in escrow until deal {deal} ends"),
        HoldFor::Fund { fund } => format!("pledged to {fund} until it closes"),
        HoldFor::Bounty { bounty } => {
            format!("reward of bounty {bounty} until it is paid or cancelled")
        }
    }
}

/// One line of a member's history, with what it means in words.
#[derive(Clone, Debug, Serialize)]
pub struct LineOut {
    /// The core's line.
    #[serde(flatten)]
    pub line: Line,
    /// Whether it counts.
    pub counts: bool,
    /// "counts", or why it is void.
    pub status_words: &'static str,
    /// For a valid line: final, or how widely it is known ("seen by 2 other members, not final
    /// yet", "only the payer has it so far").
    pub safety: String,
}

impl From<Line> for LineOut {
    fn from(line: Line) -> Self {
        LineOut {
            counts: line.status == PaymentStatus::Valid,
            status_words: status_words(line.status),
            safety: safety_words(line.seen_by, line.settled),
            line,
        }
    }
}

/// A hold with what it waits for in words.
#[derive(Clone, Debug, Serialize)]
pub struct HoldOut {
    /// The hold.
    #[serde(flatten)]
    pub hold: Hold,
    /// What settles it, in words.
    pub what: String,
}

impl From<Hold> for HoldOut {
    fn from(hold: Hold) -> Self {
        HoldOut {
            what: hold_words(&hold.waits_for),
            hold,
        }
    }
}

/// A member's wallet (`GET …/ledger/statement`): balance, limit and why, what may still be
/// spent, open holds, history newest first.
#[derive(Clone, Debug, Serialize)]
pub struct Wallet {
    /// Whose.
    pub member: MemberId,
    /// Whether the ledger is on.
    pub on: bool,
    /// The unit ("" before the ledger was ever turned on).
    pub unit: String,
    /// The policy (`None` before the ledger was ever turned on).
    pub policy: Option<LedgerPolicy>,
    /// Balance, limit, held, frozen.
    pub account: Account,
    /// Balance + limit.
    pub available: i64,
    /// Why the limit is what it is, in words.
    pub limit_why: String,
    /// Open holds of mine.
    pub holds: Vec<HoldOut>,
    /// History, newest first.
    pub history: Vec<LineOut>,
}

impl Wallet {
    /// A wallet from the core's statement and the reason for the limit.
    pub fn of(s: Statement, limit_why: String) -> Wallet {
        // An escrow payment is shown to its seller as held (0) until it settles; once settled,
        // the settlement's line says it all.
        let settled: std::collections::BTreeSet<_> = s
            .history
            .iter()
            .filter(|l| l.counterpart.is_none() && l.amount > 0)
            .map(|l| l.entry)
            .collect();
        let history = s
            .history
            .into_iter()
            .filter(|l| !(l.amount == 0 && settled.contains(&l.entry)))
            .map(LineOut::from)
            .collect();
        Wallet {
            member: s.member,
            on: s.policy.as_ref().is_some_and(|p| p.on),
            unit: s
                .policy
                .as_ref()
                .map(|p| p.unit.clone())
                .unwrap_or_default(),
            policy: s.policy,
            account: s.account,
            available: s.available,
            limit_why,
            holds: s.holds.into_iter().map(HoldOut::from).collect(),
            history,
        }
    }
}

/// A debit of the book with its meaning in words.
#[derive(Clone, Debug, Serialize)]
pub struct EntryOut {
    /// The debit.
    #[serde(flatten)]
    pub entry: LedgerEntry,
    /// What it is.
    pub what: String,
    /// "counts", or why it is void.
    pub status_words: &'static str,
}

/// The book (`GET …/ledger/entries`): every debit with its status, open holds, settlements.
#[derive(Clone, Debug, Serialize)]
pub struct LedgerEntries {
    /// Every debit, in `(lamport, hash)` order.
    pub entries: Vec<EntryOut>,
    /// Open holds.
    pub holds: Vec<HoldOut>,
    /// Money holds moved.
    pub settlements: Vec<Settlement>,
}

impl LedgerEntries {
    /// From the core's book.
    pub fn of(b: &qun_crdt::ledger::Book) -> Self {
        LedgerEntries {
            entries: b
                .entries
                .iter()
                .map(|e| EntryOut {
                    what: describe(&e.movement),
                    status_words: status_words(e.status),
                    entry: e.clone(),
                })
                .collect(),
            holds: b.holds.iter().cloned().map(HoldOut::from).collect(),
            settlements: b.settlements.clone(),
        }
    }
}

/// A proposal as the API shows it: the core's view, `ref` (`<author>/<key>`), and the
/// viewer's pledges, vote and vote weight.
#[derive(Clone, Debug, Serialize)]
pub struct FundOut {
    /// `<author>/<key>`.
    #[serde(rename = "ref")]
    pub reference: String,
    /// The proposal, money and tally.
    #[serde(flatten)]
    pub view: FundView,
    /// The goal reached, percent (capped at 100).
    pub percent: u64,
    /// What I pledged (valid pledges).
    pub my_pledge: u64,
    /// My vote, if any.
    pub my_vote: Option<Choice>,
    /// Why my vote weighs what it does, for a voted proposal.
    pub my_weight: Option<String>,
}

/// A bounty as the API shows it.
#[derive(Clone, Debug, Serialize)]
pub struct BountyOut {
    /// `<sponsor>/<key>`.
    #[serde(rename = "ref")]
    pub reference: String,
    /// Its id.
    pub id: BountyId,
    /// Its state.
    #[serde(flatten)]
    pub state: BountyState,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_read_from_json_and_forms_alike() {
        let j: PayRequest = serde_json::from_str(r#"{"to":"x","amount":5}"#).unwrap();
        let f: PayRequest = serde_urlencoded::from_str("to=x&amount=5").unwrap();
        assert_eq!(j.amount, f.amount);
        let zero: PayRequest = serde_urlencoded::from_str("to=x&amount=0").unwrap();
        assert!(zero.into_edit().is_err());
        let p: LedgerPolicyRequest =
            serde_json::from_str(r#"{"enabled":false,"unit":"hours"}"#).unwrap();
        assert_eq!(p.enabled, Some(false));
        let p: LedgerPolicyRequest =
            serde_urlencoded::from_str("unit=hours&limit=trust:40").unwrap();
        assert!(p.enabled.is_none());
        assert!(matches!(
            p.into_edit_with(None),
            Ok(Edit::Govern(Action::LedgerPolicy { policy })) if policy.on && policy.limit == CreditLimit::Trust { max: 40 }
        ));
        let none: LedgerPolicyRequest = serde_urlencoded::from_str("enabled=false").unwrap();
        assert!(
            none.into_edit_with(None).is_err(),
            "a new ledger needs a unit"
        );
        assert_eq!(
            deadline("2d", 1000).unwrap(),
            Timestamp(1000 + 2 * 86_400_000)
        );
        assert_eq!(deadline("5000", 1000).unwrap(), Timestamp(5000));
        assert!(deadline("soon", 0).is_err());
        let s: BountyStepRequest = serde_json::from_str(r#"{"bounty":"x","step":"fly"}"#).unwrap();
        assert!(s.into_edit().is_err());
    }
}
