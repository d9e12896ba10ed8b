//! Post text as Markdown: parsed by `pulldown-cmark` (CommonMark with strikethrough, tables and
//! task lists), then cleaned by `ammonia` with a short allow-list, so nothing a member writes
//! can run script, load a resource or style the page.
//!
//! What members type is shown as they meant it:
//! * a line break is a line break (as in chat), not a space;
//! * bare `http(s)://` addresses become links (CommonMark only links `<…>` and `[…](…)`);
//! * raw HTML is shown as the text it is, never interpreted;
//! * images are never loaded from an address a post names (that would tell a stranger's server
//!   who reads the post, and when): `![alt](url)` becomes a link labelled with its alt text —
//!   except an image naming a blob of this node's, `![alt](/blob/<id>)` (what the composer's
//!   "Attach image" inserts): that is shown as its thumbnail, served by the local node (which
//!   fetches it from peers and verifies it, see `crate::http::blobs`), linked to the original;
//! * every link opens in a new tab with `rel="noopener noreferrer nofollow"`, and only
//!   `http`, `https` and `mailto` addresses are kept.

use maud::{Markup, PreEscaped};
use pulldown_cmark::{CowStr, Event, LinkType, Options, Parser, Tag, TagEnd};
use std::collections::HashSet;
use std::sync::OnceLock;

/// The sanitizer, built once.
fn cleaner() -> &'static ammonia::Builder<'static> {
    static CLEANER: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    CLEANER.get_or_init(|| {
        let tags: HashSet<&str> = [
            "p",
            "br",
            "em",
            "strong",
            "del",
            "code",
            "pre",
            "blockquote",
            "ul",
            "ol",
            "li",
            "a",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "hr",
            "table",
            "thead",
            "tbody",
            "tr",
            "th",
            "td",
            "input",
            "img",
        ]
        .into_iter()
        .collect();
        let mut b = ammonia::Builder::default();
        b.tags(tags)
            .url_schemes(["http", "https", "mailto"].into_iter().collect())
            .link_rel(Some("noopener noreferrer nofollow"))
            .add_tag_attributes("input", ["type", "checked"])
            .add_tag_attributes("ol", ["start"])
            .add_tag_attributes("th", ["style"])
            .add_tag_attributes("td", ["style"])
            .set_tag_attribute_value("a", "target", "_blank")
            .set_tag_attribute_value("input", "disabled", "")
            .add_tag_attributes("img", ["src", "alt"])
            .set_tag_attribute_value("img", "loading", "lazy")
            // The only images: blobs served by this node (see `blob_image`).
            .attribute_filter(|element, attribute, value| {
                if element == "img" && attribute == "src" && !blob_src(value) {
                    return None;
                }
                Some(value.into())
            });
        b.filter_style_properties(["text-align"].into_iter().collect());
        b
    })
}

/// Whether `src` is a blob's thumbnail on this node, `/blob/<id>?thumb=1`: the only image
/// source a post may have.
fn blob_src(src: &str) -> bool {
    src.strip_prefix("/blob/")
        .and_then(|r| r.strip_suffix("?thumb=1"))
        .is_some_and(|id| id.parse::<qun_identity::ContentId>().is_ok())
}

/// The blob an image's address names, if it is exactly `/blob/<id>`.
fn blob_image(dest: &str) -> Option<qun_identity::ContentId> {
    dest.strip_prefix("/blob/")?.parse().ok()
}

/// Most `@`s of one text looked up as mentions (the rest stay text).
pub const MAX_MENTIONS: usize = 32;

/// Finds a mention: given the text after an `@`, the length (bytes) of the member's name it
/// starts with and the address of their profile.
pub type Mentions<'m> = &'m dyn Fn(&str) -> Option<(usize, String)>;

/// Markdown text as safe HTML.
#[cfg(test)]
pub fn render(s: &str) -> Markup {
    render_with(s, &|_| None)
}

