//! Bridge to libp2p: a node's libp2p identity is its device key.
//!
//! The libp2p `Keypair` is built from the same 32-byte ed25519 seed, so the node's `PeerId`
//! commits to the device public key and a peer can map a `PeerId` back to a [`DeviceId`].

use crate::error::{Error, Result};
use crate::{DeviceId, PublicIdentity, SecretIdentity};

impl SecretIdentity {
    /// The libp2p keypair with this key's seed.
    pub fn to_libp2p_keypair(&self) -> Result<libp2p_identity::Keypair> {
        let mut seed = self.seed();
        libp2p_identity::Keypair::ed25519_from_bytes(seed.as_mut())
            .map_err(|e| Error::decode("libp2p keypair", e))
    }
}

impl PublicIdentity {
    /// The libp2p public key.
    pub fn to_libp2p_public(&self) -> Result<libp2p_identity::PublicKey> {
        libp2p_identity::ed25519::PublicKey::try_from_bytes(self.as_bytes())
            .map(libp2p_identity::PublicKey::from)
            .map_err(|e| Error::decode("libp2p public key", e))
    }

    /// The libp2p peer id of this key.
    pub fn to_peer_id(&self) -> Result<libp2p_identity::PeerId> {
        Ok(self.to_libp2p_public()?.to_peer_id())
    }
}

impl DeviceId {
    /// The peer id of the node running this device key.
    pub fn to_peer_id(&self) -> Result<libp2p_identity::PeerId> {
        self.key().to_peer_id()
    }

    /// The device key behind a peer id, when the peer id inlines an ed25519 key (it always does
    /// for ed25519: the identity multihash carries the protobuf-encoded key).
    pub fn from_peer_id(peer: &libp2p_identity::PeerId) -> Result<DeviceId> {
        let mh = peer.as_ref();
        if mh.code() != 0 {
            return Err(Error::decode(
                "peer id",
                "not an identity multihash (not ed25519)",
            ));
        }
        let pk = libp2p_identity::PublicKey::try_decode_protobuf(mh.digest())
            .map_err(|e| Error::decode("peer id", e))?;
        let ed = pk
            .try_into_ed25519()
            .map_err(|_| Error::decode("peer id", "not an ed25519 key"))?;
        Ok(DeviceId(PublicIdentity::from_bytes(&ed.to_bytes())?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_id_commits_to_device_key() {
        let device = SecretIdentity::from_seed(&[5; 32]);
        let kp = device.to_libp2p_keypair().unwrap();
        let ed = kp.clone().try_into_ed25519().unwrap();
        assert_eq!(ed.public().to_bytes(), device.public().to_bytes());
        let peer = kp.public().to_peer_id();
        assert_eq!(device.device_id().to_peer_id().unwrap(), peer);
        assert_eq!(DeviceId::from_peer_id(&peer).unwrap(), device.device_id());
        // A libp2p signature verifies with our key and vice versa.
        let sig = kp.sign(b"hello").unwrap();
        let sig: [u8; 64] = sig.try_into().unwrap();
        crate::verify_raw(&device.public(), b"hello", &sig).unwrap();
    }
}
