//! A scenario's nodes on one [`Net`]: starting them (each dials every node started before it),
//! one community they all join, what each node shows (posts, members, channels, document
//! heads), waiting for them to agree, and what was acknowledged.

use super::net::Net;
use super::node::{Api, ApiError, Node};
use super::rng::Rng;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Polling interval while waiting for a condition.
pub const POLL: Duration = Duration::from_millis(200);

pub struct Cluster {
    /// Dropped first: every process ends before its namespace goes.
    pub nodes: Vec<Node>,
    pub net: Net,
    pub scenario: &'static str,
    pub community: String,
    pub rng: Rng,
    pub base: PathBuf,
    tmp: Option<tempfile::TempDir>,
    /// tmpfs mounts to unmount at the end.
    pub mounts: Vec<PathBuf>,
}

impl Cluster {
    /// A cluster with no nodes yet, or `None` (after saying why) where namespaces cannot be
    /// made. `impair`: the scenario cuts or shapes links.
    pub fn new(scenario: &'static str, impair: bool) -> Option<Cluster> {
        let seed = Rng::seed();
        let net = match Net::new(impair, seed) {
            Ok(n) => n,
            Err(why) => {
                super::skip(scenario, &why);
                return None;
            }
        };
        let tmp = tempfile::Builder::new()
            .prefix(&format!("qun-chaos-{scenario}-"))
            .tempdir()
            .unwrap();
        let base = tmp.path().to_path_buf();
        std::fs::create_dir_all(base.join("logs")).unwrap();
        crate::say!(
            "chaos[{scenario}]: seed {seed} (QUN_CHAOS_SEED), {} mode, network {}{}, logs {}",
            if super::long() { "long" } else { "short" },
            net.tag,
            net.backend()
                .map(|b| format!(", impairments by {b}"))
                .unwrap_or_default(),
            base.join("logs").display()
        );
        Some(Cluster {
            nodes: Vec::new(),
            net,
            scenario,
            community: String::new(),
            rng: Rng::new(seed),
            base,
            tmp: Some(tmp),
            mounts: Vec::new(),
        })
    }

    /// Say something about the run (shown by `cargo test` even when the test passes).
    pub fn report(&self, line: &str) {
        crate::say!("chaos[{}]: {line}", self.scenario);
        if let Ok(path) = std::env::var("QUN_CHAOS_REPORT") {
            use std::io::Write;
            if let Ok(mut f) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
            {
                let _ = writeln!(f, "{}\t{line}", self.scenario);
            }
        }
    }

    /// A node (not started) with its data directory under the run's directory.
    pub fn add_node(&mut self) -> usize {
        let dir = self.base.join(format!("n{}", self.nodes.len()));
        self.add_node_at(dir)
    }

    /// A node (not started) with its data directory at `dir`.
    pub fn add_node_at(&mut self, dir: PathBuf) -> usize {
        let i = self.net.add_node();
        assert_eq!(i, self.nodes.len());
        let name = format!("n{i}");
        let log = self.base.join("logs").join(format!("{name}.log"));
        self.nodes.push(Node::new(
            name,
            self.net.ns(i).to_string(),
            self.net.ip(i),
            dir,
            log,
        ));
        i
    }

    /// Start node `i`, dialling every other node that has run before.
    pub async fn start(&mut self, i: usize) {
        let dial: Vec<String> = self
            .nodes
            .iter()
            .enumerate()
            .filter(|(j, n)| *j != i && !n.peer_id.is_empty())
            .map(|(_, n)| n.addr())
            .collect();
        self.nodes[i].dial = dial;
        if let Err(e) = self.nodes[i].start().await {
            panic!("chaos[{}]: {e}", self.scenario);
        }
    }

    pub fn api(&self, i: usize) -> Api {
        self.nodes[i].api()
    }

    /// `n` nodes started one after the other; node 0 founds a community (`invite` policy) and
    /// invites the others, who join; returns once every node shows every member.
    pub async fn community(&mut self, n: usize) {
        self.community_env(vec![Vec::new(); n]).await;
    }

