//! Equivocation: a device that signs two different changes with one sequence number in one
//! document. Automerge can hold only one of them, so every node keeps the change with the lower
//! hash and strands the other side (see `Community::strand`); the two signed changes are
//! evidence, published as a governance action, that voids the device's writes in that document
//! from that sequence number on, on every node, whichever side it saw first.

use super::apply::signing_message;
use super::doc::actor_device;
use crate::error::{Error, Result};
use crate::ids::{CommunityId, DocId};
use crate::limits::Limits;
use qun_identity::DeviceId;

/// One side of the evidence: parse (bounded), check the signature, return actor and sequence.
fn side(
    community: &CommunityId,
    doc: &DocId,
    bytes: &[u8],
    sig: &[u8],
) -> Result<(DeviceId, u64, crate::Hash)> {
    let limits = Limits::default();
    Limits::check("evidence change", limits.max_change_bytes, bytes.len())?;
    let head = limits.prescan(bytes)?;
    let sig: [u8; 64] = sig
        .try_into()
        .map_err(|_| Error::decode("evidence", "a signature is 64 bytes"))?;
    let actor = <[u8; 32]>::try_from(head.actor.as_slice()).map_err(|_| Error::BadActor {
        reason: "evidence actor is not 32 bytes".into(),
    })?;
    let device = actor_device(&automerge::ActorId::from(&actor[..]))?;
    qun_identity::verify_raw(
        device.key(),
        &signing_message(community, doc, &head.hash),
        &sig,
    )
    .map_err(|_| Error::BadSignature { hash: head.hash })?;
    Ok((device, head.seq, head.hash))
}

/// Check equivocation evidence: two changes, both signed by one device for this community,
/// in document `doc` (the signatures name it), with one sequence number and different hashes.
/// Returns `(doc, device, seq)`.
pub(crate) fn verify_evidence(
    community: &CommunityId,
    doc: &str,
    a: &[u8],
    a_sig: &[u8],
    b: &[u8],
    b_sig: &[u8],
) -> Result<(DocId, DeviceId, u64)> {
    let doc: DocId = doc.parse()?;
    let (da, sa, ha) = side(community, &doc, a, a_sig)?;
    let (db, sb, hb) = side(community, &doc, b, b_sig)?;
    if da != db || sa != sb {
        return Err(Error::decode(
            "evidence",
            "the two changes differ in device or sequence number",
        ));
    }
    if ha == hb {
        return Err(Error::decode("evidence", "the same change twice"));
    }
    Ok((doc, da, sa))
}
