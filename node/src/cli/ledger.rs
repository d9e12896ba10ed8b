//! `qun ledger`, `qun pay`, `qun balance`, `qun proposal`, `qun bounty`, `qun vote`: the
//! community's money (issue 16) through the node's API (`…/ledger/…`). Views are read as JSON
//! values and printed as tables, or passed through with `--json`.

use super::client::Client;
use super::output::{CliError, ExitCode, json, short, table};
use crate::dto::{
    BountyRequest, BountyStepRequest, CloseRequest, EditDone, LedgerCreated, LedgerPolicyRequest,
    PayRequest, PledgeRequest, ProposalRequest, UnfreezeRequest, VoteRequest,
};
use clap::{Args, Subcommand};
use serde_json::Value;

/// `qun ledger COMMUNITY` (entries and holds), or one of its subcommands.
#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true, arg_required_else_help = true)]
pub struct LedgerArgs {
    /// Turn the ledger on or off, unfreeze an account.
    #[command(subcommand)]
    pub cmd: Option<LedgerCmd>,
    /// Community id, prefix or name: show its entries and holds.
    pub community: Option<String>,
}

/// The ledger's policy and moderation.
#[derive(Subcommand, Debug)]
pub enum LedgerCmd {
    /// Turn the ledger on (needs the policy permission), naming the unit and the credit limit.
    Enable {
        /// Community id, prefix or name.
        community: String,
        /// The unit members count in ("hours", "credits").
        #[arg(long)]
        unit: String,
        /// How far below zero anyone's balance may go (default 0).
        #[arg(long, conflicts_with = "limit_by_trust")]
        limit: Option<u64>,
        /// Scale each member's limit by trust from the founders, up to MAX.
        #[arg(long, value_name = "MAX")]
        limit_by_trust: Option<u64>,
    },
    /// Turn the ledger off (holds under way still settle).
    Disable {
        /// Community id, prefix or name.
        community: String,
    },
    /// Restart a member's frozen account (a moderator).
    Unfreeze {
        /// Community id, prefix or name.
        community: String,
        /// The member.
        member: String,
    },
}

/// `qun pay`.
#[derive(Args, Debug)]
pub struct PayArgs {
    /// Community id, prefix or name.
    pub community: String,
    /// The payee (for escrow: the deal's seller).
    pub member: String,
    /// How much, a whole number of the community's unit.
    pub amount: String,
    /// Hold the payment in escrow for this deal (`<member>/<key>`).
    #[arg(long)]
    pub deal: Option<String>,
    /// A note.
    #[arg(long, default_value = "")]
    pub note: String,
}

/// `qun balance`.
#[derive(Args, Debug)]
pub struct BalanceArgs {
    /// Community id, prefix or name.
    pub community: String,
}

/// `qun vote`.
#[derive(Args, Debug)]
pub struct VoteArgs {
    /// Community id, prefix or name.
    pub community: String,
    /// The proposal (`<member>/<key>`).
    pub proposal: String,
    /// yes, no or abstain.
    pub choice: String,
}

/// Crowdfunding proposals.
#[derive(Subcommand, Debug)]
pub enum ProposalCmd {
    /// Propose something to fund (prints the proposal id).
    Create {
        /// Community id, prefix or name.
        community: String,
        /// Title.
        title: String,
        /// The amount to reach.
        #[arg(long)]
        goal: String,
        /// Its key, `[a-z0-9-]` (default: made from the title).
        #[arg(long, default_value = "")]
        key: String,
        /// When anyone may close it: 7d, 12h, 30m from now (default a week).
        #[arg(long, default_value = "")]
        deadline: String,
        /// Who receives the money (default: you).
        #[arg(long, default_value = "")]
        recipient: String,
        /// Markdown text.
        #[arg(long, default_value = "")]
        description: String,
        /// Also vote on it: equal (one member one vote) or trust (weighted by trust).
        #[arg(long, default_value = "")]
        vote: String,
        /// Share of the eligible weight that must vote, percent.
        #[arg(long, default_value = "")]
        quorum: String,
        /// Yes must be more than this share of yes + no, percent (default 50).
        #[arg(long, default_value = "")]
        threshold: String,
        /// Under trust weighting, the largest share one vote may have, percent (default 25).
        #[arg(long, default_value = "")]
        cap: String,
    },
    /// Pledge to a proposal (held from your account until it closes).
    Pledge {
        /// Community id, prefix or name.
        community: String,
        /// The proposal (`<member>/<key>`).
        proposal: String,
        /// How much.
        amount: String,
    },
    /// Close a proposal: funded if the goal (and the vote) is met, else the pledges go back.
    Close {
        /// Community id, prefix or name.
        community: String,
        /// The proposal (`<member>/<key>`).
        proposal: String,
    },
    /// Every proposal with its progress and tally.
    List {
        /// Community id, prefix or name.
        community: String,
    },
}

