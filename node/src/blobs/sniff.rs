//! What a blob is, decided from its first bytes (never from a name or a type a peer or the
//! browser claimed). Only raster images a browser decodes safely are shown inline; anything
//! else, SVG included (it can carry script), is served as a download.

/// A blob's kind, as served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// PNG.
    Png,
    /// JPEG.
    Jpeg,
    /// GIF.
    Gif,
    /// WebP.
    Webp,
    /// SVG (recognised to be refused inline).
    Svg,
    /// Anything else.
    Other,
}

impl Kind {
    /// The kind of `bytes`.
    pub fn of(bytes: &[u8]) -> Kind {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Kind::Png
        } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
            Kind::Jpeg
        } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
            Kind::Gif
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Kind::Webp
        } else if looks_like_svg(bytes) {
            Kind::Svg
        } else {
            Kind::Other
        }
    }

    /// Whether a page may show it as an image.
    pub fn inline(self) -> bool {
        matches!(self, Kind::Png | Kind::Jpeg | Kind::Gif | Kind::Webp)
    }

    /// The `Content-Type` it is served with.
    pub fn mime(self) -> &'static str {
        match self {
            Kind::Png => "image/png",
            Kind::Jpeg => "image/jpeg",
            Kind::Gif => "image/gif",
            Kind::Webp => "image/webp",
            // Never `image/svg+xml`: a browser would run its scripts if opened directly.
            Kind::Svg | Kind::Other => "application/octet-stream",
        }
    }
}

fn looks_like_svg(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(1024)];
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    text.contains("<svg")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_come_from_the_bytes() {
        assert_eq!(Kind::of(b"\x89PNG\r\n\x1a\nrest"), Kind::Png);
        assert_eq!(Kind::of(&[0xff, 0xd8, 0xff, 0xe0]), Kind::Jpeg);
        assert_eq!(Kind::of(b"GIF89a..."), Kind::Gif);
        assert_eq!(Kind::of(b"RIFF\0\0\0\0WEBPVP8 "), Kind::Webp);
        assert_eq!(
            Kind::of(b"<?xml version=\"1.0\"?><SVG onload=alert(1)>"),
            Kind::Svg
        );
        assert_eq!(Kind::of(b"<html><script>"), Kind::Other);
        assert!(!Kind::Svg.inline() && !Kind::Other.inline());
        assert_eq!(Kind::Svg.mime(), "application/octet-stream");
    }
}
