//! `qun market …`: listings, deals and reviews through the node's API (`…/market/…`). Views
//! are read as JSON values (the core's views are serialize-only) and printed as tables, or
//! passed through with `--json`.

use super::client::Client;
use super::output::{CliError, json, short, table};
use crate::dto::{DealStep, EditDone, ListingRequest, MarketCreated, ProposeDeal, ReviewRequest};
use clap::{Args, Subcommand};
use serde_json::Value;

/// The market: listings, deals, reviews.
#[derive(Subcommand, Debug)]
pub enum MarketCmd {
    /// Open listings (offers and requests), by id.
    List {
        /// Community id, prefix or name.
        community: String,
        /// Text in the title, description or tags.
        #[arg(long)]
        q: Option<String>,
        /// Only listings with this tag.
        #[arg(long)]
        tag: Option<String>,
        /// Every status, not only open listings.
        #[arg(long)]
        all: bool,
    },
    /// Offer something in my shop (prints the listing id).
    Offer(ListingArgs),
    /// Ask for something in my shop (prints the listing id).
    Request(ListingArgs),
    /// The deals I am a party or the arbiter of.
    Deals {
        /// Community id, prefix or name.
        community: String,
    },
    /// Propose a deal, or take a step of one.
    #[command(subcommand)]
    Deal(DealCmd),
    /// Review the other party of a completed (or resolved) deal.
    Review {
        /// Community id, prefix or name.
        community: String,
        /// The deal (`<member>/<key>`).
        deal: String,
        /// 1-5.
        #[arg(long)]
        stars: u8,
        /// What to say.
        #[arg(long, default_value = "")]
        text: String,
    },
    /// Reviews about a member, with their average.
    Reviews {
        /// Community id, prefix or name.
        community: String,
        /// The member.
        member: String,
    },
}

/// A new listing.
#[derive(Args, Debug)]
pub struct ListingArgs {
    /// Community id, prefix or name.
    pub community: String,
    /// Title.
    pub title: String,
    /// Price per unit (whole number); leave out for negotiable.
    #[arg(long)]
    pub price: Option<u64>,
    /// How many.
    #[arg(long, default_value_t = 1)]
    pub quantity: u32,
    /// Markdown text.
    #[arg(long, default_value = "")]
    pub description: String,
    /// Tags (repeat the flag).
    #[arg(long)]
    pub tag: Vec<String>,
    /// Where.
    #[arg(long, default_value = "")]
    pub location: String,
}

