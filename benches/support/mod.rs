//! Helpers shared by the bench binaries (each includes this file with `#[path]`, since
//! benches are separate crates).

use std::path::PathBuf;

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
