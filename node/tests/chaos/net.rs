//! The test network: a switch namespace holding a bridge, one namespace per node joined to the
//! bridge by a veth pair (`eth0` in the node's namespace, address `10.A.B.<i+1>/24`), and one
//! more veth from the test's own (root) namespace to the bridge (`10.A.B.254`), so the test
//! process reaches every node's API directly at `http://10.A.B.<i+1>:7420`. Impairments apply
//! only between node addresses, never to the test's own traffic.
//!
//! Names are unique per test: `qunchaos-<pid>-<k>-sw`, `qunchaos-<pid>-<k>-n<i>`, root-side
//! veth `qch<pid>x<k>`; the /24 is chosen under a lock file among those no address or route of
//! the root namespace uses. [`Net`]'s `Drop` deletes the namespaces (the veths and the bridge
//! go with them), also when the test panics; namespaces of earlier runs whose test process is
//! gone (killed before its guards ran) are swept away by the next run.
//!
//! Impairments (cut, loss, delay, reordering) use `tc netem` on the sending node's `eth0`
//! (a `prio` qdisc, one `netem` band per profile, `u32` filters on the destination address)
//! when the kernel has it; otherwise iptables rules in the switch namespace (bridged packets
//! pass `FORWARD` with the bridge's `nf_call_iptables`) drop cut links and hand shaped ones to
//! a userspace netem ([`super::nfqueue`]). `QUN_CHAOS_IMPAIR=netem|nfqueue` forces one.

use super::nfqueue::{self, Shape, Shaper};
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

/// Run a command; its stdout, or a message with its stderr.
pub fn cmd(prog: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(prog)
        .args(args)
        .output()
        .map_err(|e| format!("{prog}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "`{prog} {}` failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Run a command that must succeed.
pub fn must(prog: &str, args: &[&str]) -> String {
    cmd(prog, args).unwrap_or_else(|e| panic!("{e}"))
}

/// How a link between two nodes misbehaves (in both directions).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Link {
    /// Every packet lost.
    Cut,
    /// Loss, delay, jitter and reordering.
    Shaped(Shape),
}

impl Link {
    fn netem_args(&self) -> String {
        match self {
            Link::Cut => "loss 100%".into(),
            Link::Shaped(s) => format!(
                "limit 100000 delay {}ms {}ms loss random {:.2}% reorder {:.2}% 50%",
                s.delay.as_millis(),
                s.jitter.as_millis(),
                s.loss * 100.0,
                s.reorder * 100.0
            ),
        }
    }
}

/// How impairments are made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Netem,
    Nfqueue,
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Backend::Netem => write!(f, "tc netem"),
            Backend::Nfqueue => write!(f, "iptables NFQUEUE + userspace netem (no sch_netem)"),
        }
    }
}

fn pid_alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// Can this process make namespaces? `Err(why not)` otherwise.
pub fn available() -> Result<(), String> {
    static R: OnceLock<Result<(), String>> = OnceLock::new();
    R.get_or_init(|| {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let euid = status
            .lines()
            .find(|l| l.starts_with("Uid:"))
            .and_then(|l| l.split_whitespace().nth(2))
            .unwrap_or("?");
        if euid != "0" {
            return Err(format!(
                "needs root for network namespaces (effective uid {euid})"
            ));
        }
        cmd("ip", &["-V"]).map_err(|e| format!("needs iproute2 (`ip`): {e}"))?;
        sweep_stale();
        let probe = format!("qunchaos-{}-probe", std::process::id());
        let _ = cmd("ip", &["netns", "del", &probe]);
        cmd("ip", &["netns", "add", &probe])
            .map_err(|e| format!("cannot create a network namespace: {e}"))?;
        let veth = cmd(
            "ip",
            &[
                "-n", &probe, "link", "add", "name", "pa", "type", "veth", "peer", "name", "pb",
            ],
        )
        .and_then(|_| {
            cmd(
                "ip",
                &["-n", &probe, "link", "add", "name", "pbr", "type", "bridge"],
            )
        });
        let _ = cmd("ip", &["netns", "del", &probe]);
        veth.map(drop)
            .map_err(|e| format!("cannot create veth pairs or bridges: {e}"))
    })
    .clone()
}

