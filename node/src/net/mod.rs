//! libp2p: the behaviour, the swarm, topics, the sync codec and autorelay.

pub mod autorelay;
pub mod behaviour;
pub mod codec;
pub mod swarm;
pub mod topic;
pub mod version;