    /// [`Cluster::community`] with extra environment for each node.
    pub async fn community_env(&mut self, envs: Vec<Vec<(String, String)>>) {
        let n = envs.len();
        for env in envs {
            let i = self.add_node();
            self.nodes[i].env = env;
            self.start(i).await;
        }
        self.found(0).await;
        for i in 1..n {
            self.join(i, 0).await;
        }
        let all: Vec<usize> = (0..n).collect();
        self.wait_members(&all, n).await;
    }

    /// Node `f` creates the community.
    pub async fn found(&mut self, f: usize) {
        let r = self
            .api(f)
            .post(
                "/api/v1/communities",
                json!({"name": format!("chaos {}", self.scenario), "policy": "invite"}),
            )
            .await
            .unwrap_or_else(|e| panic!("creating the community: {e}"));
        self.community = r["id"].as_str().unwrap().to_string();
    }

    /// Node `i` joins with an invitation from `inviter` and waits until it is a member.
    pub async fn join(&mut self, i: usize, inviter: usize) {
        join_via(
            &self.api(inviter),
            &self.api(i),
            &self.community,
            Duration::from_secs(60),
        )
        .await
        .unwrap_or_else(|e| panic!("{} joining: {e}", self.nodes[i].name));
    }

    /// Wait until each of `idx` lists `count` members.
    pub async fn wait_members(&self, idx: &[usize], count: usize) {
        for &i in idx {
            let (api, c) = (self.api(i), self.community.clone());
            let what = format!("{} sees {count} members", self.nodes[i].name);
            wait(&what, Duration::from_secs(60), || {
                let (api, c) = (api.clone(), c.clone());
                async move {
                    api.get(&format!("/api/v1/communities/{c}/members"))
                        .await
                        .ok()
                        .and_then(|m| m.as_array().map(|a| a.len()))
                        == Some(count)
                }
            })
            .await;
        }
    }

    /// Node `i`'s view of the community.
    pub async fn view(&self, i: usize) -> Result<View, ApiError> {
        view(&self.api(i), &self.community).await
    }

    /// Wait until every node of `idx` shows the same view; how long that took. Panics after
    /// `timeout` with what differs.
    pub async fn converge(&self, idx: &[usize], timeout: Duration) -> Duration {
        self.try_converge(&self.community, idx, timeout)
            .await
            .unwrap_or_else(|e| panic!("chaos[{}]: {e}", self.scenario))
    }

