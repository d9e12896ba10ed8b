//! A userspace netem for kernels without `sch_netem`: iptables rules in the switch namespace
//! send the packets of impaired links to NFQUEUE queues, and this shaper (a thread that joined
//! the switch namespace) drops some and gives the others their verdict (ACCEPT) after a delay
//! drawn per packet, so they also overtake each other (reordering) — what
//! `netem loss L% delay D J reorder R%` does on the sending side.
//!
//! Only the nfnetlink_queue messages it needs, over a raw netlink socket (libc): bind a queue,
//! copy metadata only (the queue number tells which link profile applies), receive packets,
//! send verdicts (in any order: the kernel finds a packet by its id).

use super::rng::Rng;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const NETLINK_NETFILTER: libc::c_int = 12;
const NFNL_SUBSYS_QUEUE: u16 = 3;
const NFQNL_MSG_PACKET: u16 = 0;
const NFQNL_MSG_VERDICT: u16 = 1;
const NFQNL_MSG_CONFIG: u16 = 2;
const NFQA_PACKET_HDR: u16 = 1;
const NFQA_VERDICT_HDR: u16 = 2;
const NFQA_CFG_CMD: u16 = 1;
const NFQA_CFG_PARAMS: u16 = 2;
const NFQA_CFG_QUEUE_MAXLEN: u16 = 3;
const NFQNL_CFG_CMD_BIND: u8 = 1;
const NFQNL_CFG_CMD_UNBIND: u8 = 2;
const NFQNL_COPY_META: u8 = 1;
const NF_DROP: u32 = 0;
const NF_ACCEPT: u32 = 1;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_ACK: u16 = 4;
const NLMSG_ERROR: u16 = 2;
const NLA_TYPE_MASK: u16 = 0x3fff;

/// What happens to the packets of one queue (one direction of a link).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Shape {
    /// Probability a packet is dropped.
    pub loss: f64,
    /// Mean delay.
    pub delay: Duration,
    /// Uniform jitter around it (± this).
    pub jitter: Duration,
    /// Probability a packet skips the delay (overtakes the ones waiting), like netem's
    /// `reorder`.
    pub reorder: f64,
}

/// Counters, per queue.
#[derive(Clone, Copy, Debug, Default)]
pub struct QueueStats {
    pub packets: u64,
    pub dropped: u64,
    pub reordered: u64,
    pub delay_total: Duration,
}

/// The running shaper; stops (accepting what it still holds) when dropped.
pub struct Shaper {
    stop: Arc<AtomicBool>,
    shapes: Arc<Mutex<BTreeMap<u16, Shape>>>,
    stats: Arc<Mutex<BTreeMap<u16, QueueStats>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Queue numbers the shaper binds (one per link profile in use).
pub const QUEUES: std::ops::RangeInclusive<u16> = 1..=8;

impl Shaper {
    /// Start a shaper in network namespace `ns` (a name under /run/netns).
    pub fn start(ns: &str, seed: u64) -> Result<Shaper, String> {
        let stop = Arc::new(AtomicBool::new(false));
        let shapes: Arc<Mutex<BTreeMap<u16, Shape>>> = Arc::default();
        let stats: Arc<Mutex<BTreeMap<u16, QueueStats>>> = Arc::default();
        let (tx, rx) = std::sync::mpsc::channel::<Result<(), String>>();
        let ns_path = format!("/run/netns/{ns}");
        let thread = {
            let (stop, shapes, stats) = (stop.clone(), shapes.clone(), stats.clone());
            std::thread::Builder::new()
                .name(format!("shaper-{ns}"))
                .spawn(move || {
                    let sock = match open(&ns_path) {
                        Ok(s) => {
                            let _ = tx.send(Ok(()));
                            s
                        }
                        Err(e) => {
                            let _ = tx.send(Err(e));
                            return;
                        }
                    };
                    run(sock, Rng::new(seed), stop, shapes, stats);
                })
                .map_err(|e| e.to_string())?
        };
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(Ok(())) => Ok(Shaper {
                stop,
                shapes,
                stats,
                thread: Some(thread),
            }),
            Ok(Err(e)) => Err(e),
            Err(_) => Err("the shaper thread did not start".into()),
        }
    }

    /// Set (or with `None` clear) the shape of a queue.
    pub fn set(&self, queue: u16, shape: Option<Shape>) {
        let mut s = self.shapes.lock().unwrap();
        match shape {
            Some(x) => s.insert(queue, x),
            None => s.remove(&queue),
        };
    }

    pub fn stats(&self) -> BTreeMap<u16, QueueStats> {
        self.stats.lock().unwrap().clone()
    }
}

