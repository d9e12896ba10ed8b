//! The qun node: libp2p networking, sled storage, the local API and web page, driven around
//! the sans-IO replication core of `qun-crdt`.
//!
//! * [`node::start`] starts a node from a [`node::NodeConfig`] and a [`store::Store`]: a private
//!   actor (`runtime`) owns the swarm, the core, the store and the clock; everyone else talks
//!   to it through a [`handle::NodeHandle`], whose typed methods answer in [`dto`] types.
//! * [`http`] serves the JSON API and the web page over the handle; [`cli`] is the `qun`
//!   command, which talks to a running node over the API.
//! * [`net`] builds the libp2p swarm; [`store`] keeps what must survive a restart; [`keystore`],
//!   [`device`] and [`invite`] handle keys, [`blobs`] images and attachments, second devices and invite codes; [`clock`] is where
//!   the node reads the time; [`error`] is the crate's one error type.
#![warn(clippy::unwrap_used)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod backup;
pub mod blobs;
pub mod cli;
pub mod clock;
pub mod config;
pub mod device;
pub mod dto;
pub mod error;
pub mod handle;
pub mod http;
pub mod invite;
pub mod keystore;
pub mod limits;
pub mod logging;
pub mod metrics;
pub mod net;
pub mod node;
pub mod redial;
mod runtime;
pub mod search;
pub mod store;

pub use error::{Error, Result};
