//! Backup phrases: a member's root key as 24 BIP39 English words.
//!
//! The 32-byte ed25519 seed is the BIP39 entropy, so the phrase is the whole secret and the
//! checksum word catches most typos. Restoring gives back the same member id, and the root can
//! then certify a new device: losing every device loses nothing.

use crate::SecretIdentity;
use crate::error::{Error, Result};
use zeroize::Zeroizing;

/// The 24-word phrase of a root key.
pub fn to_phrase(root: &SecretIdentity) -> Zeroizing<String> {
    let seed = root.seed();
    // 32 bytes is a valid BIP39 entropy length, so this cannot fail.
    match bip39::Mnemonic::from_entropy(seed.as_ref()) {
        Ok(m) => Zeroizing::new(m.to_string()),
        Err(_) => Zeroizing::new(String::new()),
    }
}

/// The root key of a phrase. Case and extra whitespace are forgiven; wrong words, a wrong word
/// count and a bad checksum are errors.
pub fn from_phrase(phrase: &str) -> Result<SecretIdentity> {
    let normalized = Zeroizing::new(
        phrase
            .split_whitespace()
            .map(str::to_lowercase)
            .collect::<Vec<_>>()
            .join(" "),
    );
    let words = normalized.split(' ').filter(|w| !w.is_empty()).count();
    if words != 24 {
        return Err(Error::BadPhrase {
            reason: format!("expected 24 words, got {words}"),
        });
    }
    let m = bip39::Mnemonic::parse_normalized(&normalized).map_err(|e| Error::BadPhrase {
        reason: e.to_string(),
    })?;
    let entropy = Zeroizing::new(m.to_entropy());
    let seed: [u8; 32] = entropy
        .as_slice()
        .try_into()
        .map_err(|_| Error::BadPhrase {
            reason: "phrase does not encode 32 bytes".into(),
        })?;
    Ok(SecretIdentity::from_seed(&seed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_forgiving_whitespace() {
        let k = SecretIdentity::from_seed(&[42; 32]);
        let p = to_phrase(&k);
        assert_eq!(p.split(' ').count(), 24);
        assert_eq!(from_phrase(&p).unwrap(), k);
        let messy = format!("  {}  ", p.to_uppercase().replace(' ', "\n  "));
        assert_eq!(from_phrase(&messy).unwrap(), k);
    }

    #[test]
    fn bip39_vector() {
        // BIP39 English vector: entropy 0x00 * 32.
        let k = SecretIdentity::from_seed(&[0; 32]);
        assert_eq!(
            to_phrase(&k).as_str(),
            "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon art"
        );
    }

    #[test]
    fn errors() {
        let k = SecretIdentity::from_seed(&[42; 32]);
        let p = to_phrase(&k);
        let mut words: Vec<&str> = p.split(' ').collect();
        assert!(matches!(
            from_phrase(&words[..23].join(" ")),
            Err(Error::BadPhrase { .. })
        ));
        words[3] = "notaword";
        assert!(matches!(
            from_phrase(&words.join(" ")),
            Err(Error::BadPhrase { .. })
        ));
        // Swap two words: checksum fails.
        let mut words: Vec<&str> = p.split(' ').collect();
        let (a, b) = (words[0], words[1]);
        if a != b {
            words.swap(0, 1);
            assert!(matches!(
                from_phrase(&words.join(" ")),
                Err(Error::BadPhrase { .. })
            ));
        }
    }
}