impl Drop for Shaper {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn errno() -> String {
    std::io::Error::last_os_error().to_string()
}

/// Join `ns` (this thread only), open and bind the netlink socket, bind the queues.
fn open(ns_path: &str) -> Result<OwnedFd, String> {
    let f = std::fs::File::open(ns_path).map_err(|e| format!("{ns_path}: {e}"))?;
    // SAFETY: plain syscalls on descriptors we own; setns affects only this thread.
    unsafe {
        if libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) != 0 {
            return Err(format!("setns {ns_path}: {}", errno()));
        }
        let fd = libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            NETLINK_NETFILTER,
        );
        if fd < 0 {
            return Err(format!("netlink socket: {}", errno()));
        }
        let sock = OwnedFd::from_raw_fd(fd);
        let mut addr: libc::sockaddr_nl = std::mem::zeroed();
        addr.nl_family = libc::AF_NETLINK as u16;
        if libc::bind(
            fd,
            &addr as *const libc::sockaddr_nl as *const libc::sockaddr,
            std::mem::size_of::<libc::sockaddr_nl>() as u32,
        ) != 0
        {
            return Err(format!("netlink bind: {}", errno()));
        }
        let size: libc::c_int = 8 << 20;
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVBUFFORCE,
            &size as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as u32,
        );
        let mut seq = 1;
        for q in QUEUES {
            // nfqnl_msg_config_cmd: command, padding, pf (big-endian).
            let cmd = [NFQNL_CFG_CMD_BIND, 0, 0, libc::AF_INET as u8];
            let params = [0, 0, 0, 0, NFQNL_COPY_META];
            let maxlen = 16_384u32.to_be_bytes();
            for attrs in [
                vec![(NFQA_CFG_CMD, &cmd[..])],
                vec![
                    (NFQA_CFG_PARAMS, &params[..]),
                    (NFQA_CFG_QUEUE_MAXLEN, &maxlen[..]),
                ],
            ] {
                let m = message(NFQNL_MSG_CONFIG, NLM_F_REQUEST | NLM_F_ACK, seq, q, &attrs);
                seq += 1;
                send(&sock, &m)?;
                expect_ack(&sock).map_err(|e| format!("binding queue {q}: {e}"))?;
            }
        }
        Ok(sock)
    }
}

/// An nfnetlink_queue message: netlink header, nfgenmsg (queue number), attributes.
fn message(ty: u16, flags: u16, seq: u32, queue: u16, attrs: &[(u16, &[u8])]) -> Vec<u8> {
    let mut b = vec![0u8; 16];
    b.push(libc::AF_UNSPEC as u8);
    b.push(0); // NFNETLINK_V0
    b.extend(queue.to_be_bytes());
    for (t, v) in attrs {
        let len = (4 + v.len()) as u16;
        b.extend(len.to_ne_bytes());
        b.extend(t.to_ne_bytes());
        b.extend(*v);
        while !b.len().is_multiple_of(4) {
            b.push(0);
        }
    }
    let len = b.len() as u32;
    b[0..4].copy_from_slice(&len.to_ne_bytes());
    b[4..6].copy_from_slice(&((NFNL_SUBSYS_QUEUE << 8) | ty).to_ne_bytes());
    b[6..8].copy_from_slice(&flags.to_ne_bytes());
    b[8..12].copy_from_slice(&seq.to_ne_bytes());
    b
}

fn send(sock: &OwnedFd, m: &[u8]) -> Result<(), String> {
    // SAFETY: sending a buffer we own to the kernel (pid 0).
    unsafe {
        let mut addr: libc::sockaddr_nl = std::mem::zeroed();
        addr.nl_family = libc::AF_NETLINK as u16;
        let r = libc::sendto(
            sock.as_raw_fd(),
            m.as_ptr() as *const libc::c_void,
            m.len(),
            0,
            &addr as *const libc::sockaddr_nl as *const libc::sockaddr,
            std::mem::size_of::<libc::sockaddr_nl>() as u32,
        );
        if r < 0 {
            return Err(format!("netlink send: {}", errno()));
        }
    }
    Ok(())
}

/// Read until the kernel's answer to a request with NLM_F_ACK.
fn expect_ack(sock: &OwnedFd) -> Result<(), String> {
    let mut buf = vec![0u8; 65536];
    // SAFETY: receiving into a buffer we own.
    let n = unsafe {
        libc::recv(
            sock.as_raw_fd(),
            buf.as_mut_ptr() as *mut libc::c_void,
            buf.len(),
            0,
        )
    };
    if n < 0 {
        return Err(format!("netlink recv: {}", errno()));
    }
    for (ty, payload) in messages(&buf[..n as usize]) {
        if ty == NLMSG_ERROR && payload.len() >= 4 {
            let code = i32::from_ne_bytes(payload[0..4].try_into().unwrap());
            if code != 0 {
                return Err(std::io::Error::from_raw_os_error(-code).to_string());
            }
            return Ok(());
        }
    }
    Err("no acknowledgement from the kernel".into())
}

/// The netlink messages in a buffer: (type, payload after the 16-byte header).
fn messages(mut b: &[u8]) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    while b.len() >= 16 {
        let len = u32::from_ne_bytes(b[0..4].try_into().unwrap()) as usize;
        let ty = u16::from_ne_bytes(b[4..6].try_into().unwrap());
        if len < 16 || len > b.len() {
            break;
        }
        out.push((ty, &b[16..len]));
        let next = (len + 3) & !3;
        b = &b[next.min(b.len())..];
    }
    out
}

