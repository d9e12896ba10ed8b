//! The local HTTP API over real HTTP against in-process nodes on 127.0.0.1: authentication
//! (token, one-time login link, session cookie, CSRF), limits, JSON errors, every endpoint, and
//! server-sent events.
//!
//! ```text
//! node (API)                         auth, limits, events, load limits (rate, SSE clients)
//! founder (API) -- alice (API)       endpoints: alice joins by invite through the API
//! ```

pub(crate) mod support;

mod auth;
mod dm;
mod endpoints;
mod events;
mod idempotency;
mod ledger;
mod limits;
mod market;
mod motions;
mod ops;
