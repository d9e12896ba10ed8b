//! Dispatch, and the commands that talk to a running node.

use super::client::Client;
use super::ledger::LedgerCommand as L;
use super::output::{CliError, ExitCode, json, short, table};
use super::{Cli, Command, CommunityCmd};
use crate::config::DataDir;
use crate::dto::{
    Code, CommunitySummary, CreateCommunity, Created, DeviceLinked, DevicesRevoked, EditDone,
    EndorseRequest, EndorsementView, ExportDoc, IdentityInfo, InviteRequest, JoinRequest,
    LinkDevice, LoginLink, MemberStatus, NewPost, PeerInfo, RevokeDevice, Status, TrustEntry,
    TrustWhy,
};
use qun_crdt::{MemberView, PostView};
use serde_json::json as j;
use std::time::{Duration, Instant};

/// Run a command.
pub fn run(cli: Cli) -> Result<(), CliError> {
    let root = match &cli.data_dir {
        Some(d) => d.clone(),
        None => DataDir::default_root()?,
    };
    let dir = DataDir::new(root)?;
    let js = cli.json;
    match cli.command {
        Command::Init(a) => super::up::init(&dir, &a, js),
        Command::Up(a) => super::up::up(&dir, &a, js),
        Command::Repair => super::up::repair(&dir, js),
        Command::Restore(a) => super::ops::restore(&dir, &a, js),
        Command::Backup(a) => super::ops::backup(&Client::new(&dir)?, &a, js),
        Command::BackupPhrase(a) => super::up::backup_phrase(&dir, &a),
        Command::SwarmKey => {
            let key = libp2p::pnet::PreSharedKey::new(rand::random());
            crate::say!("{}", key.to_key_file().trim_end());
            Ok(())
        }
        Command::Device(super::DeviceCmd::Add { code }) => super::up::device_add(&dir, &code, js),
        other => {
            let c = Client::new(&dir)?;
            remote(&c, other, js)
        }
    }
}

/// Run a ledger command (`super::ledger`).
fn ledger(c: &Client, cmd: L, js: bool) -> Result<(), CliError> {
    super::ledger::run(c, cmd, js, |x| resolve(c, x))
}

/// Resolve a community by id, unique id prefix or exact name.
fn resolve(c: &Client, s: &str) -> Result<String, CliError> {
    let list: Vec<CommunitySummary> = c.get("/api/v1/communities")?;
    let hits: Vec<&CommunitySummary> = list
        .iter()
        .filter(|x| x.id == s || x.name == s || (s.len() >= 4 && x.id.starts_with(s)))
        .collect();
    match hits.as_slice() {
        [one] => Ok(one.id.clone()),
        [] => Err(CliError::new(
            ExitCode::NotFound,
            format!("no community {s:?}"),
            "see `qun community list`",
        )),
        _ => Err(CliError::new(
            ExitCode::Refused,
            format!("{s:?} matches {} communities", hits.len()),
            "use the full id",
        )),
    }
}