/// Markdown text as safe HTML, with `@name` of a member linked to their profile.
pub fn render_with(s: &str, mentions: Mentions<'_>) -> Markup {
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_STRIKETHROUGH);
    opts.insert(Options::ENABLE_TABLES);
    opts.insert(Options::ENABLE_TASKLISTS);
    let mut events: Vec<Event<'_>> = Vec::new();
    // Inside a link or code block, text is not searched for addresses.
    let mut in_link = 0usize;
    let mut in_code = false;
    let mut in_image = 0usize;
    // For each image open: whether it is a blob shown inline (closed as image and link).
    let mut images: Vec<bool> = Vec::new();
    // `@`s looked up as mentions so far (bounded per post).
    let mut looked = 0usize;
    for ev in Parser::new_ext(s, opts) {
        match ev {
            Event::Start(Tag::Link { .. }) => {
                in_link += 1;
                events.push(ev);
            }
            Event::End(TagEnd::Link) => {
                in_link = in_link.saturating_sub(1);
                events.push(ev);
            }
            Event::Start(Tag::CodeBlock(_)) => {
                in_code = true;
                events.push(ev);
            }
            Event::End(TagEnd::CodeBlock) => {
                in_code = false;
                events.push(ev);
            }
            // An image becomes a link to it, labelled with its alt text.
            Event::Start(Tag::Image {
                dest_url, title, ..
            }) => {
                in_image += 1;
                let blob = blob_image(&dest_url);
                images.push(blob.is_some());
                events.push(Event::Start(Tag::Link {
                    link_type: LinkType::Inline,
                    dest_url,
                    title: title.clone(),
                    id: CowStr::Borrowed(""),
                }));
                if let Some(id) = blob {
                    events.push(Event::Start(Tag::Image {
                        link_type: LinkType::Inline,
                        dest_url: CowStr::from(format!("{}?thumb=1", crate::blobs::url(&id))),
                        title,
                        id: CowStr::Borrowed(""),
                    }));
                }
            }
            Event::End(TagEnd::Image) => {
                in_image = in_image.saturating_sub(1);
                if images.pop().unwrap_or(false) {
                    events.push(Event::End(TagEnd::Image));
                }
                events.push(Event::End(TagEnd::Link));
            }
            Event::SoftBreak => events.push(Event::HardBreak),
            // Markup typed by a member is shown as the text it is.
            Event::Html(h) | Event::InlineHtml(h) => {
                if in_code {
                    events.push(Event::Text(h));
                } else {
                    linkify(
                        h,
                        in_link + in_image > 0,
                        mentions,
                        &mut looked,
                        &mut events,
                    );
                }
            }
            Event::Text(t) if !in_code => linkify(
                t,
                in_link + in_image > 0,
                mentions,
                &mut looked,
                &mut events,
            ),
            other => events.push(other),
        }
    }
    let mut html = String::with_capacity(s.len() * 3 / 2 + 16);
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    PreEscaped(cleaner().clean(&html).to_string())
}

/// Push `t` as text, with bare `http(s)://` addresses and `@mentions` of members made links
/// (unless already in a link).
fn linkify<'a>(
    t: CowStr<'a>,
    in_link: bool,
    mentions: Mentions<'_>,
    looked: &mut usize,
    out: &mut Vec<Event<'a>>,
) {
    if in_link || !(t.contains("http://") || t.contains("https://") || t.contains('@')) {
        out.push(Event::Text(t));
        return;
    }
    let s = t.to_string();
    let mut text = String::new();
    let link = |out: &mut Vec<Event<'a>>, url: String, label: String| {
        out.push(Event::Start(Tag::Link {
            link_type: LinkType::Inline,
            dest_url: CowStr::from(url),
            title: CowStr::Borrowed(""),
            id: CowStr::Borrowed(""),
        }));
        out.push(Event::Text(CowStr::from(label)));
        out.push(Event::End(TagEnd::Link));
    };
    let flush = |out: &mut Vec<Event<'a>>, text: &mut String| {
        if !text.is_empty() {
            out.push(Event::Text(CowStr::from(std::mem::take(text))));
        }
    };
    for (is_url, piece) in super::view::split_urls(&s) {
        if is_url {
            flush(out, &mut text);
            link(out, piece.to_string(), piece.to_string());
            continue;
        }
        let mut rest = piece;
        while let Some(m) = find_mention(rest).filter(|_| *looked < MAX_MENTIONS) {
            *looked += 1;
            let (before, from) = rest.split_at(m);
            text.push_str(before);
            match mentions(&from[1..]) {
                Some((len, url)) if from[1..].is_char_boundary(len) => {
                    flush(out, &mut text);
                    link(out, url, from[..1 + len].to_string());
                    rest = &from[1 + len..];
                }
                _ => {
                    text.push('@');
                    rest = &from[1..];
                }
            }
        }
        text.push_str(rest);
    }
    flush(out, &mut text);
}

