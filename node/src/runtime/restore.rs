//! Building the replication core from the store: at start (`crate::node::start`) and again when
//! a failed store comes back ([`super::recover`]), so both take the same path.
//!
//! Every stored change is re-verified through the same path as network input: a tampered store
//! cannot inject anything.

use crate::error::Result;
use crate::store::Store;
use libp2p::PeerId;
use qun_crdt::Replicator;
use qun_crdt::replicate::Config as ReplConfig;
use qun_identity::keyfile::KeyBundle;
use qun_identity::{MemberId, Timestamp};
use tracing::{info, warn};

/// What a core is made of besides the store: kept by the driver to build it again.
#[derive(Clone)]
pub(crate) struct CoreSpec {
    /// Replication settings.
    pub cfg: ReplConfig,
    /// The member this node acts for.
    pub member: MemberId,
}

/// A core holding every community, change and join in progress of `store`.
pub(crate) fn restore_core(
    spec: &CoreSpec,
    keys: &KeyBundle,
    store: &dyn Store,
    t: Timestamp,
) -> Result<Replicator<PeerId>> {
    let cert = if keys.device.member_id() == spec.member {
        None
    } else {
        keys.device_cert.clone()
    };
    let mut repl = Replicator::new(keys.device.clone(), spec.member, cert, spec.cfg.clone())?;
    for (c, genesis) in store.communities()? {
        let changes = store.changes(&c)?;
        let n = changes.len();
        let report = repl.restore(t, &c, &genesis, changes)?;
        if !report.invalid.is_empty() || report.unresolved > 0 {
            warn!(
                community = %c,
                invalid = report.invalid.len(),
                unresolved = report.unresolved,
                "store held changes that no longer verify; they were skipped (run `qun repair` to rewrite the store)"
            );
        }
        info!(community = %c, changes = n, "restored");
    }
    for (c, invitation) in store.joining()? {
        let key = invitation.and_then(|b| qun_crdt::InviteKey::from_bytes(&b).ok());
        repl.join(t, c, key)?;
    }
    Ok(repl)
}