/// A deal's proposal or step.
#[derive(Subcommand, Debug)]
pub enum DealCmd {
    /// Propose a deal on a listing (prints the deal id).
    Propose {
        /// Community id, prefix or name.
        community: String,
        /// The listing (`<member>/<key>`).
        listing: String,
        /// How many.
        #[arg(long, default_value_t = 1)]
        quantity: u32,
        /// Total price (default: the listing's price times the quantity).
        #[arg(long)]
        price: Option<u64>,
        /// Free text (delivery, payment).
        #[arg(long, default_value = "")]
        terms: String,
        /// A member both accept to decide a dispute.
        #[arg(long)]
        arbiter: Option<String>,
    },
    /// Accept a proposed deal (the listing's owner).
    Accept(StepArgs),
    /// Mark a deal delivered (the seller).
    Deliver(StepArgs),
    /// Mark a deal completed (the buyer).
    Complete(StepArgs),
    /// Call the arbiter (a party).
    Dispute {
        /// Which deal.
        #[command(flatten)]
        at: StepArgs,
        /// Why.
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Decide a dispute (the arbiter): refund, release or split with --percent.
    Resolve {
        /// Which deal.
        #[command(flatten)]
        at: StepArgs,
        /// refund, release or split.
        #[arg(long)]
        outcome: String,
        /// The buyer's share for a split, 1-99.
        #[arg(long)]
        percent: Option<u8>,
    },
    /// Cancel (before acceptance: the proposer; after: both parties, each asks).
    Cancel(StepArgs),
    /// One deal with its history.
    Show(StepArgs),
}

/// Which deal.
#[derive(Args, Debug)]
pub struct StepArgs {
    /// Community id, prefix or name.
    pub community: String,
    /// The deal (`<member>/<key>`).
    pub deal: String,
}

fn s(v: &Value, path: &[&str]) -> String {
    let mut x = v;
    for p in path {
        x = &x[*p];
    }
    match x {
        Value::String(t) => t.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn price(v: &Value) -> String {
    match s(v, &["k"]).as_str() {
        "amount" => s(v, &["amount"]),
        _ => "negotiable".into(),
    }
}

/// Run a market command; `resolve` turns a community name or prefix into its id.
pub fn run(
    c: &Client,
    cmd: MarketCmd,
    js: bool,
    resolve: impl Fn(&str) -> Result<String, CliError>,
) -> Result<(), CliError> {
    let base = |community: &str| -> Result<String, CliError> {
        Ok(format!(
            "/api/v1/communities/{}/market",
            resolve(community)?
        ))
    };
    let enc = crate::http::web::enc;
    match cmd {
        MarketCmd::List {
            community,
            q,
            tag,
            all,
        } => {
            let mut path = format!(
                "{}/listings?q={}",
                base(&community)?,
                enc(&q.unwrap_or_default())
            );
            if let Some(t) = tag {
                path.push_str(&format!("&tag={}", enc(&t)));
            }
            if !all {
                path.push_str("&status=open");
            }
            let v: Vec<Value> = c.get(&path)?;
            if js {
                json(&v);
            } else {
                let rows: Vec<Vec<String>> = v
                    .iter()
                    .map(|l| {
                        vec![
                            s(l, &["ref"]),
                            s(l, &["listing", "kind"]),
                            s(l, &["listing", "title"]),
                            price(&l["listing"]["price"]),
                            s(l, &["listing", "quantity"]),
                            s(l, &["listing", "status"]),
                        ]
                    })
                    .collect();
                table(&["ID", "KIND", "TITLE", "PRICE", "QTY", "STATUS"], &rows);
            }
        }
        MarketCmd::Offer(a) => listing(c, &base(&a.community)?, "offer", a, js)?,
        MarketCmd::Request(a) => listing(c, &base(&a.community)?, "request", a, js)?,
        MarketCmd::Deals { community } => {
            let v: Vec<Value> = c.get(&format!("{}/deals", base(&community)?))?;
            if js {
                json(&v);
            } else {
                let rows: Vec<Vec<String>> = v
                    .iter()
                    .map(|d| {
                        vec![
                            s(d, &["ref"]),
                            s(d, &["status"]),
                            s(d, &["listing_ref"]),
                            short(&s(d, &["terms", "buyer"])),
                            short(&s(d, &["terms", "seller"])),
                            s(d, &["terms", "price"]),
                        ]
                    })
                    .collect();
                table(
                    &["ID", "STATUS", "LISTING", "BUYER", "SELLER", "PRICE"],
                    &rows,
                );
            }
        }
        MarketCmd::Deal(DealCmd::Propose {
            community,
            listing,
            quantity,
            price,
            terms,
            arbiter,
        }) => {
            let r: MarketCreated = c.post(
                &format!("{}/deals", base(&community)?),
                &ProposeDeal {
                    listing,
                    key: String::new(),
                    quantity: quantity.to_string(),
                    price: price.map(|p| p.to_string()).unwrap_or_default(),
                    terms,
                    arbiter: arbiter.unwrap_or_default(),
                },
            )?;
            if js {
                json(&r)
            } else {
                crate::say!("{}", r.id)
            }
        }
        MarketCmd::Deal(DealCmd::Show(a)) => {
            let v: Value = c.get(&format!("{}/deal?id={}", base(&a.community)?, enc(&a.deal)))?;
            if js {
                json(&v);
            } else {
                crate::say!("deal     {}", s(&v, &["ref"]));
                crate::say!("status   {}", s(&v, &["status"]));
                crate::say!("listing  {}", s(&v, &["listing_ref"]));
                crate::say!("buyer    {}", s(&v, &["terms", "buyer"]));
                crate::say!("seller   {}", s(&v, &["terms", "seller"]));
                crate::say!("price    {}", s(&v, &["terms", "price"]));
                for e in v["history"].as_array().into_iter().flatten() {
                    crate::say!(
                        "  {} by {} → {}",
                        s(e, &["action"]),
                        short(&s(e, &["by"])),
                        s(e, &["status"])
                    );
                }
            }
        }
        MarketCmd::Deal(cmd) => {
            let (step, at, reason, outcome, percent) = match cmd {
                DealCmd::Accept(a) => ("accept", a, String::new(), String::new(), None),
                DealCmd::Deliver(a) => ("deliver", a, String::new(), String::new(), None),
                DealCmd::Complete(a) => ("complete", a, String::new(), String::new(), None),
                DealCmd::Cancel(a) => ("cancel", a, String::new(), String::new(), None),
                DealCmd::Dispute { at, reason } => ("dispute", at, reason, String::new(), None),
                DealCmd::Resolve {
                    at,
                    outcome,
                    percent,
                } => ("resolve", at, String::new(), outcome, percent),
                DealCmd::Propose { .. } | DealCmd::Show(_) => return Ok(()),
            };
            let r: EditDone = c.post(
                &format!("{}/deals/{step}", base(&at.community)?),
                &DealStep {
                    deal: at.deal.clone(),
                    step: step.to_string(),
                    reason,
                    outcome,
                    percent: percent.map(|p| p.to_string()).unwrap_or_default(),
                },
            )?;
            if js {
                json(&r)
            } else {
                crate::say!("{step} {}", at.deal)
            }
        }
        MarketCmd::Review {
            community,
            deal,
            stars,
            text,
        } => {
            let r: EditDone = c.post(
                &format!("{}/reviews", base(&community)?),
                &ReviewRequest {
                    deal: deal.clone(),
                    stars: stars.to_string(),
                    text,
                },
            )?;
            if js {
                json(&r)
            } else {
                crate::say!("reviewed {deal}")
            }
        }
        MarketCmd::Reviews { community, member } => {
            let v: Value = c.get(&format!(
                "{}/reviews?about={}",
                base(&community)?,
                enc(&member)
            ))?;
            if js {
                json(&v);
            } else {
                crate::say!(
                    "{} reviews, average {}",
                    s(&v, &["count"]),
                    s(&v, &["average"])
                );
                for r in v["reviews"].as_array().into_iter().flatten() {
                    crate::say!(
                        "  {}★ by {}: {} [{}]",
                        s(r, &["stars"]),
                        short(&s(r, &["reviewer"])),
                        s(r, &["text"]),
                        format!("{}/{}", s(r, &["deal", "proposer"]), s(r, &["deal", "key"]))
                    );
                }
            }
        }
    }
    Ok(())
}

fn listing(c: &Client, base: &str, kind: &str, a: ListingArgs, js: bool) -> Result<(), CliError> {
    let r: MarketCreated = c.post(
        &format!("{base}/listings"),
        &ListingRequest {
            key: String::new(),
            kind: kind.to_string(),
            title: a.title,
            description: a.description,
            price: a.price.map(|p| p.to_string()).unwrap_or_default(),
            quantity: a.quantity.to_string(),
            tags: a.tag,
            location: a.location,
            status: String::new(),
        },
    )?;
    if js {
        json(&r)
    } else {
        crate::say!("{}", r.id)
    }
    Ok(())
}
