//! The governance index: who is a member with which role, which devices act for whom, the
//! policy, channels and moderation — as they stood at any set of governance heads, both raw
//! (every admitted change counts) and resolved (changes voided by revocations left out).
//!
//! Admission of a change is causal: a change is judged in the state at its own dependencies
//! (for content changes, at the governance heads they cite). Forking the Automerge document at
//! every change's dependencies would cost time in proportion to the document, so the index
//! keeps its own record of every governance write and evaluates registers at a frontier:
//!
//! * each write remembers which earlier writes of the same register it had seen (those in the
//!   causal past of its change): it *supersedes* them;
//! * at a frontier `F`, the visible writes of a register are those in the past of `F` that no
//!   other write in the past of `F` supersedes (the maximal ones, as in Automerge's own maps);
//! * when several stay visible (concurrent writes), a fixed rule picks: a removal or revocation
//!   wins over anything concurrent with it, otherwise the greatest `(lamport, hash)` wins.
//!
//! Which changes are void once revocations are resolved is computed by
//! `community::validity` and kept here as a [`index::Validity`] overlay. States are
//! materialized per frontier and cached, so the common case — many content changes citing the
//! same current heads — costs one lookup.

pub(crate) mod bitset;
pub mod flow;
pub(crate) mod index;
pub(crate) mod materialize;
mod state;

pub(crate) use index::GovIndex;
pub use state::{DeviceLink, GovState, HideInfo, MemberStatus};