/// The next `@` that may start a mention (not inside a word: `ada@example.org` is an address).
fn find_mention(s: &str) -> Option<usize> {
    s.match_indices('@').map(|(i, _)| i).find(|&i| {
        !s[..i]
            .chars()
            .next_back()
            .is_some_and(char::is_alphanumeric)
    })
}

#[cfg(test)]
mod tests {
    use super::render;

    fn r(s: &str) -> String {
        render(s).into_string()
    }

    #[test]
    fn formatting_and_code_blocks() {
        let h = r("**bold** _it_ ~~gone~~ `x<y`\n\n```rust\nfn main() { let a = 1 < 2; }\n```");
        assert!(h.contains("<strong>bold</strong>"), "{h}");
        assert!(h.contains("<em>it</em>"), "{h}");
        assert!(h.contains("<del>gone</del>"), "{h}");
        assert!(h.contains("<code>x&lt;y</code>"), "{h}");
        assert!(
            h.contains("<pre><code>fn main() { let a = 1 &lt; 2; }"),
            "{h}"
        );
    }

    #[test]
    fn line_breaks_are_kept() {
        let h = r("one\ntwo");
        assert!(h.contains("one<br>\ntwo"), "{h}");
    }

    #[test]
    fn no_script_no_handlers_no_styles() {
        for evil in [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "[x](javascript:alert(1))",
            "[x](JaVaScRiPt:alert(1))",
            "[x](data:text/html,<script>alert(1)</script>)",
            "<a href=\"javascript:alert(1)\">x</a>",
            "<div style=\"position:fixed\">x</div>",
            "<iframe src=https://evil.example></iframe>",
            "<svg onload=alert(1)>",
            "```\n</code></pre><script>alert(1)</script>\n```",
            "[x](https://a.example \"t\" onmouseover=alert(1))",
            "<details open ontoggle=alert(1)>",
        ] {
            let h = r(evil).to_ascii_lowercase();
            // Every real tag (text is escaped, so a raw `<` opens a tag) is allowed and carries
            // no handler, style or script address.
            for tag in h.split('<').skip(1) {
                let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
                let name = tag
                    .trim_start_matches('/')
                    .split([' ', '/'])
                    .next()
                    .unwrap_or("");
                assert!(
                    [
                        "p",
                        "br",
                        "a",
                        "code",
                        "pre",
                        "em",
                        "strong",
                        "del",
                        "blockquote"
                    ]
                    .contains(&name),
                    "{evil} → {h}"
                );
                for attr in tag.split_whitespace().skip(1) {
                    assert!(
                        ["href=", "target=", "rel="]
                            .iter()
                            .any(|a| attr.starts_with(a))
                            || !attr.contains('='),
                        "{evil} → {h}"
                    );
                    assert!(
                        !attr.starts_with("on") && !attr.starts_with("style"),
                        "{evil} → {h}"
                    );
                }
                assert!(!tag.contains("href=\"javascript"), "{evil} → {h}");
                assert!(!tag.contains("href=\"data"), "{evil} → {h}");
            }
        }
    }

    #[test]
    fn raw_html_is_shown_as_text() {
        let h = r("a <b>b</b> c");
        assert!(h.contains("&lt;b&gt;b&lt;/b&gt;"), "{h}");
    }

    #[test]
    fn images_are_links_never_loaded() {
        let h = r("![a cat](https://tracker.example/cat.png)");
        assert!(!h.contains("<img"), "{h}");
        assert!(
            h.contains("href=\"https://tracker.example/cat.png\"") && h.contains(">a cat</a>"),
            "{h}"
        );
    }

