//! Test support shared by this crate's tests, the node's tests and the simulator: seeded
//! identities, genesis builders and helpers that move changes between replicas.

use crate::community::Community;
use crate::community::genesis::{CommunityGenesis, DEFAULT_WINDOW_MS, Genesis};
use crate::community::policy::AdmissionPolicy;
use crate::error::Result;
use crate::ids::DocId;
use crate::limits::Limits;
use crate::{Edit, Ingested};
use qun_identity::{Capabilities, DeviceCert, MemberId, SecretIdentity, Signed, Timestamp};

/// A fixed starting time for tests: 2023-11-14T22:13:20Z.
pub const T0: Timestamp = Timestamp::from_millis(1_700_000_000_000);

/// A deterministic key from a small seed.
pub fn key(seed: u8) -> SecretIdentity {
    let mut s = [0u8; 32];
    s[0] = seed;
    s[31] = 0x51;
    SecretIdentity::from_seed(&s)
}

/// A deterministic key from a seed and an index (for many members).
pub fn key_n(seed: u8, n: u32) -> SecretIdentity {
    let mut s = [0u8; 32];
    s[0] = seed;
    s[1..5].copy_from_slice(&n.to_le_bytes());
    s[31] = 0x52;
    SecretIdentity::from_seed(&s)
}

/// A genesis by `founder` with `policy`, created at [`T0`].
pub fn genesis(founder: &SecretIdentity, policy: AdmissionPolicy) -> CommunityGenesis {
    genesis_with(founder, policy, DEFAULT_WINDOW_MS, [7; 16])
}

/// A genesis with every knob.
pub fn genesis_with(
    founder: &SecretIdentity,
    policy: AdmissionPolicy,
    window_ms: u64,
    nonce: [u8; 16],
) -> CommunityGenesis {
    let g = Genesis {
        name: "Test community".into(),
        description: "for tests".into(),
        founders: vec![founder.member_id()],
        policy,
        window_ms,
        created: T0,
        nonce,
    };
    match Signed::sign(founder, g) {
        Ok(s) => CommunityGenesis::new(s),
        Err(e) => panic!("test genesis: {e}"),
    }
}

/// A replica of `g` whose local device is `device`.
pub fn replica(g: &CommunityGenesis, device: &SecretIdentity) -> Community {
    Community::new(g.clone(), device.device_id(), Limits::default())
}

/// A device certificate from `root` for `device`.
pub fn cert(root: &SecretIdentity, device: &SecretIdentity, caps: Capabilities) -> Vec<u8> {
    let c = DeviceCert {
        member: root.member_id(),
        device: device.device_id(),
        capabilities: caps,
        label: "test device".into(),
        not_before: Timestamp::ZERO,
        expires: None,
    };
    match Signed::sign(root, c) {
        Ok(s) => s.to_bytes(),
        Err(e) => panic!("test cert: {e}"),
    }
}

/// Offer every change of `from` to `to`, in `from`'s order; returns each outcome.
pub fn transfer(from: &Community, to: &mut Community) -> Vec<Result<Ingested>> {
    from.all_changes()
        .into_iter()
        .filter_map(|(doc, h)| from.signed_change(&doc, &h).map(|c| (doc, c)))
        .map(|(doc, (bytes, sig))| to.ingest(&doc, &bytes, &sig))
        .collect()
}

/// Offer changes of `from` to `to` until nothing new gets in (handles any order).
pub fn sync_all(from: &Community, to: &mut Community) -> usize {
    let mut total = 0;
    loop {
        let n = transfer(from, to)
            .into_iter()
            .filter(|r| matches!(r, Ok(Ingested::Accepted(_))))
            .count();
        total += n;
        if n == 0 {
            return total;
        }
    }
}

/// Shorthand: a post edit.
pub fn post(channel: &str, text: &str) -> Edit {
    Edit::Post {
        channel: crate::ChannelId::new(channel).unwrap_or_else(|_| crate::ChannelId::general()),
        text: text.into(),
        reply_to: None,
        attachments: Vec::new(),
    }
}

/// The member ids of a slice of keys.
pub fn ids(keys: &[SecretIdentity]) -> Vec<MemberId> {
    keys.iter().map(SecretIdentity::member_id).collect()
}

/// Heads of every document, for comparing replicas.
pub fn all_heads(c: &mut Community) -> Vec<(DocId, Vec<crate::Hash>)> {
    c.docs()
        .into_iter()
        .map(|d| {
            let h = c.heads(&d).unwrap_or_default();
            (d, h)
        })
        .collect()
}
