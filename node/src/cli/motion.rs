//! `qun motion`: governance changes the community decides by vote (issue 16) — which ones
//! (`voting`), proposing one, enacting one whose vote passed, listing them — through the
//! node's API (`…/ledger/voting`, `…/ledger/motions`). Votes: `qun vote COMMUNITY MOTION …`.

use super::client::Client;
use super::output::{CliError, ExitCode, json, short, table};
use crate::dto::{EditDone, EnactRequest, LedgerCreated, MotionRequest, VotingRequest};
use clap::Subcommand;
use serde_json::Value;

/// `qun motion …`.
#[derive(Subcommand, Debug)]
pub enum MotionCmd {
    /// Say which governance changes need a vote (needs the policy permission, or a vote once
    /// `vote.policy` is among them).
    Voting {
        /// Community id, prefix or name.
        community: String,
        /// Action tags, comma-separated (policy.set,member.remove,...); empty: none.
        #[arg(long, default_value = "")]
        tags: String,
        /// equal (one member one vote) or trust (weighted by trust from the founders).
        #[arg(long, default_value = "equal")]
        vote: String,
        /// Share of the eligible weight that must vote, percent.
        #[arg(long, default_value = "50")]
        quorum: String,
        /// Share of yes (of yes + no) to exceed, percent.
        #[arg(long, default_value = "50")]
        threshold: String,
        /// Under trust weighting, the largest share of one vote, percent.
        #[arg(long, default_value = "")]
        cap: String,
    },
    /// Put a governance change to a vote.
    Propose {
        /// Community id, prefix or name.
        community: String,
        /// The action as a change message carries it: '{"t":"policy.set","policy":"invite"}'.
        action: String,
        /// Its key (default: a new one).
        #[arg(long, default_value = "")]
        key: String,
        /// Why.
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Enact a motion whose vote passed.
    Enact {
        /// Community id, prefix or name.
        community: String,
        /// The motion (`<member>/<key>`).
        motion: String,
    },
    /// Every motion with its tally.
    List {
        /// Community id, prefix or name.
        community: String,
    },
}

/// Run a motion command.
pub fn run(
    c: &Client,
    cmd: MotionCmd,
    js: bool,
    resolve: impl Fn(&str) -> Result<String, CliError>,
) -> Result<(), CliError> {
    let base = |community: &str| -> Result<String, CliError> {
        Ok(format!(
            "/api/v1/communities/{}/ledger",
            resolve(community)?
        ))
    };
    match cmd {
        MotionCmd::Voting {
            community,
            tags,
            vote,
            quorum,
            threshold,
            cap,
        } => {
            let r: EditDone = c.post(
                &format!("{}/voting", base(&community)?),
                &VotingRequest {
                    tags: tags.clone(),
                    vote,
                    quorum,
                    threshold,
                    cap,
                },
            )?;
            if js {
                json(&r)
            } else if tags.trim().is_empty() {
                crate::say!("nothing needs a vote now");
            } else {
                crate::say!("decided by vote from now on: {tags}");
            }
        }
        MotionCmd::Propose {
            community,
            action,
            key,
            reason,
        } => {
            let action: Value = serde_json::from_str(&action).map_err(|e| {
                CliError::new(
                    ExitCode::Refused,
                    format!("the action is not JSON: {e}"),
                    "write it as a change message carries it, e.g. '{\"t\":\"policy.set\",\"policy\":\"invite\"}'",
                )
            })?;
            let r: LedgerCreated = c.post(
                &format!("{}/motions", base(&community)?),
                &MotionRequest {
                    key,
                    action,
                    reason,
                },
            )?;
            if js {
                json(&r)
            } else {
                crate::say!(
                    "motion {} proposed; members vote with: qun vote COMMUNITY {} yes|no|abstain",
                    r.id,
                    r.id
                );
            }
        }
        MotionCmd::Enact { community, motion } => {
            let r: EditDone = c.post(
                &format!("{}/motions/enact", base(&community)?),
                &EnactRequest {
                    motion: motion.clone(),
                },
            )?;
            if js {
                json(&r)
            } else {
                crate::say!("enacted {motion}");
            }
        }
        MotionCmd::List { community } => {
            let v: Vec<Value> = c.get(&format!("{}/motions", base(&community)?))?;
            if js {
                json(&v);
            } else {
                let rows = v
                    .iter()
                    .map(|m| {
                        vec![
                            short(m["reference"].as_str().unwrap_or_default()),
                            m["does"].as_str().unwrap_or_default().to_string(),
                            if m["enacted"] == true {
                                "enacted".to_string()
                            } else {
                                m["tally_words"].as_str().unwrap_or_default().to_string()
                            },
                        ]
                    })
                    .collect::<Vec<_>>();
                table(&["motion", "does", "vote"], &rows);
            }
        }
    }
    Ok(())
}