    #[test]
    fn images_of_blobs_are_shown_from_this_node() {
        let id = qun_identity::ContentId::of(b"cat");
        let h = r(&format!(
            "![a cat](/blob/{id}) and ![x](/blob/{id}/../../api)"
        ));
        assert!(
            h.contains(&format!(
                "<a href=\"/blob/{id}\" target=\"_blank\" rel=\"noopener noreferrer nofollow\"><img src=\"/blob/{id}?thumb=1\" alt=\"a cat\" loading=\"lazy\"></a>"
            )),
            "{h}"
        );
        // Anything else is never an image, whatever its address.
        assert_eq!(h.matches("<img").count(), 1, "{h}");
        for evil in [
            "<img src=\"/blob/x\">".to_string(),
            format!("<img src=/blob/{id}?thumb=1 onerror=alert(1)>"),
            format!("![x](//evil.example/blob/{id})"),
            format!("![x](/blob/{id}?thumb=1\" onerror=\"alert(1))"),
        ] {
            let h = r(&evil);
            assert!(!h.contains("<img"), "{evil} → {h}");
        }
    }

    #[test]
    fn bare_addresses_become_links() {
        let h = r("see https://example.org/x?a=1&b=2. ok");
        assert!(
            h.contains(
                "<a href=\"https://example.org/x?a=1&amp;b=2\" target=\"_blank\" rel=\"noopener noreferrer nofollow\">"
            ),
            "{h}"
        );
        assert!(h.contains("</a>. ok"), "{h}");
        // Not inside an explicit link or code.
        let h = r("[https://a.example](https://b.example) `https://c.example`");
        assert_eq!(h.matches("<a ").count(), 1, "{h}");
        assert!(h.contains("<code>https://c.example</code>"), "{h}");
    }

    #[test]
    fn links_get_rel_and_target() {
        let h = r("[site](https://example.org)");
        assert!(h.contains("rel=\"noopener noreferrer nofollow\""), "{h}");
        assert!(h.contains("target=\"_blank\""), "{h}");
    }

    #[test]
    fn mentions_link_to_profiles() {
        let find = |after: &str| {
            after
                .to_lowercase()
                .starts_with("ada lovelace")
                .then(|| ("ada lovelace".len(), "/c/x/m/z6MkAda".to_string()))
        };
        let h = super::render_with(
            "thanks @Ada Lovelace! and @nobody, mail ada@example.org",
            &find,
        )
        .into_string();
        assert!(
            h.contains(r#"<a href="/c/x/m/z6MkAda" target="_blank" rel="noopener noreferrer nofollow">@Ada Lovelace</a>!"#),
            "{h}"
        );
        assert!(h.contains("and @nobody"), "{h}");
        assert!(h.contains("ada@example.org"), "{h}");
        // Not in code.
        let h = super::render_with("`@Ada Lovelace`", &find).into_string();
        assert!(!h.contains("<a "), "{h}");
    }

    #[test]
    fn a_text_of_ats_costs_a_bounded_number_of_lookups() {
        let calls = std::cell::Cell::new(0usize);
        let find = |_: &str| {
            calls.set(calls.get() + 1);
            None
        };
        let _ = super::render_with(&"@".repeat(64 * 1024), &find);
        assert!(calls.get() <= super::MAX_MENTIONS, "{}", calls.get());
    }

    #[test]
    fn task_lists_and_tables() {
        let h = r("- [x] done\n- [ ] todo\n\n| a | b |\n|---|--:|\n| 1 | 2 |");
        assert!(h.contains("<input"), "{h}");
        assert!(h.contains("disabled"), "{h}");
        assert!(h.contains("<table>"), "{h}");
    }

    #[test]
    fn huge_nesting_is_fine() {
        let s = ">".repeat(10_000) + " x";
        let _ = r(&s);
        let s = "*".repeat(64 * 1024);
        let _ = r(&s);
        let s = "[".repeat(8_000) + &"]".repeat(8_000);
        let _ = r(&s);
    }
}
