//! Arbitrary bytes as a configuration file (`Config::from_text`, the line parser files go
//! through) or as a command line (`Config::from_args`).
//!
//! Checks: nothing panics; a file that loads, rewritten by CONFIG REWRITE's renderer
//! (`Config::rewritten`) over its own text, loads to the same configuration, and so does
//! rewriting that again; a configuration rewritten into an empty file loads to the same
//! options (`rename-command` and `user` lines are only ever kept from an old file).
//!
//! Input layout: byte 0 bit 0 picks a file (0) or a command line (1: arguments separated by
//! NUL bytes), the rest is the text. Inputs naming `/dev/`, `/proc/` or `/sys/` are skipped:
//! `include` reads real files, and a device would only measure the disk, not the parser.
#![no_main]

use std::path::Path;

use corekv::server::config::Config;
use libfuzzer_sys::fuzz_target;

const PATH: &str = "fuzz.conf";

/// A configuration as CONFIG GET shows it, with the lines CONFIG REWRITE keeps verbatim.
fn options(config: &Config) -> (Vec<(String, String)>, usize, usize) {
    (config.get(b"*"), config.rename_command.len(), config.users.len())
}

/// Rewritten into an empty file, `config` loads back to the same options.
fn check_rewrite_from_scratch(config: &Config) {
    let text = config.rewritten(b"");
    let again = Config::from_text(&text, Path::new(PATH)).unwrap_or_else(|error| {
        panic!("rewritten config refused: {error}\n{}", String::from_utf8_lossy(&text))
    });
    let mut expected = config.clone();
    expected.rename_command.clear();
    expected.users.clear();
    assert_eq!(options(&again), options(&expected), "{}", String::from_utf8_lossy(&text));
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, input)) = data.split_first() else { return };
    let devices = [&b"/dev/"[..], b"/proc/", b"/sys/"];
    if devices.iter().any(|device| input.windows(device.len()).any(|w| w == *device)) {
        return;
    }
    if mode & 1 == 0 {
        let Ok(config) = Config::from_text(input, Path::new(PATH)) else { return };
        let text = config.rewritten(input);
        let again = Config::from_text(&text, Path::new(PATH)).unwrap_or_else(|error| {
            panic!("rewritten config refused: {error}\n{}", String::from_utf8_lossy(&text))
        });
        assert_eq!(again, config, "{}", String::from_utf8_lossy(&text));
        // A second rewrite may move lines (as in Redis, an option's lines reuse its old lines in
        // order, so `client-output-buffer-limit` classes can shift by one per rewrite), but it
        // must still load to the same configuration.
        let twice = again.rewritten(&text);
        let twice_loaded = Config::from_text(&twice, Path::new(PATH)).expect("rewritten twice");
        assert_eq!(twice_loaded, config, "{}", String::from_utf8_lossy(&twice));
        check_rewrite_from_scratch(&config);
    } else {
        let args: Vec<String> =
            input.split(|&b| b == 0).map(|arg| String::from_utf8_lossy(arg).into_owned()).collect();
        // A first argument without a dash names a file to read: not what is fuzzed here.
        if args.first().is_some_and(|first| !first.starts_with('-')) {
            return;
        }
        let Ok(config) = Config::from_args(args) else { return };
        check_rewrite_from_scratch(&config);
    }
});
