//! Tests. Texts marked "redis 7.0.15" were compared with `redis-server` 7.0.15 (Debian) by
//! hand: `redis-server --port abc` for load errors, `redis-cli CONFIG SET/GET` for runtime.

mod load;
mod runtime;
mod syntax;

use std::path::{Path, PathBuf};

use super::{Config, ConfigError};

/// A directory under the system temp dir, removed on drop; unique per test and process.
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> TempDir {
        let path =
            std::env::temp_dir().join(format!("corekv-config-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `name` in the directory and returns its path.
    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create dir");
        }
        std::fs::write(&path, text).expect("write file");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|arg| (*arg).to_owned()).collect()
}

fn from_flags(args: &[&str]) -> Result<Config, ConfigError> {
    Config::from_args(strings(args))
}

/// Loads `text` as a configuration file in a fresh temp dir.
fn from_text(test: &str, text: &str) -> Result<Config, ConfigError> {
    let dir = TempDir::new(test);
    let path = dir.write("corekv.conf", text);
    Config::from_file(&path)
}

/// The reason of a failed load.
fn reason(result: Result<Config, ConfigError>) -> String {
    match result {
        Ok(_) => panic!("the configuration should have been refused"),
        Err(error) => error.reason,
    }
}

fn get_one(config: &Config, name: &str) -> String {
    let mut pairs = config.get(name.as_bytes());
    assert_eq!(pairs.len(), 1, "{name}");
    pairs.pop().map(|(_, value)| value).unwrap_or_default()
}
