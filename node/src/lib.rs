//! The qun node: libp2p networking, sled storage, the local API and web page, driven around
//! the sans-IO replication core of `qun-crdt`.
#![warn(clippy::unwrap_used)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod api;
pub mod cli;
pub mod clock;
pub mod config;
pub mod device;
pub mod driver;
pub mod error;
pub mod handle;
pub mod invite;
pub mod keystore;
pub mod net;
pub mod node;
pub mod ops;
pub mod redial;
pub mod store;
pub mod web;

pub use error::{Error, Result};