/// Delete namespaces and veths of earlier runs whose test process is gone (and end the `qun`
/// processes those runs left in them).
fn sweep_stale() {
    for line in cmd("ip", &["netns", "list"]).unwrap_or_default().lines() {
        let name = line.split_whitespace().next().unwrap_or("");
        let Some(rest) = name.strip_prefix("qunchaos-") else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if pid_alive(pid) {
            continue;
        }
        for p in cmd("ip", &["netns", "pids", name])
            .unwrap_or_default()
            .split_whitespace()
        {
            let _ = cmd("kill", &["-9", p]);
        }
        let _ = cmd("ip", &["netns", "del", name]);
    }
    for line in cmd("ip", &["-o", "link", "show"])
        .unwrap_or_default()
        .lines()
    {
        let Some(name) = line.split(':').nth(1).map(|n| n.trim()) else {
            continue;
        };
        let name = name.split('@').next().unwrap_or(name);
        let Some(rest) = name.strip_prefix("qch") else {
            continue;
        };
        let Some(pid) = rest.split('x').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if !pid_alive(pid) {
            let _ = cmd("ip", &["link", "del", "dev", name]);
        }
    }
}

/// The impairment backend, probed once (`Err(why none)`).
pub fn backend() -> Result<Backend, String> {
    static B: OnceLock<Result<Backend, String>> = OnceLock::new();
    B.get_or_init(|| {
        available()?;
        let forced = std::env::var("QUN_CHAOS_IMPAIR").unwrap_or_default();
        let netem = || probe_netem().map(|_| Backend::Netem);
        let nfq = || probe_nfqueue().map(|_| Backend::Nfqueue);
        match forced.as_str() {
            "netem" => netem(),
            "nfqueue" => nfq(),
            _ => netem().or_else(|e1| {
                nfq().map_err(|e2| format!("no tc netem ({e1}) and no NFQUEUE fallback ({e2})"))
            }),
        }
    })
    .clone()
}

fn with_probe_ns<T>(f: impl FnOnce(&str) -> Result<T, String>) -> Result<T, String> {
    static K: AtomicU32 = AtomicU32::new(0);
    let ns = format!(
        "qunchaos-{}-probe{}",
        std::process::id(),
        K.fetch_add(1, Ordering::SeqCst)
    );
    let _ = cmd("ip", &["netns", "del", &ns]);
    cmd("ip", &["netns", "add", &ns])?;
    let r = f(&ns);
    let _ = cmd("ip", &["netns", "del", &ns]);
    r
}

/// The exact qdisc tree [`Net`] builds, on a throwaway veth.
fn probe_netem() -> Result<(), String> {
    with_probe_ns(|ns| {
        cmd(
            "ip",
            &[
                "-n", ns, "link", "add", "name", "pa", "type", "veth", "peer", "name", "pb",
            ],
        )?;
        let shaped = Link::Shaped(Shape {
            loss: 0.2,
            delay: std::time::Duration::from_millis(200),
            jitter: std::time::Duration::from_millis(100),
            reorder: 0.25,
        });
        netem_tree(
            ns,
            "pa",
            &[
                (Ipv4Addr::new(10, 0, 0, 2), Link::Cut),
                (Ipv4Addr::new(10, 0, 0, 3), shaped),
            ],
        )
    })
}

fn probe_nfqueue() -> Result<(), String> {
    cmd("iptables", &["-V"]).map_err(|e| format!("needs iptables: {e}"))?;
    if !std::path::Path::new("/proc/sys/net/bridge").exists() {
        return Err("bridged packets do not reach iptables (no br_netfilter)".into());
    }
    with_probe_ns(|ns| {
        cmd(
            "ip",
            &[
                "netns",
                "exec",
                ns,
                "iptables",
                "-w",
                "-A",
                "FORWARD",
                "-s",
                "10.0.0.1",
                "-j",
                "NFQUEUE",
                "--queue-num",
                "1",
            ],
        )?;
        Shaper::start(ns, 1).map(drop)
    })
}

/// Replace `dev`'s egress qdisc with one `netem` band per distinct link profile, filtered by
/// destination address (no rules: the default qdisc).
fn netem_tree(ns: &str, dev: &str, rules: &[(Ipv4Addr, Link)]) -> Result<(), String> {
    let _ = cmd("tc", &["-n", ns, "qdisc", "del", "dev", dev, "root"]);
    if rules.is_empty() {
        return Ok(());
    }
    let mut profiles: Vec<String> = Vec::new();
    for (_, l) in rules {
        let a = l.netem_args();
        if !profiles.contains(&a) {
            profiles.push(a);
        }
    }
    let bands = (profiles.len() + 1).max(2).to_string();
    let mut root = vec![
        "-n", ns, "qdisc", "add", "dev", dev, "root", "handle", "1:", "prio", "bands", &bands,
        "priomap",
    ];
    root.extend(["0"; 16]);
    cmd("tc", &root)?;
    for (j, p) in profiles.iter().enumerate() {
        let parent = format!("1:{}", j + 2);
        let handle = format!("{}:", j + 10);
        let mut a = vec![
            "-n", ns, "qdisc", "add", "dev", dev, "parent", &parent, "handle", &handle, "netem",
        ];
        a.extend(p.split_whitespace());
        cmd("tc", &a)?;
    }
    for (ip, l) in rules {
        let j = profiles.iter().position(|p| *p == l.netem_args()).unwrap();
        let flow = format!("1:{}", j + 2);
        let dst = format!("{ip}/32");
        cmd(
            "tc",
            &[
                "-n", ns, "filter", "add", "dev", dev, "parent", "1:", "protocol", "ip", "prio",
                "1", "u32", "match", "ip", "dst", &dst, "flowid", &flow,
            ],
        )?;
    }
    Ok(())
}

