//! libp2p: the behaviour, the swarm, topics, the sync codec, autorelay and the per-IP
//! connection limit.

pub mod autorelay;
pub mod behaviour;
pub mod codec;
pub mod ip_limit;
pub mod swarm;
pub mod topic;
pub mod version;
