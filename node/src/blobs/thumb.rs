//! Thumbnails: a PNG or JPEG blob scaled down to fit [`THUMB_SIDE`] pixels, for posts and
//! avatars. Decoding runs under limits (dimensions and memory), so a small file that claims a
//! huge picture (a decompression bomb) is refused instead of filling memory. Other kinds get no
//! thumbnail (the page shows the original, which is at most the blob limit).

use super::sniff::Kind;
use crate::error::{Error, Result};
use std::io::Cursor;

/// Longest side of a thumbnail, pixels.
pub const THUMB_SIDE: u32 = 480;
/// Widest or tallest picture decoded, pixels.
pub const MAX_DIMENSION: u32 = 12_000;
/// Most memory one decode may allocate, bytes.
pub const MAX_DECODE_BYTES: u64 = 256 * 1024 * 1024;

/// The thumbnail of `bytes` and its kind; `None` when the kind has none, or when the picture
/// is small enough to be its own thumbnail.
pub fn thumbnail(bytes: &[u8]) -> Result<Option<(Vec<u8>, Kind)>> {
    let kind = Kind::of(bytes);
    let format = match kind {
        Kind::Png => image::ImageFormat::Png,
        Kind::Jpeg => image::ImageFormat::Jpeg,
        _ => return Ok(None),
    };
    let bad = |e: image::ImageError| Error::Invalid {
        reason: format!("the image does not decode: {e}"),
        hint: "attach a PNG or JPEG image",
    };
    let limits = || {
        let mut l = image::io::Limits::default();
        l.max_image_width = Some(MAX_DIMENSION);
        l.max_image_height = Some(MAX_DIMENSION);
        l.max_alloc = Some(MAX_DECODE_BYTES);
        l
    };
    let mut reader = image::io::Reader::with_format(Cursor::new(bytes), format);
    reader.limits(limits());
    let (w, h) = reader.into_dimensions().map_err(bad)?;
    if w > MAX_DIMENSION || h > MAX_DIMENSION {
        return Err(Error::Invalid {
            reason: format!("the image claims {w}×{h} pixels, more than {MAX_DIMENSION} a side"),
            hint: "attach a smaller image",
        });
    }
    if w <= THUMB_SIDE && h <= THUMB_SIDE {
        return Ok(None);
    }
    let mut reader = image::io::Reader::with_format(Cursor::new(bytes), format);
    reader.limits(limits());
    let img = reader.decode().map_err(bad)?;
    let small = img.thumbnail(THUMB_SIDE, THUMB_SIDE);
    let mut out = Cursor::new(Vec::new());
    let (fmt, kind) = match kind {
        Kind::Jpeg => (image::ImageOutputFormat::Jpeg(80), Kind::Jpeg),
        _ => (image::ImageOutputFormat::Png, Kind::Png),
    };
    small.write_to(&mut out, fmt).map_err(bad)?;
    Ok(Some((out.into_inner(), kind)))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A PNG of `w`×`h` pixels.
    pub(crate) fn png(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
        });
        let mut out = Cursor::new(Vec::new());
        image::DynamicImage::ImageRgb8(img)
            .write_to(&mut out, image::ImageOutputFormat::Png)
            .unwrap();
        out.into_inner()
    }

    #[test]
    fn large_pictures_get_a_small_thumbnail() {
        let big = png(1200, 600);
        let (t, kind) = thumbnail(&big).unwrap().unwrap();
        assert_eq!(kind, Kind::Png);
        let img = image::load_from_memory(&t).unwrap();
        assert_eq!((img.width(), img.height()), (THUMB_SIDE, THUMB_SIDE / 2));
        assert!(thumbnail(&png(100, 100)).unwrap().is_none());
        assert!(thumbnail(b"not an image").unwrap().is_none());
    }

    #[test]
    fn a_decompression_bomb_is_refused() {
        // A PNG header claiming 100,000 × 100,000 pixels, in a few dozen bytes.
        let mut bomb = png(1, 1);
        // IHDR's width and height sit at bytes 16..24; the CRC no longer matches either way.
        bomb[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        assert!(thumbnail(&bomb).is_err());
    }
}
