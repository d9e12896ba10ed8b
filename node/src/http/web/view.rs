//! The page shell (sidebar, header) and small components shared by the pages: avatars, names,
//! times, post text. Everything interpolated goes through maud, which escapes it.

use crate::dto::{CommunitySummary, CommunityView, MemberStatus, Status};
use crate::http::html::shell;
use maud::{Markup, PreEscaped, html};
use qun_crdt::{ChannelId, ChannelView};
use std::collections::{BTreeMap, BTreeSet};

/// What the sidebar shows.
pub struct Nav {
    /// Communities held (id, name, our status, …).
    pub communities: Vec<CommunitySummary>,
    /// Communities being joined.
    pub joining: Vec<String>,
    /// Connected peers.
    pub peers: usize,
    /// The community shown, with its channels and the channel shown.
    pub current: Option<Current>,
    /// The page outside communities: `home`, `new`, `join`, `settings`, `notifications`, `search`.
    pub page: &'static str,
}

/// The community a page is about.
pub struct Current {
    /// Its id.
    pub id: String,
    /// Its channels.
    pub channels: Vec<ChannelView>,
    /// The channel shown, if the page is a channel.
    pub channel: Option<ChannelId>,
    /// Which tab: `posts`, `members`, `invite`, `market`, `wallet`, `proposals`, `bounties`.
    pub tab: &'static str,
}

impl Current {
    /// The community of `view`, on tab `tab` (and channel `channel`).
    pub fn of(view: &CommunityView, channel: Option<ChannelId>, tab: &'static str) -> Self {
        Current {
            id: view.summary.id.clone(),
            channels: view.channels.clone(),
            channel,
            tab,
        }
    }
}

impl Nav {
    /// The sidebar's facts, from the node's status.
    pub fn new(st: &Status, current: Option<Current>) -> Nav {
        Nav {
            communities: st.communities.clone(),
            joining: st.joining.clone(),
            peers: st.connected_peers,
            current,
            page: "home",
        }
    }

    /// For a page outside communities.
    pub fn on(mut self, page: &'static str) -> Nav {
        self.page = page;
        self
    }
}

/// Display names of a community's members (from their profiles); "You" for this member
/// without a name.
pub fn names(view: &CommunityView) -> Names {
    Names {
        named: view
            .names
            .iter()
            .map(|(m, n)| (m.to_string(), n.clone()))
            .collect(),
        me: view.me.to_string(),
        shared: shared_names(view.names.iter().map(|(m, n)| (m.to_string(), n.as_str()))),
        petnames: BTreeMap::new(),
    }
}

/// A name as people read it: compatibility-normalized (NFKC: fullwidth `Ａ` is `A`), lower
/// case, without spaces, dots, dashes, underscores or invisible characters, then reduced to
/// its confusable skeleton (Unicode TS #39: Cyrillic `а` reads as Latin `a`).
pub fn name_key(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    key_of(name.nfkc().flat_map(char::to_lowercase))
}

/// The same reading with case kept until the skeleton: capital `I` reads as `l` and `0` as
/// `O` (`AIice` as `Alice`, `B0B` as `BOB`), which lower case first would hide.
fn name_key_cased(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let kept: String = name.nfkc().filter(|c| !ignorable(*c)).collect();
    unicode_security::skeleton(&kept)
        .flat_map(char::to_lowercase)
        .collect()
}

fn ignorable(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '.' | '-' | '_' | '\u{200b}'..='\u{200f}' | '\u{2060}' | '\u{feff}'
        )
}

fn key_of(chars: impl Iterator<Item = char>) -> String {
    let plain: String = chars.filter(|c| !ignorable(*c)).collect();
    unicode_security::skeleton(&plain).collect()
}

/// The members (ids) whose name reads the same as another member's, by either reading.
fn shared_names<'a>(named: impl Iterator<Item = (String, &'a str)>) -> BTreeSet<String> {
    let named: Vec<(String, &str)> = named.collect();
    let mut out = BTreeSet::new();
    for key in [name_key as fn(&str) -> String, name_key_cased] {
        let mut by_key: BTreeMap<String, Vec<&String>> = BTreeMap::new();
        for (m, n) in &named {
            by_key.entry(key(n)).or_default().push(m);
        }
        for ms in by_key.into_values().filter(|ms| ms.len() > 1) {
            out.extend(ms.into_iter().cloned());
        }
    }
    out
}

