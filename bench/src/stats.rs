//! Interleaved rounds and medians.

use std::time::Duration;

/// Runs every case once per round, in a shuffled order so that no case always runs first or
/// after the same neighbour, and returns each case's timings.
pub fn interleave(
    rounds: usize,
    cases: &mut [(&str, &mut dyn FnMut() -> Duration)],
) -> Vec<Vec<f64>> {
    let mut times = vec![Vec::with_capacity(rounds); cases.len()];
    // One warm-up round, discarded: first-touch page faults and thread start-up.
    for (_, case) in cases.iter_mut() {
        case();
    }
    let mut rng = 0x9e37_79b9_7f4a_7c15_u64;
    let mut order: Vec<usize> = (0..cases.len()).collect();
    for _ in 0..rounds {
        // Fisher-Yates with xorshift: a fixed seed keeps runs comparable.
        for i in (1..order.len()).rev() {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            order.swap(i, (rng % (i as u64 + 1)) as usize);
        }
        for &i in &order {
            times[i].push(cases[i].1().as_secs_f64());
        }
    }
    times
}

/// The median of `values` (which must not be empty).
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len().is_multiple_of(2) {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    } else {
        sorted[mid]
    }
}

/// The median of the per-round ratios `a[i] / b[i]`: robust to a round that was slow for both.
pub fn paired_ratio(a: &[f64], b: &[f64]) -> f64 {
    let ratios: Vec<f64> = a.iter().zip(b).map(|(a, b)| a / b).collect();
    median(&ratios)
}