/// Bounties.
#[derive(Subcommand, Debug)]
pub enum BountyCmd {
    /// Offer a bounty (the reward is held from your account; prints the bounty id).
    Create {
        /// Community id, prefix or name.
        community: String,
        /// Title.
        title: String,
        /// The reward.
        #[arg(long)]
        reward: String,
        /// Its key, `[a-z0-9-]` (default: made from the title).
        #[arg(long, default_value = "")]
        key: String,
        /// The task (Markdown).
        #[arg(long, default_value = "")]
        description: String,
        /// Let several members work on it at once.
        #[arg(long)]
        several: bool,
        /// Pay it from this funded proposal (you are its recipient).
        #[arg(long, default_value = "")]
        proposal: String,
    },
    /// Start working on a bounty.
    Claim(BountyAt),
    /// Hand in your work.
    Submit {
        /// Which bounty.
        #[command(flatten)]
        at: BountyAt,
        /// What was done (text, a link).
        #[arg(long)]
        work: String,
    },
    /// Pay a claimant for its work (the sponsor).
    Accept {
        /// Which bounty.
        #[command(flatten)]
        at: BountyAt,
        /// Whose work.
        claimant: String,
    },
    /// Reject a claimant's work (the sponsor).
    Reject {
        /// Which bounty.
        #[command(flatten)]
        at: BountyAt,
        /// Whose work.
        claimant: String,
    },
    /// Withdraw a bounty; the reward comes back (the sponsor).
    Cancel(BountyAt),
    /// Every bounty.
    List {
        /// Community id, prefix or name.
        community: String,
    },
}

/// Which bounty.
#[derive(Args, Debug)]
pub struct BountyAt {
    /// Community id, prefix or name.
    pub community: String,
    /// The bounty (`<member>/<key>`).
    pub bounty: String,
}

/// The ledger commands, parsed.
#[derive(Debug)]
pub enum LedgerCommand {
    /// `qun ledger …`.
    Ledger(LedgerArgs),
    /// `qun pay …`.
    Pay(PayArgs),
    /// `qun balance …`.
    Balance(BalanceArgs),
    /// `qun proposal …`.
    Proposal(ProposalCmd),
    /// `qun bounty …`.
    Bounty(BountyCmd),
    /// `qun vote …`.
    Vote(VoteArgs),
}