/// Longest name a mention is matched against (characters).
pub const MENTION_CHARS: usize = 64;

/// Member id → display name.
#[derive(Default)]
pub struct Names {
    named: BTreeMap<String, String>,
    me: String,
    shared: BTreeSet<String>,
    /// The names this member gave others (`http::prefs`), shown instead of theirs.
    petnames: BTreeMap<String, String>,
}

impl Names {
    /// With the petnames this member gave (shown instead of the names members chose).
    pub fn with_petnames(mut self, prefs: &crate::http::prefs::Prefs) -> Names {
        self.petnames = prefs.petnames();
        self
    }

    /// The petname this member gave `member`, if any.
    pub fn petname(&self, member: &str) -> Option<&str> {
        self.petnames.get(member).map(String::as_str)
    }

    /// The name the member chose, if any.
    pub fn chosen(&self, member: &str) -> Option<&str> {
        self.named.get(member).map(String::as_str)
    }

    /// The petname, else the name, or "You", or a short form of the id.
    pub fn of(&self, member: &str) -> String {
        if let Some(p) = self.petnames.get(member) {
            return p.clone();
        }
        match self.named.get(member) {
            Some(n) => n.clone(),
            None if member == self.me => "You".into(),
            None => short_id(member),
        }
    }

    /// Whether the member chose a name.
    pub fn is_named(&self, member: &str) -> bool {
        self.named.contains_key(member)
    }

    /// A mention at the start of `after` (the text after an `@`): the byte length of the
    /// longest member name it starts with (case aside, ending at a non-letter) and that
    /// member's profile address in community `cid`.
    pub fn mention(&self, after: &str, cid: &str) -> Option<(usize, String)> {
        // Only the start of `after` is looked at (a name is at most MENTION_CHARS long), and
        // its character boundaries are found once: the cost of one `@` is bounded whatever
        // the text after it.
        let ends: Vec<usize> = after
            .char_indices()
            .map(|(i, _)| i)
            .skip(1)
            .take(MENTION_CHARS)
            .chain(std::iter::once(after.len()))
            .collect();
        let mut best: Option<(usize, &String)> = None;
        for (m, n) in &self.named {
            let chars = n.chars().count();
            if chars == 0 || chars > MENTION_CHARS {
                continue;
            }
            let Some(&end) = ends.get(chars - 1) else {
                continue;
            };
            let bounded = after[end..]
                .chars()
                .next()
                .is_none_or(|c| !c.is_alphanumeric());
            if bounded
                && after[..end].to_lowercase() == n.to_lowercase()
                && best.is_none_or(|(l, _)| end > l)
            {
                best = Some((end, m));
            }
        }
        best.map(|(len, m)| (len, format!("/c/{cid}/m/{m}")))
    }

    /// The names members chose (not mine), for completing `@` mentions as JSON safe inside a
    /// `<script type="application/json">` (at most 2,000, sorted).
    pub fn mention_list(&self) -> Markup {
        let mut names: Vec<&str> = self
            .named
            .iter()
            .filter(|(m, n)| **m != self.me && n.chars().count() <= MENTION_CHARS)
            .map(|(_, n)| n.as_str())
            .collect();
        names.sort_unstable();
        names.dedup();
        names.truncate(2_000);
        let json = serde_json::to_string(&names)
            .unwrap_or_else(|_| "[]".into())
            .replace('<', "\\u003c")
            .replace('>', "\\u003e")
            .replace('&', "\\u0026");
        html! { script type="application/json" id="member-names" { (PreEscaped(json)) } }
    }

    /// Whether another member's name reads the same (see [`name_key`]): the page says so next
    /// to the name, since anyone may call themselves anything.
    pub fn shares_name(&self, member: &str) -> bool {
        self.shared.contains(member) && !self.petnames.contains_key(member)
    }

    /// The warning shown next to a name another member uses too (nothing otherwise).
    pub fn same_name_warning(&self, member: &str) -> Markup {
        html! {
            @if self.shares_name(member) {
                span class="pill warn same-name" title={ "Another member uses this name too. This one is " (short_id(member)) ": check the picture and the id." } { "same name as another member" }
            }
        }
    }
}

/// A fresh idempotency key for a form (`nonce`): the node makes the form's edit once however
/// often the form is sent.
pub fn nonce() -> String {
    data_encoding::HEXLOWER.encode(&rand::random::<[u8; 16]>())
}