/// One test's network.
pub struct Net {
    pub tag: String,
    sw: String,
    host_if: String,
    subnet: [u8; 2],
    nodes: Vec<String>,
    links: BTreeMap<(usize, usize), Link>,
    backend: Option<Backend>,
    shaper: Option<Shaper>,
}

impl Net {
    /// A switch namespace with its bridge, reachable from this process. With `impair`, also
    /// the impairment backend (`Err` if there is none).
    pub fn new(impair: bool, seed: u64) -> Result<Net, String> {
        available()?;
        let backend = if impair { Some(backend()?) } else { None };
        static K: AtomicU32 = AtomicU32::new(0);
        let k = K.fetch_add(1, Ordering::SeqCst);
        let pid = std::process::id();
        let tag = format!("qunchaos-{pid}-{k}");
        let sw = format!("{tag}-sw");
        let host_if = format!("qch{pid}x{k}");
        let mut net = Net {
            tag,
            sw: sw.clone(),
            host_if: host_if.clone(),
            subnet: [0, 0],
            nodes: Vec::new(),
            links: BTreeMap::new(),
            backend,
            shaper: None,
        };
        must("ip", &["netns", "add", &sw]);
        let nf = if backend == Some(Backend::Nfqueue) {
            "1"
        } else {
            "0"
        };
        must(
            "ip",
            &[
                "-n",
                &sw,
                "link",
                "add",
                "name",
                "br0",
                "type",
                "bridge",
                "nf_call_iptables",
                nf,
            ],
        );
        must("ip", &["-n", &sw, "link", "set", "dev", "br0", "up"]);
        must(
            "ip",
            &[
                "link", "add", "name", &host_if, "type", "veth", "peer", "name", "host", "netns",
                &sw,
            ],
        );
        must(
            "ip",
            &[
                "-n", &sw, "link", "set", "dev", "host", "master", "br0", "up",
            ],
        );
        // Choose a /24 nobody here uses, under a lock shared with parallel test processes.
        {
            let lock = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(std::env::temp_dir().join("qunchaos-subnets.lock"))
                .expect("lock file");
            lock.lock().expect("locking the subnet lock file");
            let used = must("ip", &["-4", "-o", "addr", "show"]) + &must("ip", &["-4", "route"]);
            let mut rng = super::rng::Rng::new(seed ^ u64::from(pid) << 20 ^ u64::from(k));
            let subnet = loop {
                let s = [rng.range(160, 250) as u8, rng.range(0, 255) as u8];
                if !used.contains(&format!("10.{}.{}.", s[0], s[1])) {
                    break s;
                }
            };
            net.subnet = subnet;
            let host = format!("{}/24", net.host_ip());
            must("ip", &["addr", "add", &host, "dev", &host_if]);
            must("ip", &["link", "set", "dev", &host_if, "up"]);
        }
        if backend == Some(Backend::Nfqueue) {
            net.shaper = Some(Shaper::start(&sw, seed)?);
        }
        Ok(net)
    }

    pub fn backend(&self) -> Option<Backend> {
        self.backend
    }

    /// The test's own address on the bridge.
    pub fn host_ip(&self) -> Ipv4Addr {
        Ipv4Addr::new(10, self.subnet[0], self.subnet[1], 254)
    }

    /// Node `i`'s address.
    pub fn ip(&self, i: usize) -> Ipv4Addr {
        Ipv4Addr::new(10, self.subnet[0], self.subnet[1], (i + 1) as u8)
    }

    /// Node `i`'s namespace.
    pub fn ns(&self, i: usize) -> &str {
        &self.nodes[i]
    }

