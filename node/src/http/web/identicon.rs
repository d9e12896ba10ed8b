//! Avatars derived from a member's key: a 5×5 mirrored pattern in a colour, both taken from the
//! blake3 hash of the member id. A display name is chosen by its member (anyone can call
//! themselves "Alice"); the pattern is not: two members who look alike here hold keys whose
//! hashes agree in 23 bits (a hue in 360 and 15 pattern bits), and the page also warns when
//! two members in view share a name (`view::Names::shares_name`).

use maud::{Markup, html};

/// The pattern and colour of an id.
#[derive(Debug, PartialEq, Eq)]
pub struct Identicon {
    /// Hue, 0..360.
    pub hue: u16,
    /// Cells on, 5 rows × 3 columns (mirrored to 5), bit `row * 3 + col`.
    pub cells: u16,
}

impl Identicon {
    /// The identicon of an id (its text form).
    pub fn of(id: &str) -> Identicon {
        let h = blake3::hash(id.as_bytes());
        let b = h.as_bytes();
        let hue = u16::from_le_bytes([b[0], b[1]]) % 360;
        let mut cells = u16::from_le_bytes([b[2], b[3]]) & 0x7fff;
        // Never blank, never full: a pattern that says nothing.
        if cells == 0 || cells == 0x7fff {
            cells ^= 0x2a55;
        }
        Identicon { hue, cells }
    }

    /// As inline SVG (10×10 units, scaled by the surrounding box).
    pub fn svg(&self) -> Markup {
        let fg = format!("hsl({} 58% 46%)", self.hue);
        let bg = format!("hsl({} 60% 92%)", self.hue);
        let mut rects = Vec::new();
        for row in 0..5u16 {
            for col in 0..3u16 {
                if self.cells & (1 << (row * 3 + col)) != 0 {
                    rects.push((col, row));
                    if col < 2 {
                        rects.push((4 - col, row));
                    }
                }
            }
        }
        html! {
            svg class="identicon" viewBox="-1 -1 7 7" aria-hidden="true" {
                rect x="-1" y="-1" width="7" height="7" fill=(bg) {}
                @for (x, y) in rects {
                    rect x=(x) y=(y) width="1" height="1" fill=(fg) {}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Identicon;

    #[test]
    fn stable_and_distinct() {
        let a = Identicon::of("z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK");
        assert_eq!(
            a,
            Identicon::of("z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK")
        );
        // Across many ids, few collide in both colour and pattern.
        let mut seen = std::collections::HashSet::new();
        let mut same = 0;
        for i in 0..5_000 {
            let id = Identicon::of(&format!("z6Mk{i}"));
            assert!(id.hue < 360);
            assert!(id.cells != 0 && id.cells < 0x7fff);
            if !seen.insert((id.hue, id.cells)) {
                same += 1;
            }
        }
        assert!(same < 10, "{same} collisions in 5,000");
    }

    #[test]
    fn svg_is_mirrored() {
        let s = Identicon {
            hue: 10,
            cells: 0b1,
        }
        .svg()
        .into_string();
        assert!(
            s.contains(r#"x="0" y="0""#) && s.contains(r#"x="4" y="0""#),
            "{s}"
        );
        let s = Identicon {
            hue: 10,
            cells: 0b100,
        }
        .svg()
        .into_string();
        assert_eq!(
            s.matches("width=\"1\"").count(),
            1,
            "the middle column once: {s}"
        );
    }
}
