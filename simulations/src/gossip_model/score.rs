//! GossipSub v1.1 peer scoring (spec §"Peer Scoring"; rust-libp2p `peer_score.rs`).
//!
//! score = Σ_topics topic_weight · (w₁·min(t_mesh/quantum, cap) + w₂·P₂ + w₃·max(0, θ₃ − P₃)²
//!         + w₃b·P₃b + w₄·P₄²) + w₇·max(0, P₇ − θ₇)²
//! where P₃'s deficit applies only after `mesh_message_deliveries_activation`. Counters
//! decay once per `decay_interval`; the model applies the equivalent factor every heartbeat.

use crate::gossip_model::state::PeerState;
use crate::queue::Time;
use crate::scenario::ScoreConfig;

/// Decay factors per heartbeat.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Decay {
    first: f64,
    mesh: f64,
    failure: f64,
    invalid: f64,
    behaviour: f64,
    to_zero: f64,
}

impl Decay {
    pub(crate) fn new(s: &ScoreConfig, heartbeat: Time) -> Decay {
        let k = heartbeat.as_secs_f64() / s.decay_interval_s;
        Decay {
            first: s.first_message_deliveries_decay.powf(k),
            mesh: s.mesh_message_deliveries_decay.powf(k),
            failure: s.mesh_failure_penalty_decay.powf(k),
            invalid: s.invalid_message_deliveries_decay.powf(k),
            behaviour: s.behaviour_penalty_decay.powf(k),
            to_zero: s.decay_to_zero,
        }
    }

    /// One heartbeat's worth of decay of every counter of `p`.
    pub(crate) fn apply(&self, p: &mut PeerState) {
        let z = |x: f64| if x < self.to_zero { 0.0 } else { x };
        for t in p.topics.iter_mut() {
            t.first = z(t.first * self.first);
            t.mesh_deliveries = z(t.mesh_deliveries * self.mesh);
            t.mesh_failure = z(t.mesh_failure * self.failure);
            t.invalid = z(t.invalid * self.invalid);
        }
        p.behaviour = z(p.behaviour * self.behaviour);
    }
}

/// The score of peer `p` at `now`.
pub(crate) fn score(s: &ScoreConfig, p: &PeerState, now: Time) -> f64 {
    let mut total = 0.0;
    for t in p.topics.iter() {
        let mut ts = 0.0;
        if let Some(since) = t.mesh_since {
            let in_mesh = now.since(since).as_secs_f64();
            ts += s.time_in_mesh_weight
                * (in_mesh / s.time_in_mesh_quantum_s).min(s.time_in_mesh_cap);
            if in_mesh >= s.mesh_message_deliveries_activation_s
                && t.mesh_deliveries < s.mesh_message_deliveries_threshold
            {
                let deficit = s.mesh_message_deliveries_threshold - t.mesh_deliveries;
                ts += s.mesh_message_deliveries_weight * deficit * deficit;
            }
        }
        ts += s.first_message_deliveries_weight * t.first;
        ts += s.mesh_failure_penalty_weight * t.mesh_failure;
        ts += s.invalid_message_deliveries_weight * t.invalid * t.invalid;
        total += s.topic_weight * ts;
    }
    if p.behaviour > s.behaviour_penalty_threshold {
        let excess = p.behaviour - s.behaviour_penalty_threshold;
        total += s.behaviour_penalty_weight * excess * excess;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gossip_model::state::PeerTopics;

    fn peer() -> PeerState {
        PeerState {
            id: 1,
            outbound: false,
            ihaves_this_hb: 0,
            asked_this_hb: 0,
            behaviour: 0.0,
            score: 0.0,
            topics: PeerTopics::one(0),
            dontwant: Vec::new(),
            retransmits: Vec::new(),
        }
    }

    #[test]
    fn hand_checked_components() {
        let s = ScoreConfig::default();
        let mut p = peer();
        assert_eq!(score(&s, &p, Time::ZERO), 0.0);
        // P1: 100 s in mesh at 0.01 per second = 1.0; P2: 3 first deliveries = 3.0.
        p.topic_mut(0).mesh_since = Some(Time::ZERO);
        p.topic_mut(0).first = 3.0;
        p.topic_mut(0).mesh_deliveries = 5.0;
        assert!((score(&s, &p, Time::from_secs(100)) - 4.0).abs() < 1e-9);
        // One invalid message: -100 · 1² → graylisted.
        p.topic_mut(0).invalid = 1.0;
        assert!(score(&s, &p, Time::from_secs(100)) < s.graylist_threshold);
        // P7 only above its threshold: 8 − 6 = 2 → −1 · 4.
        let mut q = peer();
        q.behaviour = 8.0;
        assert!((score(&s, &q, Time::ZERO) + 4.0).abs() < 1e-9);
    }

    #[test]
    fn decay_per_heartbeat_matches_per_interval() {
        let s = ScoreConfig::default();
        let d = Decay::new(&s, Time::from_millis(500));
        let mut p = peer();
        p.topic_mut(0).first = 10.0;
        d.apply(&mut p);
        d.apply(&mut p);
        assert!((p.topic_mut(0).first - 10.0 * s.first_message_deliveries_decay).abs() < 1e-9);
    }
}
