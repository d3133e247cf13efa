//! A Zipf sampler over ranks `1..=n`: `P(k) ∝ k^-s`, in O(1) memory and expected O(1) time.
//!
//! # Algorithm
//!
//! Rejection-inversion (W. Hörmann and G. Derflinger, "Rejection-inversion to generate variates
//! from monotone discrete distributions", ACM TOMACS 6(3), 1996), as Apache Commons RNG's
//! `RejectionInversionZipfSampler` implements it. The discrete masses `h(k) = k^-s` are covered
//! by the integral of the continuous hat `h(x) = x^-s` over `[k - ½, k + ½]`; a uniform draw of
//! that integral is inverted to a real `x`, rounded to the rank `k`, and accepted when it falls
//! under the mass of `k`. The acceptance rate is above 90 % for every `s > 0` and `n`, and the
//! only state is four numbers, so it serves 10⁹ keys as well as 10.
//!
//! `helper1` and `helper2` are `ln(1+x)/x` and `(eˣ-1)/x` with their Taylor series near 0, so
//! `s = 1` (where `(1-s) = 0`) needs no special case.

use rand::Rng;

/// Samples ranks `1..=n` with probability proportional to `rank^-exponent`.
#[derive(Debug, Clone)]
pub struct ZipfSampler {
    elements: u64,
    exponent: f64,
    /// `H(1.5) - 1`: the top of the integral's range (rank 1 is taken whole).
    h_integral_x1: f64,
    /// `H(n + 0.5)`: the bottom of the integral's range.
    h_integral_elements: f64,
    /// The squeeze: `k - x <= squeeze` accepts without evaluating `H`.
    squeeze: f64,
}

impl ZipfSampler {
    /// A sampler over `1..=elements` with `exponent > 0` (finite). Panics otherwise: the
    /// workload parser checks both before building one.
    pub fn new(elements: u64, exponent: f64) -> Self {
        assert!(elements >= 1, "a Zipf distribution needs at least one element");
        assert!(exponent > 0.0 && exponent.is_finite(), "the Zipf exponent must be > 0");
        let h_integral_x1 = h_integral(1.5, exponent) - 1.0;
        let h_integral_elements = h_integral(elements as f64 + 0.5, exponent);
        let squeeze =
            2.0 - h_integral_inverse(h_integral(2.5, exponent) - h(2.0, exponent), exponent);
        ZipfSampler { elements, exponent, h_integral_x1, h_integral_elements, squeeze }
    }

    /// The number of ranks.
    pub fn elements(&self) -> u64 {
        self.elements
    }

    /// The exponent `s`.
    pub fn exponent(&self) -> f64 {
        self.exponent
    }

    /// One rank in `1..=n`; rank 1 is the most frequent.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> u64 {
        // Bounded: each round accepts with probability > 0.9, so 1,000 rejections in a row
        // (probability < 1e-1000) would mean a broken uniform source.
        for _ in 0..1_000 {
            let uniform: f64 = rng.random();
            let u = self.h_integral_elements
                + uniform * (self.h_integral_x1 - self.h_integral_elements);
            let x = h_integral_inverse(u, self.exponent);
            let rank = ((x + 0.5) as u64).clamp(1, self.elements);
            let k = rank as f64;
            if k - x <= self.squeeze
                || u >= h_integral(k + 0.5, self.exponent) - h(k, self.exponent)
            {
                return rank;
            }
        }
        unreachable!("rejection-inversion rejected 1,000 draws in a row")
    }
}

/// `h(x) = x^-s`.
fn h(x: f64, exponent: f64) -> f64 {
    (-exponent * x.ln()).exp()
}

/// `H(x) = (x^(1-s) - 1) / (1 - s)`, or `ln x` at `s = 1`: an antiderivative of `h`.
fn h_integral(x: f64, exponent: f64) -> f64 {
    let log_x = x.ln();
    helper2((1.0 - exponent) * log_x) * log_x
}

/// The inverse of [`h_integral`].
fn h_integral_inverse(x: f64, exponent: f64) -> f64 {
    // Clamped at -1: rounding can push the product just below, where ln(1 + t) is undefined.
    let t = (x * (1.0 - exponent)).max(-1.0);
    (helper1(t) * x).exp()
}

/// `ln(1 + x) / x`, continuous at 0.
fn helper1(x: f64) -> f64 {
    if x.abs() > 1e-8 { x.ln_1p() / x } else { 1.0 - x * (0.5 - x * (1.0 / 3.0 - 0.25 * x)) }
}

/// `(e^x - 1) / x`, continuous at 0.
fn helper2(x: f64) -> f64 {
    if x.abs() > 1e-8 {
        x.exp_m1() / x
    } else {
        1.0 + x * 0.5 * (1.0 + x * (1.0 / 3.0) * (1.0 + 0.25 * x))
    }
}

#[cfg(test)]
mod tests {
    use super::ZipfSampler;
    use rand::SeedableRng;
    use rand::rngs::SmallRng;

    /// Empirical frequencies of the first ranks against the exact pmf, within 5 standard
    /// errors, for exponents on both sides of 1 and at 1.
    #[test]
    fn frequencies_match_the_pmf() {
        for exponent in [0.5, 0.99, 1.0, 1.5] {
            let n = 100u64;
            let sampler = ZipfSampler::new(n, exponent);
            let mut rng = SmallRng::seed_from_u64(7);
            let samples = 400_000;
            let mut counts = vec![0u64; n as usize + 1];
            for _ in 0..samples {
                let rank = sampler.sample(&mut rng);
                assert!((1..=n).contains(&rank));
                counts[rank as usize] += 1;
            }
            let norm: f64 = (1..=n).map(|k| (k as f64).powf(-exponent)).sum();
            for k in [1u64, 2, 5, 10, 50, 100] {
                let p = (k as f64).powf(-exponent) / norm;
                let expected = p * samples as f64;
                let sigma = (samples as f64 * p * (1.0 - p)).sqrt();
                let got = counts[k as usize] as f64;
                assert!(
                    (got - expected).abs() < 5.0 * sigma,
                    "s={exponent} rank {k}: {got} vs {expected:.0} ± {sigma:.0}"
                );
            }
        }
    }

    #[test]
    fn one_element_always_ranks_one() {
        let sampler = ZipfSampler::new(1, 0.99);
        let mut rng = SmallRng::seed_from_u64(1);
        assert!((0..1000).all(|_| sampler.sample(&mut rng) == 1));
    }
}
