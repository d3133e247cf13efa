//! Loading: redis.conf files (with `include`), command-line flags, and the fatal error they
//! raise. Follows Redis 7.0's `loadServerConfigFromString` and `main()`'s flag handling.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::Config;
use super::special::os_error_text;
use super::syntax::{repr, split_args};
use super::table::{Mode, lookup, utf8};
use crate::engine::glob;

/// Deepest `include` nesting accepted; deeper is almost surely an include cycle (Redis has
/// no bound and recurses until the stack runs out).
pub const MAX_INCLUDE_DEPTH: usize = 16;

/// Largest configuration file read, so a mistaken path (`/dev/zero`) cannot exhaust memory.
pub const MAX_CONFIG_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Directives Redis 7.0 still accepts and ignores (`deprecated_configs`), with their
/// argument count including the name.
const DEPRECATED: &[(&str, usize)] = &[
    ("list-max-ziplist-entries", 2),
    ("list-max-ziplist-value", 2),
    ("lua-replicate-commands", 2),
];

/// Where a configuration error was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigOrigin {
    /// A configuration file (the path as given, or as written in an `include`).
    File(PathBuf),
    /// The `--name value` flags.
    CommandLine,
}

/// A configuration file or command line that cannot be used; the server refuses to start.
///
/// `Display` prints Redis's fatal error block:
///
/// ```text
/// *** FATAL CONFIG FILE ERROR (corekv 0.1.0) ***
/// Reading the configuration file corekv.conf, at line 3
/// >>> 'port 99999'
/// argument must be between 0 and 65535 inclusive
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConfigError {
    /// The file or the command line.
    pub origin: ConfigOrigin,
    /// The 1-based line (file) or option (command line); `None` when the error is about the
    /// file as a whole (it cannot be opened).
    pub line_number: Option<usize>,
    /// The offending line, trimmed (for flags: the `name "value"` line they became).
    pub line: Option<String>,
    /// Why, in Redis's words where Redis has them.
    pub reason: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "*** FATAL CONFIG FILE ERROR (corekv {}) ***", env!("CARGO_PKG_VERSION"))?;
        if let Some(line_number) = self.line_number {
            match &self.origin {
                ConfigOrigin::File(path) => writeln!(
                    f,
                    "Reading the configuration file {}, at line {line_number}",
                    path.display()
                )?,
                ConfigOrigin::CommandLine => {
                    writeln!(f, "Reading the command line, at option {line_number}")?
                }
            }
        }
        if let Some(line) = &self.line {
            writeln!(f, ">>> '{line}'")?;
        }
        write!(f, "{}", self.reason)
    }
}

impl std::error::Error for ConfigError {}

/// Applies configuration lines to a [`Config`], in order.
pub(super) struct Loader<'c> {
    pub(super) config: &'c mut Config,
    include_depth: usize,
}

impl<'c> Loader<'c> {
    pub(super) fn new(config: &'c mut Config) -> Self {
        Loader { config, include_depth: 0 }
    }

    /// Loads the file at `path` (relative paths are relative to the working directory).
    pub(super) fn load_file(&mut self, path: &Path) -> Result<(), ConfigError> {
        let origin = ConfigOrigin::File(path.to_path_buf());
        let text = read_config_file(path).map_err(|reason| ConfigError {
            origin: origin.clone(),
            line_number: None,
            line: None,
            reason,
        })?;
        self.load_text(&text, &origin)
    }

    /// Loads a configuration file's text (`include`s in it are read from disk).
    pub(super) fn load_text(
        &mut self,
        text: &[u8],
        origin: &ConfigOrigin,
    ) -> Result<(), ConfigError> {
        self.load_lines(text.split(|&byte| byte == b'\n'), origin)
    }

    pub(super) fn load_lines<'a>(
        &mut self,
        lines: impl IntoIterator<Item = &'a [u8]>,
        origin: &ConfigOrigin,
    ) -> Result<(), ConfigError> {
        for (index, line) in lines.into_iter().enumerate() {
            let line = trim(line);
            self.load_line(line).map_err(|failure| match failure {
                Failure::Nested(error) => error,
                Failure::Reason(reason) => ConfigError {
                    origin: origin.clone(),
                    line_number: Some(index + 1),
                    line: Some(String::from_utf8_lossy(line).into_owned()),
                    reason,
                },
            })?;
        }
        Ok(())
    }

    fn load_line(&mut self, line: &[u8]) -> Result<(), Failure> {
        if line.is_empty() || line[0] == b'#' {
            return Ok(());
        }
        let mut argv = split_args(line).ok_or("Unbalanced quotes in configuration line")?;
        let Some(name) = argv.first_mut() else {
            return Ok(());
        };
        name.make_ascii_lowercase();
        if let Some(spec) = lookup(&argv[0]) {
            if !spec.multi_arg() && argv.len() != 2 {
                return Err("wrong number of arguments".into());
            }
            // A multi-argument option given one non-empty argument splits it, so that
            // `--save "60 100"` and `bind "a b"` work; `--save ""` stays one empty argument.
            let args = match argv.as_slice() {
                [_, only] if spec.multi_arg() && !only.is_empty() => {
                    split_args(only).ok_or("Unbalanced quotes in configuration line")?
                }
                [_, rest @ ..] => rest.to_vec(),
                [] => Vec::new(),
            };
            spec.apply(self.config, &args, Mode::Loading)?;
            return Ok(());
        }
        let directive = String::from_utf8_lossy(&argv[0]);
        if DEPRECATED.iter().any(|&(name, argc)| name == directive && argc == argv.len()) {
            return Ok(());
        }
        match (directive.as_ref(), argv.as_slice()) {
            ("include", [_, path]) => self.include(&utf8(path)?),
            ("rename-command", [_, from, to]) => {
                self.config.rename_command.push((utf8(from)?, utf8(to)?));
                Ok(())
            }
            ("user", [_, name, rules @ ..]) => {
                let rules: Vec<&[u8]> = rules.iter().map(Vec::as_slice).collect();
                crate::server::acl::Acl::validate(&rules)?;
                let mut line = vec![name.clone()];
                line.extend(rules.iter().map(|rule| rule.to_vec()));
                self.config.users.push(line);
                Ok(())
            }
            _ => Err("Bad directive or wrong number of arguments".into()),
        }
    }

    /// `include <path>`: loads another file in place. Like Redis 7, a path with `*`, `?` or
    /// `[` is a glob: every matching file is loaded in name order, and no match is not an
    /// error (so an empty `conf.d` works). corekv supports wildcards in the file name only.
    fn include(&mut self, path: &str) -> Result<(), Failure> {
        if self.include_depth >= MAX_INCLUDE_DEPTH {
            return Err(format!(
                "include nesting deeper than {MAX_INCLUDE_DEPTH} levels (an include cycle?)"
            )
            .into());
        }
        let paths = if path.contains(['*', '?', '[']) {
            expand_include_glob(Path::new(path))?
        } else {
            vec![PathBuf::from(path)]
        };
        self.include_depth += 1;
        let result = paths.iter().try_for_each(|path| self.load_file(path));
        self.include_depth -= 1;
        // A file that cannot be read is reported at the `include` line naming it.
        result.map_err(|error| match error.line_number {
            None => Failure::Reason(error.reason),
            Some(_) => Failure::Nested(error),
        })
    }
}

