//! Tunables for ranking, admission and local filtering: plain structs with `Default` and
//! validating builders. Impossible combinations (damping outside (0, 1), an empty capacity
//! list, a non-positive tolerance…) are errors from `build()`, never panics.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// Probability of following an endorsement rather than jumping back to the seeds.
///
/// 0.5 (mean walk length 2) rather than the web's 0.85: on community-structured webs of trust
/// it separates honest members from Sybils better (plain PPR on the 40k benchmark web, 200
/// attack edges: AUC 0.85–0.91 vs 0.74–0.84 at 0.85; see BENCHMARKS.md), because trust then
/// decays with distance faster than a Sybil region can recirculate it; it also converges in
/// ~28 iterations instead of ~115.
pub const DEFAULT_DAMPING: f64 = 0.5;
/// Stop iterating when the L1 change of the score vector is below this (scores sum to 1).
pub const DEFAULT_TOLERANCE: f64 = 1e-10;
/// Hard cap on power iterations.
pub const DEFAULT_MAX_ITERATIONS: u32 = 200;
/// Advogato's capacities by BFS distance from the seeds (distance 0 = a seed).
pub const ADVOGATO_CAPACITIES: [u32; 7] = [800, 200, 50, 12, 4, 2, 1];
/// Headroom of [`AdmissionParams::calibrated`]: capacity at each level is this many times
/// what the members beyond it need.
pub const DEFAULT_CALIBRATION_SLACK: f64 = 2.0;
/// Negative weights at or below this hide the member from the holder and stop trust flowing
/// through them in the holder's computation.
pub const DEFAULT_BLOCK_AT: f32 = -0.5;

/// Which ranking to compute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Method {
    /// Advogato admission flow, then personalized PageRank over admitted members'
    /// endorsements only, ordered admitted-first (see [`crate::rank`]): the best separation
    /// measured, the default.
    #[default]
    Gated,
    /// Plain personalized PageRank / EigenTrust seeded at the seeds.
    PersonalizedPageRank,
    /// SybilRank (Cao et al., NSDI 2012): `ceil(log2 n)` steps of a walk on the undirected
    /// graph from the seeds, no teleport, scores divided by degree. Strong on mutual
    /// (consent-based) graphs, weak on endorsement graphs because Sybils may endorse honest
    /// members for free, which an undirected walk treats as attack edges. For comparison.
    SybilRank,
}

/// Parameters of [`crate::rank`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RankParams {
    method: Method,
    damping: f64,
    tolerance: f64,
    max_iterations: u32,
    walk_steps: Option<u32>,
}

impl Default for RankParams {
    fn default() -> Self {
        RankParams {
            method: Method::default(),
            damping: DEFAULT_DAMPING,
            tolerance: DEFAULT_TOLERANCE,
            max_iterations: DEFAULT_MAX_ITERATIONS,
            walk_steps: None,
        }
    }
}

impl RankParams {
    /// A builder starting from the defaults.
    pub fn builder() -> RankParamsBuilder {
        RankParamsBuilder(RankParams::default())
    }
    /// The method.
    pub fn method(&self) -> Method {
        self.method
    }
    /// Damping factor in (0, 1).
    pub fn damping(&self) -> f64 {
        self.damping
    }
    /// L1 convergence tolerance.
    pub fn tolerance(&self) -> f64 {
        self.tolerance
    }
    /// Iteration cap.
    pub fn max_iterations(&self) -> u32 {
        self.max_iterations
    }
    /// SybilRank walk length (`None`: `ceil(log2 n)`).
    pub fn walk_steps(&self) -> Option<u32> {
        self.walk_steps
    }
}

/// Builder for [`RankParams`].
#[derive(Clone, Debug)]
pub struct RankParamsBuilder(RankParams);

impl RankParamsBuilder {
    /// Ranking method.
    pub fn method(mut self, m: Method) -> Self {
        self.0.method = m;
        self
    }
    /// Damping factor, strictly between 0 and 1.
    pub fn damping(mut self, d: f64) -> Self {
        self.0.damping = d;
        self
    }
    /// L1 tolerance, > 0.
    pub fn tolerance(mut self, t: f64) -> Self {
        self.0.tolerance = t;
        self
    }
    /// Iteration cap, ≥ 1.
    pub fn max_iterations(mut self, n: u32) -> Self {
        self.0.max_iterations = n;
        self
    }
    /// SybilRank walk length, ≥ 1.
    pub fn walk_steps(mut self, n: u32) -> Self {
        self.0.walk_steps = Some(n);
        self
    }
    /// Validate.
    pub fn build(self) -> Result<RankParams> {
        let p = self.0;
        if !(p.damping > 0.0 && p.damping < 1.0) {
            return Err(Error::param(
                "damping",
                format!("{} is outside (0, 1)", p.damping),
            ));
        }
        if !(p.tolerance > 0.0 && p.tolerance.is_finite()) {
            return Err(Error::param(
                "tolerance",
                format!("{} must be a positive number", p.tolerance),
            ));
        }
        if p.max_iterations == 0 {
            return Err(Error::param("max_iterations", "must be at least 1"));
        }
        if p.walk_steps == Some(0) {
            return Err(Error::param("walk_steps", "must be at least 1"));
        }
        if p.walk_steps.is_some() && p.method != Method::SybilRank {
            return Err(Error::param(
                "walk_steps",
                "only applies to Method::SybilRank",
            ));
        }
        Ok(p)
    }
}