/// `1 member`, `3 members`.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// `z6MkhaXg…Fv2k`.
pub fn short_id(id: &str) -> String {
    let n = id.chars().count();
    if n <= 14 {
        return id.to_string();
    }
    let head: String = id.chars().take(8).collect();
    let tail: String = id.chars().skip(n - 4).collect();
    format!("{head}…{tail}")
}

/// A stable colour (one of 10) for an id.
fn hue_class(id: &str) -> String {
    let h = id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("c{}", h % 10)
}

/// The initials of a name (one or two letters).
fn initials(name: &str) -> String {
    let words: Vec<&str> = name
        .split(|c: char| c.is_whitespace() || c == '-' || c == '_')
        .filter(|w| !w.is_empty())
        .collect();
    let first = |w: &str| w.chars().next().map(|c| c.to_uppercase().to_string());
    match words.as_slice() {
        [] => "?".into(),
        [one] => {
            if one.starts_with("z6Mk") {
                // An id: skip the multicodec prefix.
                one.chars().skip(4).take(2).collect()
            } else {
                first(one).unwrap_or_default()
            }
        }
        [a, .., b] => format!(
            "{}{}",
            first(a).unwrap_or_default(),
            first(b).unwrap_or_default()
        ),
    }
}

/// A round avatar derived from the member's key (not from the name it chose).
pub fn avatar(id: &str, size: &str) -> Markup {
    html! {
        span class={ "avatar " (size) } aria-hidden="true" { (super::identicon::Identicon::of(id).svg()) }
    }
}

/// A rounded-square community badge.
pub fn badge(id: &str, name: &str) -> Markup {
    html! {
        span class={ "badge " (hue_class(id)) } aria-hidden="true" { (initials(name)) }
    }
}