    /// Wait until every node of `idx` shows the same view of community `c`; how long that
    /// took, or (after `timeout`) what differs.
    pub async fn try_converge(
        &self,
        c: &str,
        idx: &[usize],
        timeout: Duration,
    ) -> Result<Duration, String> {
        let start = Instant::now();
        let apis: Vec<Api> = idx.iter().map(|&i| self.api(i)).collect();
        loop {
            if let Ok(views) = views(&apis, c).await
                && views.windows(2).all(|w| w[0] == w[1])
            {
                return Ok(start.elapsed());
            }
            if start.elapsed() > timeout {
                let names: Vec<String> = idx.iter().map(|&i| self.nodes[i].name.clone()).collect();
                let diff = match views(&apis, c).await {
                    Ok(v) => describe_difference(&names, &v),
                    Err(e) => format!("a view could not be read: {e}"),
                };
                return Err(format!(
                    "{} did not converge within {timeout:?}:\n{diff}\nlogs: {}",
                    names.join(", "),
                    self.base.join("logs").display()
                ));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// `rejected` events every node reported, by node name (with the error texts).
    pub fn rejections(&self) -> BTreeMap<String, Vec<String>> {
        self.nodes
            .iter()
            .map(|n| {
                (
                    n.name.clone(),
                    n.events_of("rejected")
                        .iter()
                        .map(|e| format!("{} (from {})", e["error"], e["peer"]))
                        .collect(),
                )
            })
            .filter(|(_, v): &(String, Vec<String>)| !v.is_empty())
            .collect()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for n in &mut self.nodes {
            n.kill9();
        }
        for m in &self.mounts {
            let _ = super::net::cmd("umount", &["-l", &m.display().to_string()]);
        }
        if std::thread::panicking()
            && let Some(t) = self.tmp.take()
        {
            let kept = t.keep();
            crate::say!(
                "chaos[{}]: failed; data directories and logs kept in {}",
                self.scenario,
                kept.display()
            );
        }
    }
}

/// Poll `check` until it holds; panics after `timeout`.
pub async fn wait<F, Fut>(what: &str, timeout: Duration, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if check().await {
            return start.elapsed();
        }
        if start.elapsed() > timeout {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(POLL).await;
    }
}

/// `joiner` joins community `c` with an invitation from `inviter`; how long until it was a
/// member, or why not.
pub async fn join_via(
    inviter: &Api,
    joiner: &Api,
    c: &str,
    timeout: Duration,
) -> Result<Duration, String> {
    let code = inviter
        .post(&format!("/api/v1/communities/{c}/invite"), json!({}))
        .await
        .map_err(|e| format!("invite: {e}"))?["code"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let start = Instant::now();
    joiner
        .post("/api/v1/join", json!({"code": code}))
        .await
        .map_err(|e| format!("join: {e}"))?;
    loop {
        let st = my_status(joiner, c).await;
        if st.starts_with("member") {
            return Ok(start.elapsed());
        }
        if start.elapsed() > timeout {
            return Err(format!("not admitted after {timeout:?} (status {st:?})"));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Our status in the community as the node says (`member:<role>`, `removed`…).
pub async fn my_status(api: &Api, c: &str) -> String {
    api.get("/api/v1/communities")
        .await
        .ok()
        .and_then(|l| {
            l.as_array()?
                .iter()
                .find(|x| x["id"] == c)
                .map(|x| x["status"].as_str().unwrap_or("").to_string())
        })
        .unwrap_or_default()
}

/// What a node shows of a community.
#[derive(Clone, Debug, PartialEq)]
pub struct View {
    /// Every post of every channel (replies included), by id, as the API returns it.
    pub posts: BTreeMap<String, Value>,
    /// Members by id: role and profile.
    pub members: BTreeMap<String, Value>,
    pub channels: Value,
    pub policy: String,
    /// Heads of every Automerge document, by document.
    pub heads: BTreeMap<String, Vec<String>>,
}

impl View {
    pub fn post_by_text(&self, text: &str) -> Option<&Value> {
        self.posts.values().find(|p| p["text"] == text)
    }
}

/// Every post of a channel, all pages.
pub async fn all_posts(api: &Api, c: &str, channel: &str) -> Result<Vec<Value>, ApiError> {
    let mut out: BTreeMap<String, Value> = BTreeMap::new();
    let mut before: Option<u64> = None;
    loop {
        let q = match before {
            Some(b) => format!("&before={b}"),
            None => String::new(),
        };
        let page = api
            .get(&format!(
                "/api/v1/communities/{c}/posts?channel={channel}&limit=500{q}"
            ))
            .await?;
        let page = page.as_array().cloned().unwrap_or_default();
        let full = page.len() == 500;
        let mut new = 0;
        let mut oldest = u64::MAX;
        for p in page {
            oldest = oldest.min(p["created"].as_u64().unwrap_or(0));
            if out
                .insert(p["id"].as_str().unwrap_or("").to_string(), p)
                .is_none()
            {
                new += 1;
            }
        }
        if !full || new == 0 {
            break;
        }
        // Posts at the boundary's millisecond come again; duplicates are dropped by id.
        before = Some(oldest.saturating_add(1));
    }
    Ok(out.into_values().collect())
}

/// The heads of every document of the community's export.
pub async fn heads(api: &Api, c: &str) -> Result<BTreeMap<String, Vec<String>>, ApiError> {
    use data_encoding::BASE64;
    let docs = api.get(&format!("/api/v1/communities/{c}/export")).await?;
    let mut out = BTreeMap::new();
    for d in docs.as_array().cloned().unwrap_or_default() {
        let bytes = BASE64
            .decode(d["automerge"].as_str().unwrap_or("").as_bytes())
            .map_err(|e| ApiError {
                status: None,
                message: format!("export: {e}"),
            })?;
        let doc = automerge::Automerge::load(&bytes).map_err(|e| ApiError {
            status: None,
            message: format!("export does not load: {e}"),
        })?;
        let mut h: Vec<String> = doc.get_heads().iter().map(|h| h.to_string()).collect();
        h.sort();
        out.insert(d["doc"].as_str().unwrap_or("").to_string(), h);
    }
    Ok(out)
}

pub async fn view(api: &Api, c: &str) -> Result<View, ApiError> {
    let info = api.get(&format!("/api/v1/communities/{c}")).await?;
    let mut posts = BTreeMap::new();
    for ch in info["channels"].as_array().cloned().unwrap_or_default() {
        let id = ch["id"].as_str().unwrap_or("general");
        for p in all_posts(api, c, id).await? {
            posts.insert(p["id"].as_str().unwrap_or("").to_string(), p);
        }
    }
    let members = api
        .get(&format!("/api/v1/communities/{c}/members"))
        .await?
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|m| (m["member"].as_str().unwrap_or("").to_string(), m))
        .collect();
    Ok(View {
        posts,
        members,
        channels: info["channels"].clone(),
        policy: info["policy"].as_str().unwrap_or("").to_string(),
        heads: heads(api, c).await?,
    })
}

async fn views(apis: &[Api], c: &str) -> Result<Vec<View>, ApiError> {
    let mut out = Vec::new();
    for a in apis {
        out.push(view(a, c).await?);
    }
    Ok(out)
}

/// What differs between views, briefly.
pub fn describe_difference(names: &[String], views: &[View]) -> String {
    let mut s = String::new();
    let all_posts: BTreeSet<&String> = views.iter().flat_map(|v| v.posts.keys()).collect();
    for (n, v) in names.iter().zip(views) {
        let missing: Vec<&&String> = all_posts
            .iter()
            .filter(|p| !v.posts.contains_key(**p))
            .collect();
        let differing: Vec<&String> = v
            .posts
            .iter()
            .filter(|(k, p)| views[0].posts.get(*k).is_some_and(|q| q != *p))
            .map(|(k, _)| k)
            .collect();
        s += &format!(
            "  {n}: {} posts ({} of the union missing, e.g. {:?}; {} differ from {}'s, e.g. {:?}), {} members {:?}, policy {}, {} docs, heads {}\n",
            v.posts.len(),
            missing.len(),
            missing.iter().take(3).collect::<Vec<_>>(),
            differing.len(),
            names[0],
            differing
                .iter()
                .take(2)
                .map(|k| (k, &v.posts[*k]))
                .collect::<Vec<_>>(),
            v.members.len(),
            v.members
                .values()
                .map(|m| format!(
                    "{}…:{}",
                    &m["member"].as_str().unwrap_or("")
                        [..12.min(m["member"].as_str().unwrap_or("").len())],
                    m["role"].as_str().unwrap_or("")
                ))
                .collect::<Vec<_>>(),
            v.policy,
            v.heads.len(),
            if v.heads == views[0].heads {
                "= first".to_string()
            } else {
                format!(
                    "differ in {:?}",
                    v.heads
                        .iter()
                        .filter(|(d, h)| views[0].heads.get(*d) != Some(h))
                        .map(|(d, _)| d)
                        .chain(views[0].heads.keys().filter(|d| !v.heads.contains_key(*d)))
                        .collect::<Vec<_>>()
                )
            }
        );
    }
    s
}

/// An acknowledged write.
#[derive(Clone, Debug)]
pub enum Ack {
    /// A post: who wrote it (node index), its text, id, change hash, and when it was
    /// acknowledged (seconds since `epoch()`).
    Post {
        node: usize,
        text: String,
        id: String,
        hash: String,
        at: f64,
    },
    /// A reaction by `node` on `post`.
    React {
        node: usize,
        post: String,
        emoji: String,
    },
}

/// Every acknowledged write of a run, shared by its load tasks.
#[derive(Clone, Default)]
pub struct Ledger(pub Arc<Mutex<Vec<Ack>>>);

impl Ledger {
    pub fn push(&self, a: Ack) {
        self.0.lock().unwrap().push(a);
    }

    pub fn all(&self) -> Vec<Ack> {
        self.0.lock().unwrap().clone()
    }

    /// Acknowledged writes per node.
    pub fn per_node(&self) -> BTreeMap<usize, usize> {
        let mut m = BTreeMap::new();
        for a in self.all() {
            let (Ack::Post { node, .. } | Ack::React { node, .. }) = a;
            *m.entry(node).or_default() += 1;
        }
        m
    }

    pub fn posts(&self) -> usize {
        self.all()
            .iter()
            .filter(|a| matches!(a, Ack::Post { .. }))
            .count()
    }

    /// Acknowledged writes missing from `v`, leaving out those of `void_authors` (nodes whose
    /// concurrent writes a removal voids) and reactions on posts `v` does not show.
    pub fn lost(&self, v: &View, members: &[String], void_authors: &[usize]) -> Vec<Ack> {
        self.all()
            .into_iter()
            .filter(|a| match a {
                Ack::Post { node, id, text, .. } => {
                    !void_authors.contains(node)
                        && v.posts.get(id).is_none_or(|p| p["text"] != *text)
                }
                Ack::React { node, post, emoji } => {
                    !void_authors.contains(node)
                        && v.posts.get(post).is_some_and(|p| {
                            !p["reactions"][emoji]
                                .as_array()
                                .is_some_and(|who| who.iter().any(|m| m == &members[*node]))
                        })
                }
            })
            .collect()
    }
}

/// Post `text` in `general` on `api`; the post id and the change hash.
pub async fn post(api: &Api, c: &str, text: &str) -> Result<(String, String), ApiError> {
    let r = api
        .post(
            &format!("/api/v1/communities/{c}/posts"),
            json!({ "text": text }),
        )
        .await?;
    Ok((
        r["post"].as_str().unwrap_or("").to_string(),
        r["hash"].as_str().unwrap_or("").to_string(),
    ))
}

/// Background load: every `every` (±50 %), a random running node of `nodes` posts (70 %) or
/// reacts to a post it shows (30 %); acknowledged writes go into the ledger. Errors are
/// counted, not fatal (nodes go down in some scenarios). Stops when `stop` is set.
pub struct Load {
    pub stop: Arc<std::sync::atomic::AtomicBool>,
    paused: Arc<std::sync::atomic::AtomicBool>,
    busy: Arc<std::sync::atomic::AtomicBool>,
    held: Arc<Mutex<BTreeSet<usize>>>,
    pub ledger: Ledger,
    pub errors: Arc<Mutex<BTreeMap<String, usize>>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Load {
    pub fn start(
        label: &str,
        nodes: Vec<(usize, Arc<Mutex<Option<Api>>>)>,
        c: &str,
        every: Duration,
        mut rng: Rng,
    ) -> Load {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let paused = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let busy = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let held: Arc<Mutex<BTreeSet<usize>>> = Arc::default();
        let ledger = Ledger::default();
        let errors: Arc<Mutex<BTreeMap<String, usize>>> = Arc::default();
        let task = {
            let (stop, paused, busy, held, ledger, errors, c, label) = (
                stop.clone(),
                paused.clone(),
                busy.clone(),
                held.clone(),
                ledger.clone(),
                errors.clone(),
                c.to_string(),
                label.to_string(),
            );
            tokio::spawn(async move {
                let mut k = 0u64;
                use std::sync::atomic::Ordering::SeqCst;
                let emojis = ["👍", "🎉", "❤", "👀"];
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    let ms = every.as_millis() as u64;
                    tokio::time::sleep(Duration::from_millis(rng.range(ms / 2, ms + ms / 2))).await;
                    let (i, slot) = &nodes[rng.below(nodes.len())];
                    busy.store(true, SeqCst);
                    if paused.load(SeqCst) || held.lock().unwrap().contains(i) {
                        busy.store(false, SeqCst);
                        continue;
                    }
                    let Some(api) = slot.lock().unwrap().clone() else {
                        busy.store(false, SeqCst);
                        continue;
                    };
                    k += 1;
                    let _idle = Idle(&busy);
                    if rng.chance(0.7) {
                        let text = format!("{label} n{i} #{k}");
                        match post(&api, &c, &text).await {
                            Ok((id, hash)) => ledger.push(Ack::Post {
                                node: *i,
                                text,
                                id,
                                hash,
                                at: crate::now_s(),
                            }),
                            Err(e) => {
                                *errors.lock().unwrap().entry(e.to_string()).or_default() += 1
                            }
                        }
                    } else {
                        let Ok(recent) = api
                            .get(&format!("/api/v1/communities/{c}/posts?limit=20"))
                            .await
                        else {
                            continue;
                        };
                        let recent = recent.as_array().cloned().unwrap_or_default();
                        if recent.is_empty() {
                            continue;
                        }
                        let p = recent[rng.below(recent.len())]["id"]
                            .as_str()
                            .unwrap_or("")
                            .to_string();
                        let emoji = emojis[rng.below(emojis.len())].to_string();
                        match api
                            .post(
                                &format!("/api/v1/communities/{c}/posts/react"),
                                json!({"post": p, "emoji": emoji}),
                            )
                            .await
                        {
                            Ok(_) => ledger.push(Ack::React {
                                node: *i,
                                post: p,
                                emoji,
                            }),
                            Err(e) => {
                                *errors.lock().unwrap().entry(e.to_string()).or_default() += 1
                            }
                        }
                    }
                }
            })
        };
        Load {
            stop,
            paused,
            busy,
            held,
            ledger,
            errors,
            task: Some(task),
        }
    }

    /// Stop writing (returns once no write is in flight).
    pub async fn pause(&self) {
        use std::sync::atomic::Ordering::SeqCst;
        self.paused.store(true, SeqCst);
        while self.busy.load(SeqCst) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Node `i` writes nothing more (returns once no write is in flight).
    pub async fn hold(&self, i: usize) {
        self.held.lock().unwrap().insert(i);
        while self.busy.load(std::sync::atomic::Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    pub fn resume(&self) {
        self.paused
            .store(false, std::sync::atomic::Ordering::SeqCst);
    }

    /// Stop and wait for the task.
    pub async fn finish(mut self) -> (Ledger, BTreeMap<String, usize>) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
        let errors = self.errors.lock().unwrap().clone();
        (self.ledger.clone(), errors)
    }
}

/// Clears the load's busy flag when a write is over (however it ends).
struct Idle<'a>(&'a std::sync::atomic::AtomicBool);

impl Drop for Idle<'_> {
    fn drop(&mut self) {
        self.0.store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

/// How acknowledged posts reached other nodes, from their `change` events.
#[derive(Debug, Default)]
pub struct Delivery {
    /// Seconds from the author's acknowledgement to the receiver's event, per (post, receiver).
    pub latencies: Vec<f64>,
    /// Events per origin (`gossip`, `sync`).
    pub by_origin: BTreeMap<String, usize>,
    /// (post, receiver) pairs with no event (the post came while the receiver was down, or
    /// its event stream lagged).
    pub unseen: usize,
}

impl Delivery {
    pub fn of(ledger: &Ledger, nodes: &[Node], receivers: &[usize]) -> Delivery {
        let mut d = Delivery::default();
        for &r in receivers {
            let mut seen: BTreeMap<String, (f64, String)> = BTreeMap::new();
            for e in nodes[r].events_of("change") {
                if let Some(h) = e["hash"].as_str() {
                    seen.entry(h.to_string()).or_insert((
                        e["_t"].as_f64().unwrap_or(0.0),
                        e["origin"].as_str().unwrap_or("").to_string(),
                    ));
                }
            }
            for a in ledger.all() {
                let Ack::Post { node, hash, at, .. } = a else {
                    continue;
                };
                if node == r {
                    continue;
                }
                match seen.get(&hash) {
                    Some((t, origin)) => {
                        d.latencies.push((t - at).max(0.0));
                        *d.by_origin.entry(origin.clone()).or_default() += 1;
                    }
                    None => d.unseen += 1,
                }
            }
        }
        d.latencies.sort_by(|a, b| a.total_cmp(b));
        d
    }

    /// The `p`-th percentile latency (0..=100), seconds.
    pub fn pct(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let i = ((p / 100.0) * (self.latencies.len() - 1) as f64).round() as usize;
        self.latencies[i.min(self.latencies.len() - 1)]
    }

    pub fn summary(&self) -> String {
        format!(
            "latency p50 {:.2} s, p95 {:.2} s, max {:.2} s over {} deliveries (by {:?}; {} not seen as events)",
            self.pct(50.0),
            self.pct(95.0),
            self.pct(100.0),
            self.latencies.len(),
            self.by_origin,
            self.unseen
        )
    }
}
