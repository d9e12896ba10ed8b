//! The strict codec of everything `qun-dm` decodes from peers or disk.
//!
//! Postcard, like qun-identity's canonical encoding: the size limit is checked before a byte is
//! parsed, the input must be consumed entirely, and it must re-encode to exactly the same bytes
//! (no overlong varints or other second spellings of one value).

use crate::error::{Error, Result};
use serde::{Serialize, de::DeserializeOwned};

/// Encode a value (postcard into a growable buffer cannot fail for our types).
pub(crate) fn encode<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    postcard::to_allocvec(value).unwrap_or_default()
}

/// Decode `bytes` as a `T`, refusing oversized, trailing or non-canonical input.
pub(crate) fn decode<T: Serialize + DeserializeOwned>(
    what: &'static str,
    bytes: &[u8],
    limit: usize,
) -> Result<T> {
    if bytes.len() > limit {
        return Err(Error::TooLarge {
            what,
            limit,
            actual: bytes.len(),
        });
    }
    let (value, rest) =
        postcard::take_from_bytes::<T>(bytes).map_err(|e| Error::decode(what, e))?;
    if !rest.is_empty() {
        return Err(Error::decode(
            what,
            format!("{} trailing bytes", rest.len()),
        ));
    }
    if encode(&value) != bytes {
        return Err(Error::decode(what, "non-canonical encoding"));
    }
    Ok(value)
}
