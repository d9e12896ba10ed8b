//! Envelope decoding and verification on arbitrary input.
//!
//! The first byte picks a mode:
//! - even: the rest is envelope wire bytes, decoded and verified as every kind, single and
//!   batched;
//! - odd: the rest is a body, correctly signed under the tag of the kind `byte >> 1 & 3` by the
//!   key with seed `[1 + (byte >> 3) % 4; 32]`, so the body decoders, type rules and validity
//!   checks see arbitrary input too (random bytes almost never get past the signature).
//!
//! Invariants: nothing panics; a decoded envelope re-encodes to its input; whatever verifies
//! re-encodes to its body; `verify_batch` says what `verify` says.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qun_identity::{
    DeviceCert, Endorsement, Envelope, Invitation, Limits, Revocation, SecretIdentity, SignedBody,
    Timestamp, canonical, domain_tag, verify_batch,
};

const NOW: Timestamp = Timestamp::from_millis(1_700_000_000_000);

fn check<T: SignedBody + PartialEq + std::fmt::Debug>(env: &Envelope) {
    let single = env.clone().verify::<T>(NOW);
    if let Ok(s) = &single {
        assert_eq!(canonical::encode(s.value()), env.body());
    }
    let batch = verify_batch::<T>(vec![env.clone(), env.clone()], NOW);
    assert_eq!(batch, vec![single.clone(), single]);
}

fn check_all(bytes: &[u8]) {
    let Ok(env) = Envelope::decode(bytes, &Limits::default()) else {
        return;
    };
    assert_eq!(env.to_bytes(), bytes);
    check::<Endorsement>(&env);
    check::<DeviceCert>(&env);
    check::<Invitation>(&env);
    check::<Revocation>(&env);
}

/// Envelope wire bytes: postcard string, [u8; 32], bytes, [u8; 64].
fn envelope(tag: &str, signer: &SecretIdentity, body: &[u8]) -> Vec<u8> {
    fn varint(mut n: usize, out: &mut Vec<u8>) {
        while n >= 0x80 {
            out.push((n as u8) | 0x80);
            n >>= 7;
        }
        out.push(n as u8);
    }
    let mut msg = tag.as_bytes().to_vec();
    msg.push(0);
    msg.extend_from_slice(body);
    let mut out = Vec::new();
    varint(tag.len(), &mut out);
    out.extend_from_slice(tag.as_bytes());
    out.extend_from_slice(signer.public().as_bytes());
    varint(body.len(), &mut out);
    out.extend_from_slice(body);
    out.extend_from_slice(&signer.sign_raw(&msg));
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        check_all(rest);
    } else {
        let tag = match mode >> 1 & 3 {
            0 => domain_tag(Endorsement::KIND, Endorsement::VERSION),
            1 => domain_tag(DeviceCert::KIND, DeviceCert::VERSION),
            2 => domain_tag(Invitation::KIND, Invitation::VERSION),
            _ => domain_tag(Revocation::KIND, Revocation::VERSION),
        };
        // Signed by one of four keys; seed [1; 32] (mode bits 3.. zero) is the samples' member.
        let signer = SecretIdentity::from_seed(&[1 + (mode >> 3) % 4; 32]);
        check_all(&envelope(&tag, &signer, rest));
    }
});
