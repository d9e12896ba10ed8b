//! libp2p: the behaviour, the swarm, topics and the sync codec.

pub mod behaviour;
pub mod codec;
pub mod swarm;
pub mod topic;
