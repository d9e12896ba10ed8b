//! The model of a community: what its changes say and the rules on their own fields — actions,
//! admission policy and roles, the signed genesis, causal cuts, the document layout. It
//! depends on nothing else in the crate; the governance index (`gov`) and the documents
//! (`community`) build on it.

pub mod action;
pub mod cut;
pub mod genesis;
pub mod policy;
pub mod schema;
