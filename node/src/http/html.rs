//! The HTML document every page is rendered in (head with the stylesheet and script, then the
//! body), shared by the web page and the HTTP layer's error pages.

use maud::{DOCTYPE, Markup, html};

/// The HTML document around a body.
pub fn shell(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                title { (title) " · qun 群" }
                link rel="icon" href="/static/icon.svg" type="image/svg+xml";
                link rel="stylesheet" href=(concat!("/static/app.css?v=", env!("CARGO_PKG_VERSION")));
                script src=(concat!("/static/app.js?v=", env!("CARGO_PKG_VERSION"))) defer {}
            }
            body { (body) }
        }
    }
}