fn remote(c: &Client, cmd: Command, js: bool) -> Result<(), CliError> {
    match cmd {
        Command::Status => {
            let s: Status = c.get("/api/v1/status")?;
            if js {
                json(&s);
            } else {
                crate::say!("member     {}", s.member);
                crate::say!("device     {}", s.device);
                crate::say!("peer id    {}", s.peer_id);
                crate::say!("peers      {} connected", s.connected_peers);
                crate::say!("web        {}", c.url());
                for a in &s.listen_addrs {
                    crate::say!("listen     {a}");
                }
                for r in &s.relays {
                    crate::say!("relay      {r}");
                }
                crate::say!("dht        {} servers connected", s.dht_servers);
                crate::say!(
                    "traffic    gossip {} in / {} out, sync {} B in / {} B out",
                    s.traffic.gossip_in,
                    s.traffic.gossip_out,
                    s.traffic.sync_bytes_in,
                    s.traffic.sync_bytes_out
                );
                if let Some(e) = &s.store_error {
                    crate::say!("STORE ERROR {e}");
                }
                if s.catching_up {
                    crate::say!(
                        "restored   catching up with peers before writing (see `qun up --help`)"
                    );
                }
                crate::say!();
                print_communities(&s.communities);
                for j in &s.joining {
                    crate::say!("joining    {j}");
                }
            }
        }
        Command::Peers => {
            let p: Vec<PeerInfo> = c.get("/api/v1/peers")?;
            if js {
                json(&p);
            } else {
                let rows: Vec<Vec<String>> = p
                    .iter()
                    .map(|x| {
                        vec![
                            x.peer_id.clone(),
                            x.score.map(|s| format!("{s:.1}")).unwrap_or_default(),
                            x.communities
                                .iter()
                                .map(|c| short(c))
                                .collect::<Vec<_>>()
                                .join(","),
                        ]
                    })
                    .collect();
                table(&["peer", "score", "communities"], &rows);
            }
        }
        Command::Login => {
            let l: LoginLink = c.post("/api/v1/login-link", &j!({}))?;
            let url = format!("{}{}", c.url(), l.path);
            if js {
                json(&j!({ "url": url }));
            } else {
                crate::say!("{url}");
            }
        }
        Command::Community(CommunityCmd::Create {
            name,
            description,
            policy,
        }) => {
            let r: Created = c.post(
                "/api/v1/communities",
                &CreateCommunity {
                    name,
                    description,
                    policy,
                },
            )?;
            if js {
                json(&r);
            } else {
                crate::say!("created {}", r.id);
            }
        }
        Command::Community(CommunityCmd::List) => {
            let l: Vec<CommunitySummary> = c.get("/api/v1/communities")?;
            if js {
                json(&l);
            } else {
                print_communities(&l);
            }
        }
        Command::Community(CommunityCmd::Invite {
            community,
            invitee,
            valid_hours,
        }) => {
            let id = resolve(c, &community)?;
            let r: Code = c.post(
                &format!("/api/v1/communities/{id}/invite"),
                &InviteRequest {
                    invitee,
                    valid_hours: Some(valid_hours),
                },
            )?;
            if js {
                json(&r);
            } else {
                crate::say!("{}", r.code);
            }
        }
        Command::Community(CommunityCmd::Leave { community }) => {
            let id = resolve(c, &community)?;
            let r: EditDone = c.post(
                &format!("/api/v1/communities/{id}/leave"),
                &crate::dto::LeaveRequest {},
            )?;
            if js {
                json(&r);
            } else {
                crate::say!("left {id}");
            }
        }
        Command::Community(CommunityCmd::Join {
            code,
            no_wait,
            timeout,
        }) => {
            let r: Created = c.post("/api/v1/join", &JoinRequest { code })?;
            let id = r.id.clone();
            if no_wait {
                if js {
                    json(&r)
                } else {
                    crate::say!("joining {id}")
                }
                return Ok(());
            }
            let status = wait_joined(c, &id, Duration::from_secs(timeout), js)?;
            if js {
                json(&status);
            } else {
                crate::say!("{} {}: {}", status.status, status.name, status.id);
            }
        }
        Command::Dm(m) => super::dm::run(c, m, js)?,
        Command::Market(m) => super::market::run(c, m, js, |x| resolve(c, x))?,
        Command::Ledger(a) => ledger(c, L::Ledger(a), js)?,
        Command::Pay(a) => ledger(c, L::Pay(a), js)?,
        Command::Balance(a) => ledger(c, L::Balance(a), js)?,
        Command::Proposal(a) => ledger(c, L::Proposal(a), js)?,
        Command::Bounty(a) => ledger(c, L::Bounty(a), js)?,
        Command::Vote(a) => ledger(c, L::Vote(a), js)?,
        Command::Motion(m) => super::motion::run(c, m, js, |x| resolve(c, x))?,
        Command::Blobs(super::BlobsCmd::Gc) => {
            let r: crate::blobs::GcReport = c.post("/api/v1/blobs/gc", &serde_json::json!({}))?;
            if js {
                json(&r)
            } else {
                crate::say!(
                    "removed {} files ({} bytes); kept {}",
                    r.removed,
                    r.freed,
                    r.kept
                )
            }
        }
        Command::Post(a) => {
            let id = resolve(c, &a.community)?;
            let r: EditDone = c.post(
                &format!("/api/v1/communities/{id}/posts"),
                &NewPost {
                    channel: a.channel,
                    text: a.text,
                    reply_to: a.reply_to,
                },
            )?;
            if js {
                json(&r)
            } else {
                crate::say!("posted {}", r.post.unwrap_or(r.hash))
            }
        }
        Command::Search(a) => {
            let community = match &a.community {
                Some(x) => Some(resolve(c, x)?.to_string()),
                None => None,
            };
            let mut path = format!(
                "/api/v1/search?q={}&limit={}",
                crate::http::web::enc(&a.text.join(" ")),
                a.limit
            );
            if let Some(id) = &community {
                path.push_str(&format!("&community={id}"));
            }
            let found: crate::http::api::search::Found = c.get(&path)?;
            if js {
                json(&found);
            } else {
                for m in &found.members {
                    crate::say!("member {} in {}: {}", m.name, m.community_name, m.member);
                }
                for h in &found.posts {
                    let who = if h.author_name.is_empty() {
                        short(&h.author)
                    } else {
                        h.author_name.clone()
                    };
                    crate::say!("{who} #{}: {} [{}]", h.channel, h.excerpt, h.post);
                }
                if found.posts.is_empty() && found.members.is_empty() {
                    crate::say!("nothing found");
                }
            }
        }
        Command::Notifications(a) => {
            let n: crate::dto::Notifications =
                c.get(&format!("/api/v1/notifications?unread={}", a.unread))?;
            if js {
                json(&n);
            } else if n.items.is_empty() {
                crate::say!("no notifications");
            } else {
                for i in &n.items {
                    let what = match i.kind {
                        crate::dto::NotificationKind::Reply => "replied".to_string(),
                        crate::dto::NotificationKind::Mention => "mentioned you".to_string(),
                        crate::dto::NotificationKind::Reaction => {
                            format!("reacted {}", i.emoji.as_deref().unwrap_or(""))
                        }
                    };
                    crate::say!(
                        "{} {} {what} in {} #{}: {} [{}]",
                        if i.unread { "*" } else { " " },
                        i.by_name,
                        i.community_name,
                        i.channel,
                        i.excerpt,
                        i.post
                    );
                }
                crate::say!("{} unread", n.unread);
            }
            if a.mark_read {
                // The ones listed, not any that arrived since.
                let _: serde_json::Value = c.post(
                    "/api/v1/notifications/read",
                    &crate::dto::MarkRead {
                        ids: Some(n.items.iter().map(|i| i.id.clone()).collect()),
                    },
                )?;
            }
        }
        Command::Feed(a) => {
            let id = resolve(c, &a.community)?;
            let posts: Vec<PostView> = c.get(&format!(
                "/api/v1/communities/{id}/posts?channel={}&limit={}",
                a.channel, a.limit
            ))?;
            if js {
                json(&posts);
            } else {
                let members: Vec<MemberView> =
                    c.get(&format!("/api/v1/communities/{id}/members"))?;
                let name = |m: &qun_identity::MemberId| {
                    members
                        .iter()
                        .find(|x| x.member == *m)
                        .and_then(|x| x.profile.as_ref())
                        .map(|p| p.name.trim().to_string())
                        .filter(|n| !n.is_empty())
                        .unwrap_or_else(|| short(&m.to_string()))
                };
                for p in posts.iter().rev() {
                    let flag = if p.hidden.is_some() {
                        " [hidden]"
                    } else if p.deleted {
                        " [deleted]"
                    } else {
                        ""
                    };
                    let reply = p
                        .reply_to
                        .as_ref()
                        .map(|r| format!(" ↳ {r}"))
                        .unwrap_or_default();
                    crate::say!("{}  {}{reply}{flag}", name(&p.author), p.id);
                    for line in p.text.lines() {
                        crate::say!("    {line}");
                    }
                }
            }
        }
        Command::Members(a) => {
            let id = resolve(c, &a.community)?;
            let m: Vec<MemberView> = c.get(&format!("/api/v1/communities/{id}/members"))?;
            if js {
                json(&m);
            } else {
                let rows: Vec<Vec<String>> = m
                    .iter()
                    .map(|x| {
                        vec![
                            x.member.to_string(),
                            x.role.clone(),
                            x.profile
                                .as_ref()
                                .map(|p| p.name.clone())
                                .unwrap_or_default(),
                        ]
                    })
                    .collect();
                table(&["member", "role", "name"], &rows);
            }
        }
        Command::Endorse(a) => {
            let id = resolve(c, &a.community)?;
            let r: EditDone = c.post(
                &format!("/api/v1/communities/{id}/endorse"),
                &EndorseRequest {
                    member: a.member.clone(),
                    weight: a.weight,
                    topic: a.topic,
                    note: a.note,
                },
            )?;
            if js {
                json(&r)
            } else if a.weight == 0.0 {
                crate::say!("revoked your endorsement of {}", a.member)
            } else {
                crate::say!("endorsed {} ({:+})", a.member, a.weight)
            }
        }
        Command::Endorsements(a) => {
            let id = resolve(c, &a.community)?;
            let mut path = format!("/api/v1/communities/{id}/endorsements?all={}", a.all);
            if let Some(m) = &a.member {
                path.push_str(&format!("&member={m}"));
            }
            let l: Vec<EndorsementView> = c.get(&path)?;
            if js {
                json(&l);
            } else {
                let rows: Vec<Vec<String>> = l
                    .iter()
                    .map(|e| {
                        vec![
                            short(&e.from),
                            short(&e.to),
                            format!("{:+.2}", e.weight),
                            e.topic.clone(),
                            e.note.clone(),
                        ]
                    })
                    .collect();
                table(&["from", "to", "weight", "topic", "note"], &rows);
            }
        }
        Command::Identity => {
            let i: IdentityInfo = c.get("/api/v1/identity")?;
            if js {
                json(&i);
            } else {
                crate::say!("member     {}", i.member);
                crate::say!("device     {}", i.device);
                crate::say!("peer id    {}", i.peer_id);
                crate::say!(
                    "root key   {}",
                    if i.holds_root {
                        "on this device"
                    } else {
                        "not on this device"
                    }
                );
                if let Some(cert) = &i.device_cert {
                    crate::say!("device     {:?} may {}", cert.label, cert.capabilities);
                }
                if !i.community_devices.is_empty() {
                    crate::say!();
                    let rows: Vec<Vec<String>> = i
                        .community_devices
                        .iter()
                        .map(|d| {
                            vec![
                                short(&d.community),
                                d.device.clone(),
                                d.capabilities.clone(),
                                if d.revoked {
                                    "revoked".into()
                                } else {
                                    "linked".into()
                                },
                            ]
                        })
                        .collect();
                    table(&["community", "device", "may", "state"], &rows);
                }
            }
        }
        Command::Trust(a) => {
            let id = resolve(c, &a.community)?;
            match a.member {
                Some(m) => {
                    let w: TrustWhy = c.get(&format!("/api/v1/communities/{id}/trust/{m}"))?;
                    if js {
                        json(&w);
                    } else {
                        crate::say!(
                            "{} score {:.4}{}",
                            w.member,
                            w.score,
                            w.admitted
                                .map(|x| if x { " (admitted)" } else { " (not admitted)" })
                                .unwrap_or("")
                        );
                        let rows: Vec<Vec<String>> = w
                            .endorsers
                            .iter()
                            .map(|(f, wt, share)| {
                                vec![
                                    f.clone(),
                                    format!("{wt:.2}"),
                                    format!("{:.0}%", share * 100.0),
                                ]
                            })
                            .collect();
                        table(&["endorser", "weight", "share"], &rows);
                        for (p, s) in &w.paths {
                            crate::say!(
                                "path {:.4}: {}",
                                s,
                                p.iter().map(|x| short(x)).collect::<Vec<_>>().join(" → ")
                            );
                        }
                    }
                }
                None => {
                    let l: Vec<TrustEntry> =
                        c.get(&format!("/api/v1/communities/{id}/trust?top={}", a.top))?;
                    if js {
                        json(&l);
                    } else {
                        let rows: Vec<Vec<String>> = l
                            .iter()
                            .map(|x| {
                                vec![
                                    x.rank.to_string(),
                                    x.member.clone(),
                                    format!("{:.4}", x.score),
                                    if x.is_member {
                                        "member".into()
                                    } else {
                                        "outsider".into()
                                    },
                                ]
                            })
                            .collect();
                        table(&["rank", "member", "score", "status"], &rows);
                    }
                }
            }
        }
        Command::Export(a) => {
            let id = resolve(c, &a.community)?;
            let docs: Vec<ExportDoc> = c.get(&format!("/api/v1/communities/{id}/export"))?;
            std::fs::create_dir_all(&a.out).map_err(|e| {
                CliError::new(
                    ExitCode::Error,
                    format!("{}: {e}", a.out.display()),
                    "check the path",
                )
            })?;
            let mut written = Vec::new();
            for d in docs {
                let name = d.doc.replace('/', "_");
                let bytes = data_encoding::BASE64
                    .decode(d.automerge.as_bytes())
                    .map_err(|e| {
                        CliError::new(
                            ExitCode::Error,
                            e.to_string(),
                            "node and CLI versions differ?",
                        )
                    })?;
                let path = a.out.join(format!("{name}.automerge"));
                std::fs::write(&path, bytes).map_err(|e| {
                    CliError::new(
                        ExitCode::Error,
                        format!("{}: {e}", path.display()),
                        "check the path",
                    )
                })?;
                written.push(path.display().to_string());
            }
            if js {
                json(&written)
            } else {
                for w in written {
                    crate::say!("{w}")
                }
            }
        }
        Command::Device(super::DeviceCmd::Link { device, label }) => {
            let r: DeviceLinked = c.post("/api/v1/devices/link", &LinkDevice { device, label })?;
            if js {
                json(&r);
            } else {
                crate::say!("{}", r.code);
                eprintln!(
                    "on the new device (node stopped): qun device add <this code>, then qun up"
                );
            }
        }
        Command::Device(super::DeviceCmd::Revoke { device, reason }) => {
            let r: DevicesRevoked = c.post(
                "/api/v1/devices/revoke",
                &RevokeDevice {
                    device: device.clone(),
                    reason,
                },
            )?;
            if js {
                json(&r);
            } else {
                crate::say!("revoked {device} in {} communities", r.communities);
            }
        }
        Command::Init(_)
        | Command::Up(_)
        | Command::Backup(_)
        | Command::Restore(_)
        | Command::Repair
        | Command::BackupPhrase(_)
        | Command::SwarmKey
        | Command::Device(super::DeviceCmd::Add { .. }) => {}
    }
    Ok(())
}

