//! A small seeded random-number generator and the distributions the scenarios need, written
//! here so a seed gives the same tickets on every machine and every version of every crate.
//!
//! The generator is xoshiro256** (Blackman and Vigna), seeded through SplitMix64 as its
//! authors recommend; every simulated day draws from its own stream, derived from the
//! scenario's seed and the day's index.

/// SplitMix64: a fast generator used only to spread a seed over xoshiro's state.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// xoshiro256**: 256 bits of state, period 2^256 − 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rng {
    state: [u64; 4],
}

impl Rng {
    pub fn seeded(seed: u64) -> Rng {
        let mut sm = seed;
        let state = [
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
            splitmix64(&mut sm),
        ];
        // SplitMix64 never yields four zeros in a row, the one state xoshiro cannot leave.
        Rng { state }
    }

    /// An independent stream for one part of a run, such as one simulated day.
    pub fn stream(seed: u64, stream: u64) -> Rng {
        let mut sm = stream;
        Rng::seeded(seed ^ splitmix64(&mut sm))
    }

    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.state;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform on [0, 1), with 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform on (0, 1]: safe to take the logarithm of.
    fn uniform_nonzero(&mut self) -> f64 {
        1.0 - self.uniform()
    }

    /// `true` with probability `p`.
    pub fn bernoulli(&mut self, p: f64) -> bool {
        self.uniform() < p
    }

    pub fn exponential(&mut self, mean: f64) -> f64 {
        -mean * self.uniform_nonzero().ln()
    }

    /// A standard normal variate (Box–Muller).
    pub fn standard_normal(&mut self) -> f64 {
        let radius = (-2.0 * self.uniform_nonzero().ln()).sqrt();
        radius * (std::f64::consts::TAU * self.uniform()).cos()
    }

    /// A lognormal variate with this mean and coefficient of variation.
    pub fn lognormal(&mut self, mean: f64, cv: f64) -> f64 {
        if cv <= 0.0 {
            return mean;
        }
        let sigma2 = (1.0 + cv * cv).ln();
        let mu = mean.ln() - sigma2 / 2.0;
        (mu + sigma2.sqrt() * self.standard_normal()).exp()
    }

    /// A Gamma variate with mean 1 and this coefficient of variation (shape 1/cv², scale
    /// cv²); exactly 1 for cv = 0.
    pub fn gamma_mean_one(&mut self, cv: f64) -> f64 {
        if cv <= 0.0 {
            return 1.0;
        }
        let shape = 1.0 / (cv * cv);
        self.gamma(shape) * cv * cv
    }

    /// A Gamma variate of this shape and scale 1 (Marsaglia and Tsang, 2000; for a shape below
    /// 1, boosted by U^(1/shape)).
    fn gamma(&mut self, shape: f64) -> f64 {
        if shape < 1.0 {
            let boost = self.uniform_nonzero().powf(1.0 / shape);
            return self.gamma(shape + 1.0) * boost;
        }
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            let x = self.standard_normal();
            let v = 1.0 + c * x;
            if v <= 0.0 {
                continue;
            }
            let v = v * v * v;
            let u = self.uniform_nonzero();
            if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
                return d * v;
            }
        }
    }

    /// An index drawn with probability proportional to its weight; the weights need not sum
    /// to 1 but must not all be zero.
    pub fn categorical(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut target = self.uniform() * total;
        for (index, &weight) in weights.iter().enumerate() {
            if target < weight {
                return index;
            }
            target -= weight;
        }
        // Rounding can leave a sliver past the last weight: give it to the last positive one.
        weights.iter().rposition(|&w| w > 0.0).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moments(mut draw: impl FnMut() -> f64, n: usize) -> (f64, f64) {
        let samples: Vec<f64> = (0..n).map(|_| draw()).collect();
        let mean = samples.iter().sum::<f64>() / n as f64;
        let var = samples.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        (mean, var.sqrt() / mean)
    }

    #[test]
    fn the_same_seed_gives_the_same_stream() {
        let a: Vec<u64> = {
            let mut rng = Rng::stream(1, 5);
            (0..4).map(|_| rng.next_u64()).collect()
        };
        let mut rng = Rng::stream(1, 5);
        assert_eq!(a, (0..4).map(|_| rng.next_u64()).collect::<Vec<_>>());
        let mut other = Rng::stream(1, 6);
        assert_ne!(a[0], other.next_u64());
    }

    #[test]
    fn distributions_have_their_moments() {
        let mut rng = Rng::seeded(42);
        let n = 200_000;
        let (mean, cv) = moments(|| rng.exponential(6.5), n);
        assert!((mean - 6.5).abs() < 0.05, "exponential mean {mean}");
        assert!((cv - 1.0).abs() < 0.02, "exponential cv {cv}");
        let (mean, cv) = moments(|| rng.lognormal(8.0, 0.8), n);
        assert!((mean - 8.0).abs() < 0.08, "lognormal mean {mean}");
        assert!((cv - 0.8).abs() < 0.03, "lognormal cv {cv}");
        for target in [0.1, 0.5, 2.0] {
            let (mean, cv) = moments(|| rng.gamma_mean_one(target), n);
            assert!(
                (mean - 1.0).abs() < 0.02,
                "gamma mean {mean} for cv {target}"
            );
            assert!(
                (cv - target).abs() < 0.05 * target,
                "gamma cv {cv} for {target}"
            );
        }
        let (mean, _) = moments(|| rng.standard_normal() + 10.0, n);
        assert!((mean - 10.0).abs() < 0.01);
    }

    #[test]
    fn categorical_follows_the_weights() {
        let mut rng = Rng::seeded(3);
        let weights = [0.2, 0.0, 0.5, 0.3];
        let mut counts = [0usize; 4];
        for _ in 0..100_000 {
            counts[rng.categorical(&weights)] += 1;
        }
        assert_eq!(counts[1], 0);
        for (count, weight) in counts.iter().zip(weights) {
            assert!((*count as f64 / 100_000.0 - weight).abs() < 0.01);
        }
    }
}
