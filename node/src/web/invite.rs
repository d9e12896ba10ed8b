//! The invite dialog: a code for one person, as text and as a QR code.

use super::community::{Head, community_header, head};
use super::view::{self, Nav, icon, page};
use super::{Form, PageError, on_driver};
use crate::api::ApiState;
use crate::api::error::ApiError;
use crate::api::routes::community as parse_community;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use maud::{Markup, html};
use qun_crdt::CommunityId;
use serde::Deserialize;

struct InviteData {
    nav: Nav,
    head: Head,
}

async fn read_invite(s: &ApiState, c: CommunityId) -> Result<InviteData, PageError> {
    on_driver(s, move |d| {
        let (head, _) =
            head(d, &c).ok_or_else(|| crate::Error::NotFound(format!("community {c}")))?;
        let cur = view::current(d, &c, None, "invite");
        let nav = Nav::read(d, cur);
        Ok(InviteData { nav, head })
    })
    .await
}

/// `GET /c/{id}/invite`: the dialog, before a code is made.
pub async fn invite_form(
    State(s): State<ApiState>,
    Path(id): Path<String>,
) -> Result<Markup, PageError> {
    let c = parse_community(&id)?;
    let data = read_invite(&s, c).await?;
    Ok(invite_page(&data, None))
}

#[derive(Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    valid_hours: Option<u64>,
}

/// `POST /c/{id}/invite`: make a code and show it with its QR code.
pub async fn invite(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    Form(f): Form<InviteForm>,
) -> Result<Markup, PageError> {
    let c = parse_community(&id)?;
    let hours = f.valid_hours.unwrap_or(24 * 7).clamp(1, 24 * 365);
    let code = on_driver(&s, move |d| d.invite(&c, None, Some(hours * 3_600_000))).await?;
    let data = read_invite(&s, c).await?;
    let qr = qr_svg(&code)?;
    Ok(invite_page(&data, Some((&code, qr, hours))))
}

fn qr_svg(code: &str) -> Result<String, PageError> {
    use qrcode::render::svg;
    let q = qrcode::QrCode::with_error_correction_level(code.as_bytes(), qrcode::EcLevel::L)
        .map_err(|e| {
            PageError(ApiError::new(
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

fn invite_page(d: &InviteData, code: Option<(&str, String, u64)>) -> Markup {
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
                                    div class="form-actions left" {
                                        button type="button" class="btn primary" data-copy="invite-code" { (icon("copy")) "Copy code" }
                                    }
                                    p class="muted small" { "Valid for " (hours) " hours, for one person. They paste it under " em { "Join with a code" } ", or run " code { "qun community join <code>" } "." }
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