fn print_communities(l: &[CommunitySummary]) {
    let rows: Vec<Vec<String>> = l
        .iter()
        .map(|x| {
            vec![
                x.id.clone(),
                x.name.clone(),
                x.status.to_string(),
                x.members.to_string(),
                x.peers.to_string(),
                x.policy.clone(),
            ]
        })
        .collect();
    table(&["id", "name", "you", "members", "peers", "policy"], &rows);
}

/// Wait with a spinner while the join of `id` progresses, saying what it waits for; done when
/// we are a member or have asked to join (admission may then take a moderator's decision).
/// A refusal that stays for two seconds, or the timeout, ends it with one line and a hint.
fn wait_joined(
    c: &Client,
    id: &str,
    timeout: Duration,
    js: bool,
) -> Result<CommunitySummary, CliError> {
    use qun_crdt::JoinProgress as P;
    let bar = if js {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new_spinner()
    };
    bar.enable_steady_tick(Duration::from_millis(120));
    let start = Instant::now();
    let mut refused_since: Option<Instant> = None;
    let mut last = P::Connecting;
    loop {
        let s: Status = c.get("/api/v1/status")?;
        let summary = s.communities.iter().find(|x| x.id == id).cloned();
        let progress = s
            .joins
            .iter()
            .find(|j| j.id == id)
            .map(|j| j.progress.clone());
        match (&progress, &summary) {
            (None, Some(x)) if x.status != MemberStatus::Outsider => {
                bar.finish_and_clear();
                return Ok(x.clone());
            }
            (Some(P::Member), Some(x)) | (Some(P::Waiting { .. }), Some(x)) => {
                bar.finish_and_clear();
                return Ok(x.clone());
            }
            (None, _) => {
                bar.finish_and_clear();
                return Err(CliError::new(
                    ExitCode::Error,
                    "the join was cancelled",
                    "join again with the invite code",
                ));
            }
            _ => {}
        }
        if let Some(p) = &progress {
            last = p.clone();
            bar.set_message(match p {
                P::Connecting => format!(
                    "connecting to the inviter and looking for members ({} peers connected)",
                    s.connected_peers
                ),
                P::Fetching { peers } => format!("fetching the community from {peers} peers"),
                P::CatchingUp { changes, peers } => {
                    format!("catching up: {changes} changes from {peers} peers")
                }
                P::Waiting { policy } => format!("waiting for admission ({policy})"),
                P::Member => "member".into(),
                P::Refused { reason, .. } => reason.clone(),
            });
            if let P::Refused { reason, hint } = p {
                let since = *refused_since.get_or_insert_with(Instant::now);
                if since.elapsed() > Duration::from_secs(2) {
                    bar.finish_and_clear();
                    return Err(CliError::new(
                        ExitCode::Refused,
                        reason.clone(),
                        hint.clone(),
                    ));
                }
            } else {
                refused_since = None;
            }
        }
        if start.elapsed() > timeout {
            bar.finish_and_clear();
            let (why, hint) = match last {
                P::Connecting => (
                    "could not reach the inviter or any member".to_string(),
                    "check the inviter's node is up and reachable (the code names its addresses); the node keeps trying — see `qun status`",
                ),
                P::Fetching { peers } => (
                    format!("{peers} peers were reached but none sent the community"),
                    "they may not hold it any more, or not let this node read it; ask for a new invite code",
                ),
                P::CatchingUp { changes, .. } => (
                    format!("still catching up ({changes} changes so far)"),
                    "the node keeps going in the background; check `qun status` later",
                ),
                _ => (
                    "not admitted".to_string(),
                    "the node keeps trying in the background; check `qun status` later",
                ),
            };
            return Err(CliError::new(
                ExitCode::Error,
                format!("{why} after {}s", timeout.as_secs()),
                hint,
            ));
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}
