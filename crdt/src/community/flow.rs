//! Trust-flow admission over the community's endorsement graph (qun-trust).

use crate::gov::GovState;
use crate::ids::CommunityId;
use qun_identity::MemberId;

/// Whether the capacity flow from the founders admits `m`.
pub(crate) fn admits(
    _st: &GovState,
    _m: &MemberId,
    _community: &CommunityId,
    _capacities: &[u32],
) -> bool {
    // PLACEHOLDER until qun-trust lands: wire Advogato admission here before committing.
    false
}