    /// A namespace for one more node, on the bridge; its index.
    pub fn add_node(&mut self) -> usize {
        let i = self.nodes.len();
        assert!(i < 250);
        let ns = format!("{}-n{i}", self.tag);
        let port = format!("n{i}");
        must("ip", &["netns", "add", &ns]);
        must(
            "ip",
            &[
                "-n", &self.sw, "link", "add", "name", &port, "type", "veth", "peer", "name",
                "eth0", "netns", &ns,
            ],
        );
        must(
            "ip",
            &[
                "-n", &self.sw, "link", "set", "dev", &port, "master", "br0", "up",
            ],
        );
        let addr = format!("{}/24", self.ip(i));
        must("ip", &["-n", &ns, "addr", "add", &addr, "dev", "eth0"]);
        must("ip", &["-n", &ns, "link", "set", "dev", "eth0", "up"]);
        must("ip", &["-n", &ns, "link", "set", "dev", "lo", "up"]);
        self.nodes.push(ns);
        i
    }

    /// Set or clear how the link between nodes `a` and `b` misbehaves.
    pub fn set_link(&mut self, a: usize, b: usize, link: Option<Link>) {
        let key = (a.min(b), a.max(b));
        match link {
            Some(l) => self.links.insert(key, l),
            None => self.links.remove(&key),
        };
        self.apply();
    }

    /// Cut every link between different groups (links inside a group stay as they are).
    pub fn partition(&mut self, groups: &[&[usize]]) {
        for (x, g) in groups.iter().enumerate() {
            for h in &groups[x + 1..] {
                for &a in *g {
                    for &b in *h {
                        self.links.insert((a.min(b), a.max(b)), Link::Cut);
                    }
                }
            }
        }
        self.apply();
    }

    /// Remove every cut (shaped links stay).
    pub fn heal(&mut self) {
        self.links.retain(|_, l| *l != Link::Cut);
        self.apply();
    }

    /// Packets seen and dropped by the userspace shaper, if it is the backend.
    pub fn shaper_stats(&self) -> Option<BTreeMap<u16, nfqueue::QueueStats>> {
        self.shaper.as_ref().map(|s| s.stats())
    }

    fn apply(&mut self) {
        match self.backend {
            None => panic!("this Net was made without impairments"),
            Some(Backend::Netem) => {
                for i in 0..self.nodes.len() {
                    let rules: Vec<(Ipv4Addr, Link)> = self
                        .links
                        .iter()
                        .filter_map(|(&(a, b), l)| match (a == i, b == i) {
                            (true, _) => Some((self.ip(b), *l)),
                            (_, true) => Some((self.ip(a), *l)),
                            _ => None,
                        })
                        .collect();
                    netem_tree(&self.nodes[i], "eth0", &rules).unwrap_or_else(|e| panic!("{e}"));
                }
            }
            Some(Backend::Nfqueue) => {
                let shaper = self.shaper.as_ref().expect("shaper");
                let ipt = |args: &[&str]| {
                    let mut a = vec!["netns", "exec", &self.sw, "iptables", "-w"];
                    a.extend(args);
                    must("ip", &a);
                };
                ipt(&["-F", "FORWARD"]);
                let mut shapes: Vec<Shape> = Vec::new();
                for (&(a, b), l) in &self.links {
                    let target: Vec<String> = match l {
                        Link::Cut => vec!["DROP".into()],
                        Link::Shaped(s) => {
                            let j = match shapes.iter().position(|x| x == s) {
                                Some(j) => j,
                                None => {
                                    shapes.push(*s);
                                    shapes.len() - 1
                                }
                            };
                            let q = *nfqueue::QUEUES.start() + j as u16;
                            assert!(nfqueue::QUEUES.contains(&q), "too many link profiles");
                            vec!["NFQUEUE".into(), "--queue-num".into(), q.to_string()]
                        }
                    };
                    for (x, y) in [(a, b), (b, a)] {
                        let (s, d) = (self.ip(x).to_string(), self.ip(y).to_string());
                        let mut args = vec!["-A", "FORWARD", "-s", &s, "-d", &d, "-j"];
                        args.extend(target.iter().map(String::as_str));
                        ipt(&args);
                    }
                }
                for q in nfqueue::QUEUES {
                    let j = (q - *nfqueue::QUEUES.start()) as usize;
                    shaper.set(q, shapes.get(j).copied());
                }
            }
        }
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        self.shaper.take();
        for ns in self.nodes.iter().chain([&self.sw]) {
            // Anything still running in it (a node a panicking test did not stop) ends too.
            for p in cmd("ip", &["netns", "pids", ns])
                .unwrap_or_default()
                .split_whitespace()
            {
                let _ = cmd("kill", &["-9", p]);
            }
            let _ = cmd("ip", &["netns", "del", ns]);
        }
        let _ = cmd("ip", &["link", "del", "dev", &self.host_if]);
    }
}