/// `3 min ago`, `2 h ago`, `12 Mar`, with the exact time as a tooltip.
pub fn time(ms: u64, now_ms: u64) -> Markup {
    let ago = now_ms.saturating_sub(ms) / 1000;
    let text = if ago < 45 {
        "just now".to_string()
    } else if ago < 3600 {
        format!("{} min ago", ago.div_ceil(60).max(1))
    } else if ago < 86_400 {
        format!("{} h ago", ago / 3600)
    } else if ago < 7 * 86_400 {
        format!("{} d ago", ago / 86_400)
    } else {
        let (y, m, d) = civil(ms);
        format!("{d} {} {y}", MONTHS[(m - 1) as usize % 12])
    };
    html! { time datetime=(iso(ms)) title=(iso(ms)) { (text) } }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Year, month, day (UTC) of a Unix time in ms (Hinnant's `civil_from_days`).
fn civil(ms: u64) -> (i64, u32, u32) {
    let z = i64::try_from(ms / 86_400_000).unwrap_or(0) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let m = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `2026-03-21T14:05:09Z`.
pub fn iso(ms: u64) -> String {
    let (y, m, d) = civil(ms);
    let s = ms / 1000 % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// `s` cut into plain pieces and bare `http(s)://` addresses (`true`), in order; punctuation
/// that ends a sentence is left out of an address.
pub fn split_urls(s: &str) -> Vec<(bool, &str)> {
    let mut parts: Vec<(bool, &str)> = Vec::new();
    let mut rest = s;
    while let Some(i) = find_url(rest) {
        let (before, from) = rest.split_at(i);
        let end = from
            .find(|c: char| c.is_whitespace() || c == '<' || c == '>' || c == '"')
            .unwrap_or(from.len());
        let (mut url, mut after) = from.split_at(end);
        // Trailing punctuation belongs to the sentence.
        while let Some(c) = url.chars().last() {
            if ".,;:!?)]'".contains(c) {
                let cut = url.len() - c.len_utf8();
                after = &from[cut..];
                url = &url[..cut];
            } else {
                break;
            }
        }
        parts.push((false, before));
        // `https://` alone is no address.
        parts.push((url.len() > "https://".len(), url));
        rest = after;
    }
    parts.push((false, rest));
    parts.retain(|(_, p)| !p.is_empty());
    parts
}

/// Plain text (a bio, a link): shown as written (line breaks kept by CSS), with http(s) links
/// made clickable. No markup from the text reaches the page: every piece is escaped.
pub fn text(s: &str) -> Markup {
    let parts = split_urls(s);
    html! {
        @for (link, p) in parts {
            @if link {
                a href=(p) rel="noopener noreferrer nofollow" target="_blank" { (p) }
            } @else {
                (p)
            }
        }
    }
}

fn find_url(s: &str) -> Option<usize> {
    let a = s.find("https://");
    let b = s.find("http://");
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Percent-encode a query value.
pub fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Inline SVG icons (24×24, stroked), so the page needs no icon font or network.
pub fn icon(name: &str) -> Markup {
    let path = match name {
        "home" => "M3 11l9-8 9 8M5 10v10h5v-6h4v6h5V10",
        "mail" => "M3 5h18v14H3zM3 6l9 7 9-7",
        "plus" => "M12 5v14M5 12h14",
        "join" => "M10 17l5-5-5-5M15 12H3M14 3h5a2 2 0 0 1 2 2v14a2 2 0 0 1-2 2h-5",
        "settings" => {
            "M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM19.4 15a1.7 1.7 0 0 0 .3 1.8l.1.1a2 2 0 1 1-2.8 2.8l-.1-.1a1.7 1.7 0 0 0-1.8-.3 1.7 1.7 0 0 0-1 1.5V21a2 2 0 1 1-4 0v-.1a1.7 1.7 0 0 0-1.1-1.5 1.7 1.7 0 0 0-1.8.3l-.1.1a2 2 0 1 1-2.8-2.8l.1-.1a1.7 1.7 0 0 0 .3-1.8 1.7 1.7 0 0 0-1.5-1H3a2 2 0 1 1 0-4h.1a1.7 1.7 0 0 0 1.5-1.1 1.7 1.7 0 0 0-.3-1.8l-.1-.1a2 2 0 1 1 2.8-2.8l.1.1a1.7 1.7 0 0 0 1.8.3H9a1.7 1.7 0 0 0 1-1.5V3a2 2 0 1 1 4 0v.1a1.7 1.7 0 0 0 1 1.5 1.7 1.7 0 0 0 1.8-.3l.1-.1a2 2 0 1 1 2.8 2.8l-.1.1a1.7 1.7 0 0 0-.3 1.8V9a1.7 1.7 0 0 0 1.5 1H21a2 2 0 1 1 0 4h-.1a1.7 1.7 0 0 0-1.5 1z"
        }
        "hash" => "M4 9h16M4 15h16M10 3L8 21M16 3l-2 18",
        "users" => {
            "M17 21v-2a4 4 0 0 0-4-4H5a4 4 0 0 0-4 4v2M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM23 21v-2a4 4 0 0 0-3-3.9M16 3.1a4 4 0 0 1 0 7.8"
        }
        "invite" => {
            "M16 21v-2a4 4 0 0 0-4-4H5a4 4 0 0 0-4 4v2M8.5 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM20 8v6M23 11h-6"
        }
        "reply" => "M9 17l-5-5 5-5M4 12h11a5 5 0 0 1 5 5v2",
        "smile" => {
            "M12 22a10 10 0 1 0 0-20 10 10 0 0 0 0 20zM8 14s1.5 2 4 2 4-2 4-2M9 9h.01M15 9h.01"
        }
        "edit" => "M12 20h9M16.5 3.5a2.1 2.1 0 0 1 3 3L7 19l-4 1 1-4z",
        "trash" => "M3 6h18M8 6V4h8v2M19 6l-1 14H6L5 6",
        "eye-off" => {
            "M17.9 17.9A10 10 0 0 1 12 20c-7 0-11-8-11-8a18 18 0 0 1 5.1-5.9M9.9 4.2A9 9 0 0 1 12 4c7 0 11 8 11 8a18 18 0 0 1-2.2 3.2M1 1l22 22"
        }
        "shield" => "M12 22s8-4 8-10V5l-8-3-8 3v7c0 6 8 10 8 10z",
        "key" => {
            "M21 2l-2 2m-7.6 7.6a5.5 5.5 0 1 1-7.8 7.8 5.5 5.5 0 0 1 7.8-7.8zm0 0L15.5 7.5m0 0l3 3L22 7l-3-3m-3.5 3.5L19 4"
        }
        "download" => "M21 15v4a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2v-4M7 10l5 5 5-5M12 15V3",
        "copy" => "M9 9h11v11H9zM5 15H4V4h11v1",
        "star" => "M12 2l3.1 6.3 6.9 1-5 4.9 1.2 6.8-6.2-3.2-6.2 3.2L7 14.2 2 9.3l6.9-1z",
        "back" => "M19 12H5M12 19l-7-7 7-7",
        "link" => {
            "M10 13a5 5 0 0 0 7.5.5l3-3a5 5 0 0 0-7-7l-1.7 1.7M14 11a5 5 0 0 0-7.5-.5l-3 3a5 5 0 0 0 7 7l1.7-1.7"
        }
        "bell" => "M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9M13.7 21a2 2 0 0 1-3.4 0",
        _ => "M12 12h.01",
    };
    html! {
        svg class="icon" viewBox="0 0 24 24" aria-hidden="true" {
            path d=(path) {}
        }
    }
}

/// The logo: three overlapping circles (a group).
fn logo() -> Markup {
    html! {
        svg class="logo" viewBox="0 0 32 32" aria-hidden="true" {
            circle cx="11" cy="13" r="7" class="l1" {}
            circle cx="21" cy="13" r="7" class="l2" {}
            circle cx="16" cy="21" r="7" class="l3" {}
        }
    }
}

/// A whole page: sidebar with the communities (and the current one's channels), and `main`.
pub fn page(title: &str, nav: &Nav, main: Markup) -> Markup {
    shell(
        title,
        html! {
            div class="app" {
                (sidebar(nav))
                main class="main" id="main" { (main) }
            }
        },
    )
}

fn sidebar(nav: &Nav) -> Markup {
    let cur = nav.current.as_ref().map(|c| c.id.as_str());
    html! {
        nav class="sidebar" aria-label="Communities" {
            div class="brand-row" {
                a class="brand" href="/" { (logo()) span { "qun" } }
                button type="button" class="btn ghost small menu-toggle" id="menu-toggle" aria-expanded="false" aria-controls="side-rest" { "Menu" span class="count" data-menu-count hidden {} }
            }
            div class="side-rest" id="side-rest" {
            form class="side-search" method="get" action="/search" role="search" {
                input type="search" name="q" placeholder="Search" aria-label="Search posts and members";
            }
            div class="side-section" {
                a class={ "side-link" @if cur.is_none() && nav.page == "home" { " active" } } href="/" { (icon("home")) "Home" }
                (super::notifications::side_link(nav.page == "notifications"))
                (super::messages::side_link(nav.page == "messages"))
            }
            div class="side-title" { "Communities" }
            @if nav.communities.is_empty() && nav.joining.is_empty() {
                p class="side-empty" { "None yet" }
            }
            ul class="side-list" {
                @for CommunitySummary { id, name, status, .. } in &nav.communities {
                    li {
                        a class={ "community-link" @if cur == Some(id.as_str()) { " active" } } href={ "/c/" (id) } {
                            (badge(id, name))
                            span class="name" { (name) }
                            @if *status == MemberStatus::Requested { span class="pill" { "pending" } }
                            span class="count" data-unread-for=(id) hidden {}
                        }
                        @if let Some(c) = nav.current.as_ref().filter(|c| c.id == *id) {
                            ul class="channel-list" {
                                @for ch in c.channels.iter().filter(|ch| !ch.archived) {
                                    li {
                                        a class={ "channel-link" @if c.tab == "posts" && c.channel.as_ref() == Some(&ch.id) { " active" } }
                                            href={ "/c/" (id) "?channel=" (enc(ch.id.as_str())) } {
                                            (icon("hash")) (ch.title)
                                        }
                                    }
                                }
                                li {
                                    a class={ "channel-link" @if c.tab == "members" { " active" } } href={ "/c/" (id) "/members" } {
                                        (icon("users")) "Members & trust"
                                    }
                                }
                                li {
                                    a class={ "channel-link" @if c.tab == "market" { " active" } } href={ "/c/" (id) "/market" } {
                                        (icon("star")) "Market"
                                    }
                                }
                                li {
                                    a class={ "channel-link" @if c.tab == "wallet" { " active" } } href={ "/c/" (id) "/wallet" } {
                                        (icon("key")) "Wallet"
                                    }
                                }
                                li {
                                    a class={ "channel-link" @if c.tab == "proposals" { " active" } } href={ "/c/" (id) "/proposals" } {
                                        (icon("users")) "Proposals"
                                    }
                                }
                                li {
                                    a class={ "channel-link" @if c.tab == "bounties" { " active" } } href={ "/c/" (id) "/bounties" } {
                                        (icon("star")) "Bounties"
                                    }
                                }
                            }
                        }
                    }
                }
                @for id in &nav.joining {
                    li {
                        a class={ "community-link" @if cur == Some(id.as_str()) { " active" } } href={ "/c/" (id) } {
                            span class="badge joining" aria-hidden="true" { "…" }
                            span class="name" { "Joining " (short_id(id)) }
                        }
                    }
                }
            }
            div class="side-actions" {
                a class={ "side-link" @if nav.page == "new" { " active" } } href="/new" { (icon("plus")) "New community" }
                a class={ "side-link" @if nav.page == "join" { " active" } } href="/join" { (icon("join")) "Join with a code" }
            }
            div class="side-foot" {
                a class={ "side-link" @if nav.page == "settings" { " active" } } href="/settings" { (icon("settings")) "Settings" }
                div class="net" title="Live updates and connected peers" {
                    span id="live-dot" class="dot" {}
                    span id="peer-count" { (plural(nav.peers, "peer", "peers")) }
                }
            }
            }
        }
    }
}

/// A trust bar, `share` in [0, 1].
pub fn bar(share: f64) -> Markup {
    let w = (share.clamp(0.0, 1.0) * 100.0).round();
    html! {
        svg class="bar" viewBox="0 0 100 6" preserveAspectRatio="none" aria-hidden="true" {
            rect class="bar-bg" x="0" y="0" width="100" height="6" rx="3" {}
            rect class="bar-fg" x="0" y="0" width=(w) height="6" rx="3" {}
        }
    }
}

/// An already-escaped SVG string produced by the QR encoder from our own data.
pub fn raw_svg(svg: String) -> Markup {
    PreEscaped(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_escapes_and_links() {
        let m =
            text("<script>alert(1)</script> see https://example.org/x?a=1&b=2. ok").into_string();
        assert!(!m.contains("<script>"), "{m}");
        assert!(m.contains("&lt;script&gt;"), "{m}");
        assert!(
            m.contains(r#"<a href="https://example.org/x?a=1&amp;b=2" "#),
            "{m}"
        );
        assert!(m.ends_with(". ok"), "{m}");
        let m = text(r#"x javascript:alert(1) "onmouseover="y"#).into_string();
        assert!(!m.contains("<a"), "{m}");
        assert!(!m.contains(r#""onmouseover"#), "{m}");
    }

    #[test]
    fn dates() {
        assert_eq!(iso(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso(1_709_251_199_000), "2024-02-29T23:59:59Z");
        assert_eq!(iso(1_774_051_200_000), "2026-03-21T00:00:00Z");
    }

    #[test]
    fn names_that_read_the_same() {
        let key = super::name_key("Alice");
        let same_as_alice = |n: &str| {
            super::shared_names(
                [("a", "Alice"), ("x", n)]
                    .into_iter()
                    .map(|(m, n)| (m.to_string(), n)),
            )
            .len()
                == 2
        };
        assert!(same_as_alice("AIice") && same_as_alice("ALICE"));
        assert!(!same_as_alice("Alicia"));
        for same in [
            "alice",
            " ALICE ",
            "Ａｌｉｃｅ",
            "A.lice",
            "Al\u{200b}ice",
            "\u{410}lice",
        ] {
            assert_eq!(super::name_key(same), key, "{same:?}");
        }
        assert_ne!(super::name_key("Alicia"), key);
        assert_eq!(super::name_key_cased("B0B"), super::name_key_cased("BOB"));
        let shared = super::shared_names(
            [("a", "Alice"), ("b", "Bob"), ("c", "аlice"), ("d", "Carol")]
                .into_iter()
                .map(|(m, n)| (m.to_string(), n)),
        );
        assert_eq!(shared.into_iter().collect::<Vec<_>>(), ["a", "c"]);
    }

    #[test]
    fn names_and_initials() {
        assert_eq!(initials("Ada Lovelace"), "AL");
        assert_eq!(initials("ada"), "A");
        assert_eq!(initials("z6MkhaXgBZD"), "ha");
        assert_eq!(
            short_id("z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"),
            "z6MkhaXg…2doK"
        );
        assert_eq!(enc("general/12/ab c"), "general%2F12%2Fab%20c");
    }
}
