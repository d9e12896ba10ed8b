//! Random distributions drawn from the run's seeded ChaCha RNG, and small sampling helpers.
//!
//! Only `random_range` / `random::<f64>()` of `rand` 0.10's `RngExt` are used, and all
//! transforms (normal, log-normal, exponential, Pareto) are written out here, so a value
//! depends only on the seed and the call order.

use rand::RngExt;
use rand_chacha::ChaCha12Rng;
use serde::{Deserialize, Serialize};

/// The simulator's RNG: one per run, seeded from the run's seed.
pub type SimRng = ChaCha12Rng;

/// A non-negative distribution of a quantity (its unit is the key's: `latency_ms`, `mbit_s`…).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "dist", rename_all = "lowercase", deny_unknown_fields)]
pub enum Dist {
    /// Always `value`.
    Const {
        /// The value.
        value: f64,
    },
    /// Uniform on `[min, max]`.
    Uniform {
        /// Lower bound.
        min: f64,
        /// Upper bound.
        max: f64,
    },
    /// Normal, truncated at zero.
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        sd: f64,
    },
    /// Log-normal with the given median and shape (σ of the underlying normal).
    Lognormal {
        /// Median (= e^μ).
        median: f64,
        /// σ of ln X.
        sigma: f64,
    },
    /// Exponential with the given mean.
    Exp {
        /// Mean.
        mean: f64,
    },
    /// Pareto (type I) with minimum `scale` and tail index `shape`.
    Pareto {
        /// Minimum value.
        scale: f64,
        /// Tail index α (> 0; a finite mean needs α > 1).
        shape: f64,
    },
}

/// A distribution as written in TOML: a bare number means a constant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DistSpec {
    /// `key = 50`
    Const(f64),
    /// `key = { dist = "lognormal", median = 50, sigma = 0.5 }`
    Dist(Dist),
}

impl DistSpec {
    /// The distribution this spec denotes.
    pub fn to_dist(&self) -> Dist {
        match self {
            DistSpec::Const(v) => Dist::Const { value: *v },
            DistSpec::Dist(d) => d.clone(),
        }
    }
}

impl Dist {
    /// Checks the parameters; returns what is wrong.
    pub fn check(&self) -> Result<(), String> {
        let finite_nonneg = |name: &str, v: f64| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(format!("{name} must be a finite number >= 0, got {v}"))
            }
        };
        match *self {
            Dist::Const { value } => finite_nonneg("value", value),
            Dist::Uniform { min, max } => {
                finite_nonneg("min", min)?;
                finite_nonneg("max", max)?;
                if min > max {
                    return Err(format!("min ({min}) must be <= max ({max})"));
                }
                Ok(())
            }
            Dist::Normal { mean, sd } => {
                finite_nonneg("mean", mean)?;
                finite_nonneg("sd", sd)
            }
            Dist::Lognormal { median, sigma } => {
                finite_nonneg("median", median)?;
                finite_nonneg("sigma", sigma)
            }
            Dist::Exp { mean } => finite_nonneg("mean", mean),
            Dist::Pareto { scale, shape } => {
                finite_nonneg("scale", scale)?;
                if !(shape.is_finite() && shape > 0.0) {
                    return Err(format!("shape must be > 0, got {shape}"));
                }
                Ok(())
            }
        }
    }

    /// Draws one value (never negative).
    pub fn sample(&self, rng: &mut SimRng) -> f64 {
        let v = match *self {
            Dist::Const { value } => value,
            Dist::Uniform { min, max } => min + (max - min) * unit(rng),
            Dist::Normal { mean, sd } => mean + sd * std_normal(rng),
            Dist::Lognormal { median, sigma } => median * (sigma * std_normal(rng)).exp(),
            Dist::Exp { mean } => -mean * (1.0 - unit(rng)).ln(),
            Dist::Pareto { scale, shape } => scale / (1.0 - unit(rng)).powf(1.0 / shape),
        };
        v.max(0.0)
    }

    /// The mean (for documentation and hop-floor estimates); `inf` when it does not exist.
    pub fn mean(&self) -> f64 {
        match *self {
            Dist::Const { value } => value,
            Dist::Uniform { min, max } => (min + max) / 2.0,
            Dist::Normal { mean, .. } => mean,
            Dist::Lognormal { median, sigma } => median * (sigma * sigma / 2.0).exp(),
            Dist::Exp { mean } => mean,
            Dist::Pareto { scale, shape } => {
                if shape > 1.0 {
                    shape * scale / (shape - 1.0)
                } else {
                    f64::INFINITY
                }
            }
        }
    }
}

/// Uniform on `[0, 1)`.
pub fn unit(rng: &mut SimRng) -> f64 {
    rng.random::<f64>()
}

/// Standard normal by Box–Muller (one of the pair; simple and deterministic).
pub fn std_normal(rng: &mut SimRng) -> f64 {
    let u1 = 1.0 - unit(rng); // (0, 1]
    let u2 = unit(rng);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Uniform integer in `0..n` (`n > 0`).
pub fn below(rng: &mut SimRng, n: usize) -> usize {
    debug_assert!(n > 0);
    rng.random_range(0..n)
}

/// `true` with probability `p`.
pub fn chance(rng: &mut SimRng, p: f64) -> bool {
    p > 0.0 && (p >= 1.0 || unit(rng) < p)
}

/// Fisher–Yates shuffle.
pub fn shuffle<T>(rng: &mut SimRng, xs: &mut [T]) {
    for i in (1..xs.len()).rev() {
        let j = rng.random_range(0..=i);
        xs.swap(i, j);
    }
}

/// Keeps a uniformly random subset of `k` elements of `xs` (order randomised).
pub fn choose_k<T>(rng: &mut SimRng, xs: &mut Vec<T>, k: usize) {
    let n = xs.len();
    let k = k.min(n);
    for i in 0..k {
        let j = rng.random_range(i..n);
        xs.swap(i, j);
    }
    xs.truncate(k);
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn means_are_close() {
        let mut rng = SimRng::seed_from_u64(1);
        for d in [
            Dist::Uniform {
                min: 10.0,
                max: 30.0,
            },
            Dist::Exp { mean: 20.0 },
            Dist::Lognormal {
                median: 20.0,
                sigma: 0.3,
            },
            Dist::Normal {
                mean: 20.0,
                sd: 2.0,
            },
            Dist::Pareto {
                scale: 10.0,
                shape: 3.0,
            },
        ] {
            let n = 20_000;
            let m: f64 = (0..n).map(|_| d.sample(&mut rng)).sum::<f64>() / n as f64;
            assert!((m - d.mean()).abs() / d.mean() < 0.05, "{d:?}: {m}");
        }
    }

    #[test]
    fn choose_k_is_a_subset() {
        let mut rng = SimRng::seed_from_u64(3);
        let mut v: Vec<u32> = (0..10).collect();
        choose_k(&mut rng, &mut v, 4);
        assert_eq!(v.len(), 4);
        let mut s = v.clone();
        s.sort();
        s.dedup();
        assert_eq!(s.len(), 4);
    }
}