fn s(v: &Value, path: &[&str]) -> String {
    let mut x = v;
    for p in path {
        x = &x[*p];
    }
    match x {
        Value::String(t) => t.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A signed amount as `+5` / `-5` / `0`.
fn signed(v: &Value) -> String {
    match v.as_i64() {
        Some(n) if n > 0 => format!("+{n}"),
        Some(n) => n.to_string(),
        None => String::new(),
    }
}

/// Run a ledger command; `resolve` turns a community name or prefix into its id.
pub fn run(
    c: &Client,
    cmd: LedgerCommand,
    js: bool,
    resolve: impl Fn(&str) -> Result<String, CliError>,
) -> Result<(), CliError> {
    let base = |community: &str| -> Result<String, CliError> {
        Ok(format!(
            "/api/v1/communities/{}/ledger",
            resolve(community)?
        ))
    };
    let done = |r: &EditDone, words: String| {
        if js { json(r) } else { crate::say!("{words}") }
    };
    match cmd {
        LedgerCommand::Ledger(LedgerArgs { cmd: Some(cmd), .. }) => match cmd {
            LedgerCmd::Enable {
                community,
                unit,
                limit,
                limit_by_trust,
            } => {
                let limit = match (limit, limit_by_trust) {
                    (_, Some(max)) => format!("trust:{max}"),
                    (Some(n), None) => n.to_string(),
                    (None, None) => "0".into(),
                };
                let r: EditDone = c.post(
                    &format!("{}/policy", base(&community)?),
                    &LedgerPolicyRequest {
                        enabled: Some(true),
                        unit: unit.clone(),
                        limit: limit.clone(),
                    },
                )?;
                done(&r, format!("ledger on: unit {unit}, credit limit {limit}"));
            }
            LedgerCmd::Disable { community } => {
                let r: EditDone = c.post(
                    &format!("{}/policy", base(&community)?),
                    &LedgerPolicyRequest {
                        enabled: Some(false),
                        ..Default::default()
                    },
                )?;
                done(&r, "ledger off".into());
            }
            LedgerCmd::Unfreeze { community, member } => {
                let r: EditDone = c.post(
                    &format!("{}/unfreeze", base(&community)?),
                    &UnfreezeRequest {
                        member: member.clone(),
                    },
                )?;
                done(&r, format!("unfroze {member}"));
            }
        },
        LedgerCommand::Ledger(LedgerArgs {
            cmd: None,
            community,
        }) => {
            let community = community.ok_or_else(|| {
                CliError::new(
                    ExitCode::Refused,
                    "which community?",
                    "qun ledger COMMUNITY, or qun ledger enable|disable|unfreeze",
                )
            })?;
            let v: Value = c.get(&format!("{}/entries", base(&community)?))?;
            if js {
                json(&v);
            } else {
                let rows: Vec<Vec<String>> = v["entries"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|e| {
                        vec![
                            short(&s(e, &["from"])),
                            s(e, &["amount"]),
                            s(e, &["what"]),
                            s(e, &["status"]),
                            s(e, &["seen_by"]),
                        ]
                    })
                    .collect();
                table(&["FROM", "AMOUNT", "WHAT", "STATUS", "SEEN BY"], &rows);
                let holds: Vec<Vec<String>> = v["holds"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|h| vec![short(&s(h, &["from"])), s(h, &["amount"]), s(h, &["what"])])
                    .collect();
                if !holds.is_empty() {
                    crate::say!("holds:");
                    table(&["FROM", "AMOUNT", "HELD"], &holds);
                }
            }
        }
        LedgerCommand::Pay(a) => {
            let r: EditDone = c.post(
                &format!("{}/pay", base(&a.community)?),
                &PayRequest {
                    to: a.member.clone(),
                    amount: a.amount.clone(),
                    note: a.note,
                    deal: a.deal.clone().unwrap_or_default(),
                },
            )?;
            let words = match &a.deal {
                Some(d) => format!("held {} in escrow for deal {d}", a.amount),
                None => format!("paid {} to {}", a.amount, a.member),
            };
            done(&r, words);
        }
        LedgerCommand::Balance(a) => {
            let v: Value = c.get(&format!("{}/statement", base(&a.community)?))?;
            if js {
                json(&v);
            } else {
                let unit = s(&v, &["unit"]);
                if !v["on"].as_bool().unwrap_or(false) {
                    crate::say!("the ledger is off");
                }
                crate::say!(
                    "{}",
                    format!("balance    {} {unit}", s(&v, &["account", "balance"])).trim_end()
                );
                crate::say!(
                    "limit      {} ({})",
                    s(&v, &["account", "limit"]),
                    s(&v, &["limit_why"])
                );
                crate::say!("available  {}", s(&v, &["available"]));
                crate::say!("held       {}", s(&v, &["account", "held"]));
                if v["account"]["frozen"].as_bool().unwrap_or(false) {
                    crate::say!(
                        "frozen: a fork of your payments froze the account; a moderator can unfreeze it"
                    );
                }
                for h in v["holds"].as_array().into_iter().flatten() {
                    crate::say!("  held {}: {}", s(h, &["amount"]), s(h, &["what"]));
                }
                for l in v["history"].as_array().into_iter().flatten() {
                    // How safe money received is; what I paid needs no such word.
                    let safety = match l["amount"].as_i64() {
                        Some(n) if n > 0 && l["counts"] == true => {
                            format!(" · {}", s(l, &["safety"]))
                        }
                        _ => String::new(),
                    };
                    crate::say!(
                        "  {} {} · {}{safety}",
                        signed(&l["amount"]),
                        s(l, &["what"]),
                        s(l, &["status_words"]),
                    );
                }
            }
        }
        LedgerCommand::Vote(a) => {
            let r: EditDone = c.post(
                &format!("{}/proposals/vote", base(&a.community)?),
                &VoteRequest {
                    proposal: a.proposal.clone(),
                    choice: a.choice.clone(),
                },
            )?;
            done(&r, format!("voted {} on {}", a.choice, a.proposal));
        }
        LedgerCommand::Proposal(p) => proposal(c, p, js, &base)?,
        LedgerCommand::Bounty(b) => bounty(c, b, js, &base)?,
    }
    Ok(())
}

fn proposal(
    c: &Client,
    cmd: ProposalCmd,
    js: bool,
    base: &dyn Fn(&str) -> Result<String, CliError>,
) -> Result<(), CliError> {
    match cmd {
        ProposalCmd::Create {
            community,
            title,
            goal,
            key,
            deadline,
            recipient,
            description,
            vote,
            quorum,
            threshold,
            cap,
        } => {
            let r: LedgerCreated = c.post(
                &format!("{}/proposals", base(&community)?),
                &ProposalRequest {
                    key,
                    title,
                    description,
                    goal,
                    deadline,
                    recipient,
                    vote,
                    quorum,
                    threshold,
                    cap,
                },
            )?;
            if js {
                json(&r)
            } else {
                crate::say!("{}", r.id)
            }
        }
        ProposalCmd::Pledge {
            community,
            proposal,
            amount,
        } => {
            let r: EditDone = c.post(
                &format!("{}/proposals/pledge", base(&community)?),
                &PledgeRequest {
                    proposal: proposal.clone(),
                    amount: amount.clone(),
                },
            )?;
            if js {
                json(&r)
            } else {
                crate::say!("pledged {amount} to {proposal}")
            }
        }
        ProposalCmd::Close {
            community,
            proposal,
        } => {
            let r: EditDone = c.post(
                &format!("{}/proposals/close", base(&community)?),
                &CloseRequest {
                    proposal: proposal.clone(),
                },
            )?;
            if js {
                json(&r)
            } else {
                crate::say!("closed {proposal}")
            }
        }
        ProposalCmd::List { community } => {
            let v: Vec<Value> = c.get(&format!("{}/proposals", base(&community)?))?;
            if js {
                json(&v);
            } else {
                let rows: Vec<Vec<String>> = v
                    .iter()
                    .map(|f| {
                        vec![
                            s(f, &["ref"]),
                            s(f, &["fund", "title"]),
                            format!("{}/{}", s(f, &["pledged"]), s(f, &["fund", "goal"])),
                            s(f, &["outcome", "k"]),
                            s(f, &["tally_words"]),
                        ]
                    })
                    .collect();
                table(&["ID", "TITLE", "PLEDGED", "OUTCOME", "VOTE"], &rows);
            }
        }
    }
    Ok(())
}

fn bounty(
    c: &Client,
    cmd: BountyCmd,
    js: bool,
    base: &dyn Fn(&str) -> Result<String, CliError>,
) -> Result<(), CliError> {
    let (step, at, work, claimant) = match cmd {
        BountyCmd::Create {
            community,
            title,
            reward,
            key,
            description,
            several,
            proposal,
        } => {
            let r: LedgerCreated = c.post(
                &format!("{}/bounties", base(&community)?),
                &BountyRequest {
                    key,
                    title,
                    description,
                    reward,
                    several: Some(several),
                    proposal,
                },
            )?;
            if js {
                json(&r)
            } else {
                crate::say!("{}", r.id)
            }
            return Ok(());
        }
        BountyCmd::List { community } => {
            let v: Vec<Value> = c.get(&format!("{}/bounties", base(&community)?))?;
            if js {
                json(&v);
            } else {
                let rows: Vec<Vec<String>> = v
                    .iter()
                    .map(|b| {
                        vec![
                            s(b, &["ref"]),
                            s(b, &["bounty", "title"]),
                            s(b, &["bounty", "reward"]),
                            s(b, &["status", "k"]),
                            b["claims"].as_object().map_or(0, |m| m.len()).to_string(),
                        ]
                    })
                    .collect();
                table(&["ID", "TITLE", "REWARD", "STATUS", "CLAIMS"], &rows);
            }
            return Ok(());
        }
        BountyCmd::Claim(at) => ("claim", at, String::new(), String::new()),
        BountyCmd::Cancel(at) => ("cancel", at, String::new(), String::new()),
        BountyCmd::Submit { at, work } => ("submit", at, work, String::new()),
        BountyCmd::Accept { at, claimant } => ("accept", at, String::new(), claimant),
        BountyCmd::Reject { at, claimant } => ("reject", at, String::new(), claimant),
    };
    let r: EditDone = c.post(
        &format!("{}/bounties/{step}", base(&at.community)?),
        &BountyStepRequest {
            bounty: at.bounty.clone(),
            step: step.to_string(),
            work,
            claimant,
        },
    )?;
    if js {
        json(&r)
    } else {
        crate::say!("{step} {}", at.bounty)
    }
    Ok(())
}