/// A queued packet: its queue and id.
fn packet(payload: &[u8]) -> Option<(u16, u32)> {
    if payload.len() < 4 {
        return None;
    }
    let queue = u16::from_be_bytes(payload[2..4].try_into().unwrap());
    let mut a = &payload[4..];
    while a.len() >= 4 {
        let len = u16::from_ne_bytes(a[0..2].try_into().unwrap()) as usize;
        let ty = u16::from_ne_bytes(a[2..4].try_into().unwrap()) & NLA_TYPE_MASK;
        if len < 4 || len > a.len() {
            break;
        }
        if ty == NFQA_PACKET_HDR && len >= 8 {
            let id = u32::from_be_bytes(a[4..8].try_into().unwrap());
            return Some((queue, id));
        }
        let next = (len + 3) & !3;
        a = &a[next.min(a.len())..];
    }
    None
}

fn verdict(sock: &OwnedFd, queue: u16, id: u32, v: u32) {
    let mut hdr = [0u8; 8];
    hdr[0..4].copy_from_slice(&v.to_be_bytes());
    hdr[4..8].copy_from_slice(&id.to_be_bytes());
    let m = message(
        NFQNL_MSG_VERDICT,
        NLM_F_REQUEST,
        0,
        queue,
        &[(NFQA_VERDICT_HDR, &hdr[..])],
    );
    let _ = send(sock, &m);
}

fn run(
    sock: OwnedFd,
    mut rng: Rng,
    stop: Arc<AtomicBool>,
    shapes: Arc<Mutex<BTreeMap<u16, Shape>>>,
    stats: Arc<Mutex<BTreeMap<u16, QueueStats>>>,
) {
    let mut held: BinaryHeap<Reverse<(Instant, u64, u16, u32)>> = BinaryHeap::new();
    let mut n = 0u64;
    let mut buf = vec![0u8; 1 << 18];
    while !stop.load(Ordering::SeqCst) {
        let now = Instant::now();
        let wait = held
            .peek()
            .map(|Reverse((due, ..))| due.saturating_duration_since(now))
            .unwrap_or(Duration::from_millis(50))
            .min(Duration::from_millis(50));
        let mut pfd = libc::pollfd {
            fd: sock.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one pollfd we own.
        unsafe { libc::poll(&mut pfd, 1, wait.as_millis() as libc::c_int) };
        loop {
            // SAFETY: receiving into a buffer we own.
            let r = unsafe {
                libc::recv(
                    sock.as_raw_fd(),
                    buf.as_mut_ptr() as *mut libc::c_void,
                    buf.len(),
                    libc::MSG_DONTWAIT,
                )
            };
            if r <= 0 {
                break; // EAGAIN, or ENOBUFS (the kernel dropped what did not fit: loss)
            }
            let shapes = shapes.lock().unwrap().clone();
            let mut st = stats.lock().unwrap();
            for (ty, payload) in messages(&buf[..r as usize]) {
                if ty != (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET {
                    continue;
                }
                let Some((queue, id)) = packet(payload) else {
                    continue;
                };
                let s = st.entry(queue).or_default();
                s.packets += 1;
                let Some(shape) = shapes.get(&queue) else {
                    verdict(&sock, queue, id, NF_ACCEPT);
                    continue;
                };
                if rng.chance(shape.loss) {
                    s.dropped += 1;
                    verdict(&sock, queue, id, NF_DROP);
                } else if rng.chance(shape.reorder) {
                    s.reordered += 1;
                    verdict(&sock, queue, id, NF_ACCEPT);
                } else {
                    let j = shape.jitter.as_micros() as u64;
                    let d =
                        (shape.delay.as_micros() as u64 + rng.range(0, 2 * j)).saturating_sub(j);
                    let d = Duration::from_micros(d);
                    s.delay_total += d;
                    n += 1;
                    held.push(Reverse((Instant::now() + d, n, queue, id)));
                }
            }
        }
        let now = Instant::now();
        while let Some(Reverse((due, _, queue, id))) = held.peek().copied() {
            if due > now {
                break;
            }
            held.pop();
            verdict(&sock, queue, id, NF_ACCEPT);
        }
    }
    // Let through what is still held, then unbind.
    while let Some(Reverse((_, _, queue, id))) = held.pop() {
        verdict(&sock, queue, id, NF_ACCEPT);
    }
    for q in QUEUES {
        let cmd = [NFQNL_CFG_CMD_UNBIND, 0, 0, libc::AF_INET as u8];
        let _ = send(
            &sock,
            &message(
                NFQNL_MSG_CONFIG,
                NLM_F_REQUEST,
                0,
                q,
                &[(NFQA_CFG_CMD, &cmd[..])],
            ),
        );
    }
}
