//! HdrHistogram's classic percentile-distribution text (`.hgrm`), as Java's
//! `outputPercentileDistribution` writes it, so HdrHistogram's plotter and every tool that
//! reads wrk2 or `redis-benchmark` output can read ours.
//!
//! ```text
//!        Value     Percentile TotalCount 1/(1-Percentile)
//!
//!       12.031 0.000000000000          1           1.00
//!      ...
//! #[Mean    =       14.321, StdDeviation   =        2.001]
//! #[Max     =       95.231, Total count    =        10000]
//! #[Buckets =           26, SubBuckets     =         2048]
//! ```

use std::fmt::Write;

use hdrhistogram::Histogram;

/// Percentile steps per halving of the remaining distance to 100 % (Java's default is 5).
pub const TICKS_PER_HALF_DISTANCE: u32 = 5;

/// `histogram` as `.hgrm` text, values divided by `unit_ratio` (1,000 turns the harness's
/// nanoseconds into microseconds).
pub fn percentile_distribution(histogram: &Histogram<u64>, unit_ratio: f64) -> String {
    let digits = usize::from(histogram.sigfig());
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:>12} {:>14} {:>10} {:>14}\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    );
    let mut total = 0u64;
    for step in histogram.iter_quantiles(TICKS_PER_HALF_DISTANCE) {
        let value = histogram.highest_equivalent(step.value_iterated_to()) as f64 / unit_ratio;
        let quantile = step.quantile_iterated_to();
        total += step.count_since_last_iteration();
        if quantile < 1.0 {
            let inverse = 1.0 / (1.0 - quantile);
            let _ = writeln!(out, "{value:12.digits$} {quantile:2.12} {total:10} {inverse:14.2}");
        } else {
            let _ = writeln!(out, "{value:12.digits$} {quantile:2.12} {total:10}");
        }
    }
    let mean = histogram.mean() / unit_ratio;
    let deviation = histogram.stdev() / unit_ratio;
    let max = histogram.highest_equivalent(histogram.max()) as f64 / unit_ratio;
    let _ =
        writeln!(out, "#[Mean    = {mean:12.digits$}, StdDeviation   = {deviation:12.digits$}]");
    let _ = writeln!(out, "#[Max     = {max:12.digits$}, Total count    = {:12}]", histogram.len());
    let _ = writeln!(
        out,
        "#[Buckets = {:12}, SubBuckets     = {:12}]",
        histogram.buckets(),
        sub_buckets(histogram.sigfig())
    );
    out
}

/// The sub-bucket count HdrHistogram derives from its precision: the power of two at or above
/// `2 × 10^sigfig`.
fn sub_buckets(sigfig: u8) -> u64 {
    (2 * 10u64.pow(u32::from(sigfig))).next_power_of_two()
}

#[cfg(test)]
mod tests {
    use super::percentile_distribution;
    use crate::bench::recorder::new_histogram;

    #[test]
    fn classic_layout() {
        let mut histogram = new_histogram();
        for value in 1..=1000u64 {
            histogram.record(value * 1000).unwrap();
        }
        let text = percentile_distribution(&histogram, 1000.0);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "       Value     Percentile TotalCount 1/(1-Percentile)");
        assert_eq!(lines[1], "");
        assert_eq!(lines[2], "       1.000 0.000000000000          1           1.00");
        let last = lines.iter().rev().find(|line| !line.starts_with('#')).unwrap();
        assert!(last.ends_with("1.000000000000       1000"), "{last}");
        assert!(lines.iter().any(|line| line.starts_with("#[Max     =     1000.447")));
        let footer = lines.last().unwrap();
        assert!(
            footer.starts_with("#[Buckets = ")
                && footer.ends_with(", SubBuckets     =         2048]")
        );
    }
}
