//! `qun dm …`: end-to-end encrypted direct messages through the node's API (`/api/v1/dm`).

use super::client::Client;
use super::output::{CliError, ExitCode, json, short, table};
use crate::dto::{Conversation, DmMessage, DmSent, SendDm};
use clap::Subcommand;

/// Direct messages.
#[derive(Subcommand, Debug)]
pub enum DmCmd {
    /// Send TEXT to MEMBER (a member of a community you share), end-to-end encrypted to each
    /// of their devices and your other devices.
    Send {
        /// Member id (z6Mk…), or the name of someone you have a conversation with.
        member: String,
        /// The message.
        text: String,
    },
    /// Conversations, the latest first, with unread counts.
    List,
    /// Read the conversation with MEMBER (marks it read).
    Read {
        /// Member id (z6Mk…), or the name of someone you have a conversation with.
        member: String,
    },
}

/// A member id, or the name of a conversation's member.
fn resolve(c: &Client, s: &str) -> Result<String, CliError> {
    if crate::dto::parse::member(s).is_ok() {
        return Ok(s.to_string());
    }
    let list: Vec<Conversation> = c.get("/api/v1/dm")?;
    let hits: Vec<&Conversation> = list
        .iter()
        .filter(|x| x.name.as_deref() == Some(s))
        .collect();
    match hits.as_slice() {
        [one] => Ok(one.member.to_string()),
        [] => Err(CliError::new(
            ExitCode::NotFound,
            format!("no member {s:?}"),
            "use the member id (see `qun members COMMUNITY`)",
        )),
        _ => Err(CliError::new(
            ExitCode::Refused,
            format!("{s:?} names {} members", hits.len()),
            "use the member id",
        )),
    }
}

/// Run a `qun dm` command.
pub fn run(c: &Client, cmd: DmCmd, js: bool) -> Result<(), CliError> {
    match cmd {
        DmCmd::Send { member, text } => {
            let m = resolve(c, &member)?;
            let sent: DmSent = c.post(&format!("/api/v1/dm/{m}"), &SendDm { text })?;
            if js {
                json(&sent);
            } else {
                crate::say!(
                    "sent to {} device(s): {} directly, {} to peers that keep it for devices not connected",
                    sent.devices,
                    sent.direct,
                    sent.stored
                );
            }
        }
        DmCmd::List => {
            let list: Vec<Conversation> = c.get("/api/v1/dm")?;
            if js {
                json(&list);
            } else if list.is_empty() {
                crate::say!("no conversations");
            } else {
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|x| {
                        vec![
                            x.member.to_string(),
                            x.name.clone().unwrap_or_default(),
                            x.unread.to_string(),
                            x.messages.to_string(),
                        ]
                    })
                    .collect();
                table(&["MEMBER", "NAME", "UNREAD", "MESSAGES"], &rows);
            }
        }
        DmCmd::Read { member } => {
            let m = resolve(c, &member)?;
            let msgs: Vec<DmMessage> = c.get(&format!("/api/v1/dm/{m}"))?;
            if js {
                json(&msgs);
            } else if msgs.is_empty() {
                crate::say!("no messages");
            } else {
                for x in &msgs {
                    let who = if x.from_me {
                        "me".to_string()
                    } else {
                        short(&m)
                    };
                    crate::say!("{who}: {}", x.text);
                }
            }
        }
    }
    Ok(())
}