/// Why a line failed: a reason to report at that line, or an error already located inside
/// an included file.
enum Failure {
    Reason(String),
    Nested(ConfigError),
}

impl From<String> for Failure {
    fn from(reason: String) -> Self {
        Failure::Reason(reason)
    }
}

impl From<&str> for Failure {
    fn from(reason: &str) -> Self {
        Failure::Reason(reason.to_owned())
    }
}

fn read_config_file(path: &Path) -> Result<Vec<u8>, String> {
    let cannot_open =
        |error| format!("can't open config file '{}': {}", path.display(), os_error_text(error));
    let file = std::fs::File::open(path).map_err(cannot_open)?;
    let mut text = Vec::new();
    file.take(MAX_CONFIG_FILE_BYTES + 1).read_to_end(&mut text).map_err(cannot_open)?;
    if text.len() as u64 > MAX_CONFIG_FILE_BYTES {
        return Err(format!(
            "config file '{}' is larger than {MAX_CONFIG_FILE_BYTES} bytes",
            path.display()
        ));
    }
    Ok(text)
}

/// The files matching a glob in the last path component, sorted, skipping directories and
/// (as glob(3) does) dot files unless the pattern starts with a dot.
fn expand_include_glob(path: &Path) -> Result<Vec<PathBuf>, String> {
    let pattern = path.file_name().and_then(|name| name.to_str()).unwrap_or_default();
    let directory = path.parent().filter(|parent| !parent.as_os_str().is_empty());
    if directory.is_some_and(|directory| directory.to_string_lossy().contains(['*', '?', '['])) {
        return Err("wildcards in include are supported in the file name only".to_owned());
    }
    let Ok(entries) = std::fs::read_dir(directory.unwrap_or(Path::new("."))) else {
        return Ok(Vec::new());
    };
    let mut matches: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_ok_and(|kind| !kind.is_dir()))
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let hidden = name.starts_with('.') && !pattern.starts_with('.');
            (!hidden && glob::matches(pattern.as_bytes(), name.as_bytes())).then_some(name)
        })
        .map(|name| directory.map_or_else(|| PathBuf::from(&name), |dir| dir.join(&name)))
        .collect();
    matches.sort();
    Ok(matches)
}

/// Turns the flags after the optional config file into configuration lines, as Redis's
/// `main()` does: each `--name` starts a line, every other argument is appended quoted.
/// The argument right after a bare `--name` is always its value, even if it starts with
/// `--`, except that `--save` followed by another flag or by nothing means `--save ""`.
pub(super) fn flags_to_lines(args: &[String]) -> Vec<Vec<u8>> {
    let mut lines: Vec<Vec<u8>> = Vec::new();
    let mut value_expected = false;
    for (index, arg) in args.iter().enumerate() {
        if !value_expected && let Some(name) = arg.strip_prefix("--") {
            let mut line = name.as_bytes().to_vec();
            line.push(b' ');
            // "--port 6380" as one argument already carries its value.
            value_expected = split_args(arg.as_bytes()).is_some_and(|words| words.len() == 1);
            if value_expected && arg.eq_ignore_ascii_case("--save") {
                let next_is_flag = args.get(index + 1).is_none_or(|next| next.starts_with("--"));
                if next_is_flag {
                    line.extend_from_slice(b"\"\"");
                    value_expected = false;
                }
            }
            lines.push(line);
        } else {
            if lines.is_empty() {
                lines.push(Vec::new());
            }
            if let Some(line) = lines.last_mut() {
                line.extend_from_slice(repr(arg.as_bytes()).as_bytes());
                line.push(b' ');
            }
            value_expected = false;
        }
    }
    lines
}

/// Redis's `sdstrim(line, " \t\r\n")`.
pub(super) fn trim(line: &[u8]) -> &[u8] {
    let is_trimmed = |byte: &u8| matches!(byte, b' ' | b'\t' | b'\r' | b'\n');
    let start = line.iter().position(|byte| !is_trimmed(byte)).unwrap_or(line.len());
    let end = line.iter().rposition(|byte| !is_trimmed(byte)).map_or(start, |last| last + 1);
    &line[start..end]
}