/// How admission capacities are assigned (see [`crate::admission`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Capacities {
    /// Advogato: `c(x) = caps[distance(x)]`, 0 beyond the list.
    ByDistance(Vec<u32>),
    /// Per forward endorsement: `c(x) = 1 + ceil(rho[d] × fwd(x))` where `d` is `x`'s
    /// distance and `fwd(x)` its endorsements of members at distance `d + 1`; 0 beyond the
    /// list. Capacity goes where the graph needs it (hubs pass more), which Advogato's
    /// per-level numbers cannot do on power-law graphs; `fwd(x)` is chosen by `x` itself, so
    /// Sybils cannot raise an honest member's capacity.
    PerEndorsement(Vec<f64>),
}

impl Capacities {
    /// Number of levels that get any capacity.
    pub fn levels(&self) -> usize {
        match self {
            Capacities::ByDistance(c) => c.len(),
            Capacities::PerEndorsement(r) => r.len(),
        }
    }
}

/// Parameters of [`crate::admission::admit`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdmissionParams {
    capacities: Capacities,
    min_weight: f32,
}

impl Default for AdmissionParams {
    fn default() -> Self {
        AdmissionParams {
            capacities: Capacities::ByDistance(ADVOGATO_CAPACITIES.to_vec()),
            min_weight: 0.0,
        }
    }
}

impl AdmissionParams {
    /// A builder starting from Advogato's defaults.
    pub fn builder() -> AdmissionParamsBuilder {
        AdmissionParamsBuilder(AdmissionParams::default())
    }
    /// The capacity model.
    pub fn capacities(&self) -> &Capacities {
        &self.capacities
    }
    /// Endorsements lighter than this do not carry flow.
    pub fn min_weight(&self) -> f32 {
        self.min_weight
    }
}

/// Builder for [`AdmissionParams`].
#[derive(Clone, Debug)]
pub struct AdmissionParamsBuilder(AdmissionParams);

impl AdmissionParamsBuilder {
    /// The capacity model.
    pub fn capacities(mut self, c: Capacities) -> Self {
        self.0.capacities = c;
        self
    }
    /// Advogato-style capacities by distance.
    pub fn by_distance(self, caps: &[u32]) -> Self {
        self.capacities(Capacities::ByDistance(caps.to_vec()))
    }
    /// Ignore endorsements lighter than `w` (in `[0, 1]`).
    pub fn min_weight(mut self, w: f32) -> Self {
        self.0.min_weight = w;
        self
    }
    /// Validate.
    pub fn build(self) -> Result<AdmissionParams> {
        let p = self.0;
        match &p.capacities {
            Capacities::ByDistance(c) => {
                if c.first().is_none_or(|&c0| c0 == 0) {
                    return Err(Error::param(
                        "capacities",
                        "need at least one level, seeds with capacity ≥ 1",
                    ));
                }
                if c.windows(2).any(|w| w[1] > w[0]) {
                    return Err(Error::param(
                        "capacities",
                        format!("{c:?} must not increase with distance"),
                    ));
                }
            }
            Capacities::PerEndorsement(r) => {
                if r.is_empty() {
                    return Err(Error::param("capacities", "need at least one level"));
                }
                if r.iter().any(|x| !(x.is_finite() && *x >= 0.0)) {
                    return Err(Error::param(
                        "capacities",
                        "per-endorsement capacities must be finite and ≥ 0",
                    ));
                }
            }
        }
        if !(0.0..=1.0).contains(&p.min_weight) {
            return Err(Error::param(
                "min_weight",
                format!("{} is outside [0, 1]", p.min_weight),
            ));
        }
        Ok(p)
    }
}

/// Parameters of [`crate::filter::LocalFilter`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FilterParams {
    block_at: f32,
}

impl Default for FilterParams {
    fn default() -> Self {
        FilterParams {
            block_at: DEFAULT_BLOCK_AT,
        }
    }
}

impl FilterParams {
    /// Weights at or below this block (hide, and no trust through them); weights between it
    /// and 0 scale the member's score by `1 + weight`. In `[-1, 0)`.
    pub fn new(block_at: f32) -> Result<Self> {
        if !(-1.0..0.0).contains(&block_at) {
            return Err(Error::param(
                "block_at",
                format!("{block_at} is outside [-1, 0)"),
            ));
        }
        Ok(FilterParams { block_at })
    }
    /// The blocking threshold.
    pub fn block_at(&self) -> f32 {
        self.block_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impossible_combinations_are_errors() {
        assert!(RankParams::builder().damping(1.0).build().is_err());
        assert!(RankParams::builder().damping(0.0).build().is_err());
        assert!(RankParams::builder().tolerance(0.0).build().is_err());
        assert!(RankParams::builder().walk_steps(5).build().is_err());
        assert!(
            RankParams::builder()
                .method(Method::SybilRank)
                .walk_steps(5)
                .build()
                .is_ok()
        );
        assert!(AdmissionParams::builder().by_distance(&[]).build().is_err());
        assert!(
            AdmissionParams::builder()
                .by_distance(&[1, 2])
                .build()
                .is_err()
        );
        assert!(AdmissionParams::builder().min_weight(2.0).build().is_err());
        assert!(FilterParams::new(0.5).is_err());
        assert!(RankParams::builder().build().is_ok());
    }
}
