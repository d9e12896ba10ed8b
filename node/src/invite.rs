//! Invite codes: one copy-pasteable string carrying a community id, where to reach members,
//! and (optionally) a signed invitation.
//!
//! Text form: `qun1` followed by base58btc of `postcard(InviteCode)`. Addresses are full
//! multiaddrs including `/p2p/<peer id>`.

use crate::error::{Error, Result};
use libp2p::Multiaddr;
use qun_crdt::CommunityId;
use serde::{Deserialize, Serialize};

/// Prefix of invite codes (also a version).
pub const PREFIX: &str = "qun1";
/// Longest accepted code, characters.
pub const MAX_CODE_LEN: usize = 8192;
/// Most addresses in a code.
pub const MAX_ADDRS: usize = 16;

/// The contents of an invite code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteCode {
    /// The community.
    pub community: CommunityId,
    /// Addresses of members to dial (with `/p2p/<peer id>`), as bytes.
    pub addrs: Vec<Vec<u8>>,
    /// A signed invitation envelope, for invite-only communities.
    pub invitation: Option<Vec<u8>>,
    /// For a bearer invitation: the secret seed of its key. The joiner proves possession with
    /// it (a signature over its own member id); it never leaves the joiner's node.
    pub secret: Option<[u8; 32]>,
}

impl InviteCode {
    /// A code for `community` reachable at `addrs`.
    pub fn new(
        community: CommunityId,
        addrs: &[Multiaddr],
        invitation: Option<Vec<u8>>,
        secret: Option<[u8; 32]>,
    ) -> Self {
        InviteCode {
            community,
            addrs: addrs.iter().take(MAX_ADDRS).map(|a| a.to_vec()).collect(),
            invitation,
            secret,
        }
    }

    /// The invitation as the joiner's replicator takes it.
    pub fn invite_key(&self) -> Option<qun_crdt::InviteKey> {
        self.invitation
            .clone()
            .map(|invitation| qun_crdt::InviteKey {
                invitation,
                secret: self.secret,
            })
    }

    /// The addresses.
    pub fn multiaddrs(&self) -> Vec<Multiaddr> {
        self.addrs
            .iter()
            .filter_map(|b| Multiaddr::try_from(b.clone()).ok())
            .collect()
    }

    /// The text form.
    pub fn encode(&self) -> String {
        let bytes = postcard::to_allocvec(self).unwrap_or_default();
        format!("{PREFIX}{}", bs58::encode(bytes).into_string())
    }

    /// Parse the text form (whitespace around it is ignored).
    pub fn decode(s: &str) -> Result<Self> {
        let s = s.trim();
        if s.len() > MAX_CODE_LEN {
            return Err(Error::BadInvite(
                "it is longer than any invite code (was more pasted than the code?)".into(),
            ));
        }
        let body = s
            .strip_prefix(PREFIX)
            .ok_or_else(|| Error::BadInvite(format!("an invite code starts with {PREFIX}")))?;
        let bytes = bs58::decode(body).into_vec().map_err(|_| {
            Error::BadInvite(
                "it has characters no invite code has (0, O, I, l, spaces or punctuation inside)"
                    .into(),
            )
        })?;
        // What the decoder says (an `Option` discriminant, the end of the buffer) means
        // nothing to a member: the code is cut off or altered.
        let (code, rest) = postcard::take_from_bytes::<InviteCode>(&bytes).map_err(|e| {
            tracing::debug!("invite code does not decode: {e}");
            Error::BadInvite("it is cut off or altered (part of it is missing or changed)".into())
        })?;
        if !rest.is_empty() {
            return Err(Error::BadInvite(
                "it has extra characters at the end (two codes pasted together?)".into(),
            ));
        }
        if code.addrs.len() > MAX_ADDRS {
            return Err(Error::BadInvite("too many addresses".into()));
        }
        Ok(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_errors() {
        let c = CommunityId(qun_identity::ContentId::of(b"x"));
        let a: Multiaddr = "/ip4/127.0.0.1/tcp/4001".parse().unwrap();
        let code = InviteCode::new(
            c,
            std::slice::from_ref(&a),
            Some(vec![1, 2, 3]),
            Some([4; 32]),
        );
        let s = code.encode();
        assert!(s.starts_with("qun1"));
        let back = InviteCode::decode(&format!("  {s}\n")).unwrap();
        assert_eq!(back, code);
        assert_eq!(back.multiaddrs(), vec![a]);
        for bad in ["", "qun1", "qun10OIl", "xyz", &format!("{s}zz")] {
            assert!(InviteCode::decode(bad).is_err(), "{bad}");
        }
    }
}
