//! Helpers shared by the bench binaries (each includes this file with `#[path]`, since
//! benches are separate crates).

// Each bench includes this file and uses only part of it.
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;

use criterion::Criterion;

/// The criterion settings every suite here uses: 10 samples after a 1 s warm-up, `measurement`
/// long each, then whatever the command line says (`cargo bench -- --measurement-time 5`).
pub fn criterion(measurement: Duration) -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(measurement)
        .configure_from_args()
}

/// Where criterion writes its reports (its own rule: `$CRITERION_HOME`, else
/// `$CARGO_TARGET_DIR/criterion`, else `target/criterion`), so a bench's extra JSON lands
/// beside criterion's for the scripts in `scripts/` to collect.
pub fn criterion_home() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| PathBuf::from("target"), PathBuf::from)
        .join("criterion")
}
