//! The qun trust engine: personalized reputation and Sybil-resistant admission computed by
//! each node from the signed endorsements it holds. There is no global score. Pure library:
//! no IO, no clock (`now` is an argument), no OS randomness (generators take a seed).
//!
//! | module | what |
//! |---|---|
//! | [`graph`] | [`TrustGraph<L>`]: labels interned to `u32`, CSR per topic + delta overlay |
//! | [`endorsements`] | [`EndorsementGraph`]: `Signed<Endorsement>` → graph (supersession, expiry, revocation, scope) |
//! | [`rank`] | personalized PageRank, admission-gated ranking (default), SybilRank; warm start |
//! | [`admission`] | Advogato capacity flow and its Sybil bound |
//! | [`filter`] | negative endorsements: local blocking and down-ranking only |
//! | [`explain`] | top endorsers and paths behind a score |
//! | [`import`] | streaming `source target [weight] [time]` edge lists |
//! | [`synth`], [`sybil`], [`eval`] | honest graph generators, Sybil grafting, AUC / mass / admission report |
//! | [`params`] | tunables with validating builders |
//!
//! # For the node and the CRDT admission policy
//!
//! ```
//! use qun_identity::{Delegations, Endorsement, SecretIdentity, Signed, Timestamp, Weight};
//! use qun_trust::{EndorsementGraph, Query, admission::admit_query, rank::rank, explain::explain};
//!
//! let now = Timestamp::from_millis(1_700_000_000_000);
//! let [founder, alice, bob] = [1u8, 2, 3].map(|i| SecretIdentity::from_seed(&[i; 32]));
//! let endorse = |from: &SecretIdentity, to: &SecretIdentity| {
//!     Signed::sign(from, Endorsement::new(from.member_id(), to.member_id(), Weight::FULL, now))
//! };
//! let mut g = EndorsementGraph::new(None);
//! let none = Delegations::new();
//! g.insert(&endorse(&founder, &alice)?, &none, now)?;
//! g.insert(&endorse(&alice, &bob)?, &none, now)?;
//!
//! let seeds = g.seeds(&[founder.member_id()])?;
//! let query = Query::new(seeds);
//! let ranking = rank(g.graph(), &query, None)?;
//! let bob_node = g.node(&bob.member_id()).expect("bob is in the graph");
//! assert!(ranking.position(bob_node).is_some());
//! assert!(admit_query(g.graph(), &query)?.is_accepted(bob_node.index()));
//! let why = explain(g.graph(), &query, &ranking, bob_node, 3)?;
//! assert_eq!(why.endorsers[0].from, g.node(&alice.member_id()).expect("alice"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # For `qun-sim trust` (researchers' edge lists)
//!
//! The CLI is a thin wrapper over these calls:
//!
//! * `--edges FILE`: [`import::read_edge_list`]`(BufReader::new(file), &ImportOptions::default())`
//!   → [`import::EdgeList`] (`graph: TrustGraph<String>`, `stats`);
//! * `--seeds a,b`: [`import::EdgeList::seeds`]`("a,b")`;
//! * `--top 20`: [`rank::rank`]`(&list.graph, &Query::new(seeds), None)`, then
//!   `ranking.top(20)` with `list.graph.label(node)` and `ranking.score(node)`;
//! * `--admit`: [`admission::admit_query`] (use
//!   [`params::AdmissionParams::calibrated`] on the graph for capacities that fit it, or the
//!   Advogato defaults);
//! * Sybil mode: `let csr = query.snapshot(&list.graph)?.0` (or
//!   `list.graph.view(&Topic::general()).to_csr(None)`), then
//!   [`eval::run_sybil_experiment`]`(&csr, &seed_indices, &SybilExperiment { sybil:
//!   SybilParams { count, attack_edges, internal_degree, back_edges }, seed, .. })` →
//!   [`eval::SybilReport`] (serde: `--json` is `serde_json::to_string(&report)`).
//!
//! ```
//! use qun_trust::import::{read_edge_list, ImportOptions};
//! use qun_trust::{Query, rank::rank};
//!
//! let list = read_edge_list("a b\nb c\nc a 0.5\n# comment\na d\n".as_bytes(), &ImportOptions::default())?;
//! let ranking = rank(&list.graph, &Query::new(list.seeds("a")?), None)?;
//! let top: Vec<&String> = ranking.top(2).iter().filter_map(|n| list.graph.label(*n)).collect();
//! assert_eq!(top[0], "a");
//! # Ok::<(), qun_trust::Error>(())
//! ```
#![deny(missing_docs)]
#![warn(clippy::unwrap_used, unreachable_pub)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod admission;
pub mod endorsements;
mod error;
pub mod eval;
pub mod explain;
pub mod filter;
pub mod graph;
pub mod import;
pub mod params;
mod query;
pub mod rank;
pub mod sybil;
pub mod synth;

pub use endorsements::{Applied, EndorsementGraph};
pub use error::{Error, Result};
pub use graph::{Csr, Node, TrustGraph};
pub use params::{AdmissionParams, Capacities, FilterParams, Method, RankParams};
pub use rank::{Query, Ranking};
