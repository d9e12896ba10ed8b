//! The invite dialog: a code for one person, as text and as a QR code.

use super::community::{Head, community_header};
use super::view::{self, Current, Nav, icon, page};
use crate::dto::InviteRequest;
use crate::http::AppState;
use crate::http::error::{HttpError, PageError};
use crate::http::extract::{Community, Form, Query};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Redirect;
use maud::{Markup, html};
use qun_crdt::CommunityId;

/// What the invite dialog shows around the code.
struct InviteData {
    nav: Nav,
    head: Head,
}

async fn read_invite(s: &AppState, c: CommunityId) -> Result<InviteData, PageError> {
    let v = s.node.community_view(c).await?;
    let status = s.node.status().await?;
    Ok(InviteData {
        nav: Nav::new(&status, Some(Current::of(&v, None, "invite"))),
        head: Head::new(&v, Vec::new()),
    })
}

/// `?shown=<ticket>`: the code made by the form, kept for this page.
#[derive(serde::Deserialize)]
pub struct Shown {
    #[serde(default)]
    shown: Option<String>,
}

/// `GET /c/{id}/invite`: the dialog, before a code is made; with `?shown=` the code the form
/// made (a reload shows the same code; it never makes another).
pub async fn invite_form(
    State(s): State<AppState>,
    Community(c): Community,
    Query(q): Query<Shown>,
) -> Result<Markup, PageError> {
    let data = read_invite(&s, c).await?;
    let Some(ticket) = q.shown else {
        return Ok(invite_page(&data, None, false));
    };
    let kept = s.auth.result(&ticket).and_then(|r| {
        let (hours, code) = r.split_once(':')?;
        Some((hours.parse::<u64>().ok()?, code.to_string()))
    });
    match kept {
        Some((hours, code)) => {
            let qr = qr_svg(&code)?;
            Ok(invite_page(&data, Some((&code, qr, hours)), false))
        }
        None => Ok(invite_page(&data, None, true)),
    }
}

/// `POST /c/{id}/invite`: make a code, then show it at its own address (POST, redirect,
/// GET: Back and reload neither resend the form nor make another code).
pub async fn invite(
    State(s): State<AppState>,
    Community(c): Community,
    Form { form, .. }: Form<InviteRequest>,
) -> Result<Redirect, PageError> {
    let (_, valid_ms) = form.validate()?;
    let code = s.node.invite(c, None, Some(valid_ms)).await?;
    let ticket = s
        .auth
        .keep_result(format!("{}:{code}", valid_ms / 3_600_000));
    Ok(Redirect::to(&format!("/c/{c}/invite?shown={ticket}")))
}

/// The link that opens the invitee's own node's join page with `code` filled in: the code goes
/// in the fragment (after `#`), which the browser keeps to itself (never sent in a request or
/// a `Referer`), and the page's script puts it in the form.
pub fn invite_link(code: &str) -> String {
    format!("http://{}/join#{code}", crate::config::DEFAULT_API_ADDR)
}

fn qr_svg(code: &str) -> Result<String, PageError> {
    use qrcode::render::svg;
    let q = qrcode::QrCode::with_error_correction_level(code.as_bytes(), qrcode::EcLevel::L)
        .map_err(|e| {
            PageError(HttpError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("QR code: {e}"),
                "copy the code as text instead",
            ))
        })?;
    let svg = q
        .render::<svg::Color<'_>>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .dark_color(svg::Color("#111"))
        .light_color(svg::Color("#fff"))
        .build();
    // Inline in HTML: drop the XML declaration.
    Ok(match svg.find("<svg") {
        Some(i) => svg[i..].to_string(),
        None => svg,
    })
}

fn invite_page(d: &InviteData, code: Option<(&str, String, u64)>, gone: bool) -> Markup {
    let s = &d.head.summary;
    page(
        "Invite",
        &d.nav,
        html! {
            (community_header(&d.head, "invite"))
            div class="dialog-backdrop" {
                div class="dialog card" role="dialog" aria-labelledby="invite-title" {
                    div class="dialog-head" {
                        h2 id="invite-title" { (icon("invite")) "Invite people to " (s.name) }
                        a class="icon-btn" href={ "/c/" (s.id) } aria-label="Close" { "✕" }
                    }
                    @match code {
                        None => {
                            @if gone {
                                div class="notice warn" id="invite-gone" { "That invite code is no longer shown here (codes are shown for an hour after they are made). It still works for whoever has it; make a new one for someone else." }
                            }
                            p { "An invite code lets one person join. Send it privately; it contains this node's addresses so their node can find the community." }
                            form method="post" action={ "/c/" (s.id) "/invite" } class="form" {
                                label { span { "Valid for" }
                                    select name="valid_hours" {
                                        option value="24" { "1 day" }
                                        option value="168" selected { "7 days" }
                                        option value="720" { "30 days" }
                                    }
                                }
                                div class="form-actions" {
                                    a class="btn ghost" href={ "/c/" (s.id) } { "Cancel" }
                                    button class="btn primary" type="submit" id="make-invite" { "Create invite code" }
                                }
                            }
                        }
                        Some((code, qr, hours)) => {
                            div class="invite-grid" {
                                div class="qr" { (view::raw_svg(qr)) }
                                div class="invite-code" {
                                    label { span { "Invite code" }
                                        textarea id="invite-code" class="mono" rows="7" readonly { (code) }
                                    }
                                    input type="hidden" id="invite-link" value=(invite_link(code));
                                    div class="form-actions left" {
                                        button type="button" class="btn primary" data-copy="invite-link" { (icon("copy")) "Copy invite link" }
                                        button type="button" class="btn" data-copy="invite-code" { (icon("copy")) "Copy code" }
                                    }
                                    p class="muted small" { "Valid for " (hours) " hours, for one person. The link opens the join page of their own qun node (at " code { (crate::config::DEFAULT_API_ADDR) } ") with the code filled in; the code stays in the link's " em { "#" } " part, which browsers never send anywhere. Or they paste the code under " em { "Join with a code" } ", or run " code { "qun community join <code>" } "." }
                                }
                            }
                            div class="form-actions" {
                                a class="btn" href={ "/c/" (s.id) } { "Done" }
                            }
                        }
                    }
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_of_a_long_code() {
        let code = format!("qun1{}", "A".repeat(900));
        let svg = qr_svg(&code).map_err(|e| e.0.error).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..40]);
        assert!(!svg.contains("<script"));
    }
}
