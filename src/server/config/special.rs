//! Options with their own syntax, each following its Redis 7.0 setter, getter and rewriter
//! (`setConfigSaveOption`, `getConfigBindOption`, `rewriteConfigClientOutputBufferLimitOption`
//! and so on), including their error texts.

use super::Config;
use super::syntax::{format_memory, format_percentile, parse_memory, parse_strtoll, parse_yes_no};
use super::syntax::{repr, yes_no};
use super::table::{Mode, Rewrite, Special, utf8};
use crate::engine::num::parse_f64;

/// Redis's `CONFIG_BINDADDR_MAX`.
pub(super) const MAX_BIND_ADDRESSES: usize = 16;

impl Special {
    pub(super) fn apply(
        self,
        config: &mut Config,
        args: &[Vec<u8>],
        mode: Mode,
    ) -> Result<(), String> {
        match self {
            Special::Bind => apply_bind(config, args),
            Special::Save => apply_save(config, args, mode),
            Special::ClientOutputBufferLimit => apply_output_buffer_limit(config, args),
            Special::LatencyTrackingInfoPercentiles => apply_percentiles(config, args),
            Special::Requirepass => {
                let value = single(args)?;
                config.requirepass = (!value.is_empty()).then(|| value.clone());
                Ok(())
            }
            Special::Dir => apply_dir(config, single(args)?),
            Special::Daemonize => {
                match parse_yes_no(single(args)?).ok_or("argument must be 'yes' or 'no'")? {
                    true => Err("daemonize yes is not supported, run under a supervisor".into()),
                    false => {
                        config.daemonize = false;
                        Ok(())
                    }
                }
            }
        }
    }

    pub(super) fn render(self, config: &Config) -> String {
        match self {
            Special::Bind => config.bind.join(" "),
            Special::Save => config
                .save
                .iter()
                .map(|(seconds, changes)| format!("{seconds} {changes}"))
                .collect::<Vec<_>>()
                .join(" "),
            Special::ClientOutputBufferLimit => config
                .client_output_buffer_limit
                .classes()
                .iter()
                .map(|(name, _, limit)| {
                    format!(
                        "{name} {} {} {}",
                        limit.hard_bytes, limit.soft_bytes, limit.soft_seconds
                    )
                })
                .collect::<Vec<_>>()
                .join(" "),
            Special::LatencyTrackingInfoPercentiles => config
                .latency_tracking_info_percentiles
                .iter()
                .map(|&percentile| format_percentile(percentile))
                .collect::<Vec<_>>()
                .join(" "),
            Special::Requirepass => config
                .requirepass
                .as_deref()
                .map(|password| String::from_utf8_lossy(password).into_owned())
                .unwrap_or_default(),
            Special::Dir => config.dir.to_string_lossy().into_owned(),
            Special::Daemonize => yes_no(config.daemonize).to_owned(),
        }
    }

    pub(super) fn rewrite(self, name: &str, config: &Config, default: &Config) -> Rewrite {
        let force = self.render(config) != self.render(default);
        let lines = match self {
            // Redis drops `bind` from the file when it is the default, else always writes it.
            Special::Bind if !force => return Rewrite::Remove,
            Special::Bind if config.bind.is_empty() => vec![(format!("{name} \"\""), true)],
            Special::Bind => vec![(format!("{name} {}", config.bind.join(" ")), true)],
            // Redis forces `save ""` so its own non-empty default is not used on restart;
            // corekv's default is already empty, so the line is only kept where it was.
            Special::Save if config.save.is_empty() => vec![(format!("{name} \"\""), false)],
            Special::Save => config
                .save
                .iter()
                .map(|(seconds, changes)| (format!("{name} {seconds} {changes}"), true))
                .collect(),
            Special::ClientOutputBufferLimit => {
                let defaults = default.client_output_buffer_limit.classes();
                config
                    .client_output_buffer_limit
                    .classes()
                    .iter()
                    .zip(defaults)
                    .map(|((_, class, limit), (_, _, default_limit))| {
                        let line = format!(
                            "{name} {class} {} {} {}",
                            format_memory(limit.hard_bytes),
                            format_memory(limit.soft_bytes),
                            limit.soft_seconds
                        );
                        (line, *limit != default_limit)
                    })
                    .collect()
            }
            // Redis writes this line even at its default; corekv writes it when it differs.
            Special::LatencyTrackingInfoPercentiles
                if config.latency_tracking_info_percentiles.is_empty() =>
            {
                vec![(format!("{name} \"\""), force)]
            }
            Special::LatencyTrackingInfoPercentiles => {
                vec![(format!("{name} {}", self.render(config)), force)]
            }
            Special::Requirepass => match &config.requirepass {
                None => return Rewrite::Remove,
                Some(password) => vec![(format!("{name} {}", repr(password)), true)],
            },
            // Always written, as an absolute path, as Redis does.
            Special::Dir => {
                vec![(format!("{name} {}", repr(self.render(config).as_bytes())), true)]
            }
            Special::Daemonize => vec![(format!("{name} {}", yes_no(config.daemonize)), force)],
        };
        Rewrite::Lines(lines)
    }
}

fn single(args: &[Vec<u8>]) -> Result<&Vec<u8>, String> {
    match args {
        [value] => Ok(value),
        _ => Err("wrong number of arguments".to_owned()),
    }
}

fn apply_bind(config: &mut Config, args: &[Vec<u8>]) -> Result<(), String> {
    if args.len() > MAX_BIND_ADDRESSES {
        return Err("Too many bind addresses specified.".to_owned());
    }
    // A single empty argument means "no addresses".
    let args = if matches!(args, [only] if only.is_empty()) { &[] } else { args };
    if let Some(bad) = args.iter().find(|address| !is_plain_address(address)) {
        return Err(format!(
            "Invalid bind address '{}': an address is an IP such as 127.0.0.1, ::1 or *, \
             never empty, and without blanks, quotes or control characters",
            String::from_utf8_lossy(bad)
        ));
    }
    config.bind = args.iter().map(|address| utf8(address)).collect::<Result<_, _>>()?;
    Ok(())
}

/// Whether `address` can be a bind address: printable ASCII without blanks, quotes or
/// backslashes, and not empty. Nothing else can be listened on (Redis accepts it here and
/// fails at bind time), and nothing else survives CONFIG REWRITE, which writes the addresses
/// unquoted as Redis does: an empty address or one with a blank would load back as a
/// different list of addresses.
fn is_plain_address(address: &[u8]) -> bool {
    !address.is_empty()
        && address
            .iter()
            .all(|&byte| byte.is_ascii_graphic() && !matches!(byte, b'"' | b'\'' | b'\\'))
}

/// `save <seconds> <changes> [<seconds> <changes> ...]`. In a file every line adds its points
/// and `save ""` clears them; CONFIG SET replaces the whole list. (Redis also clears its
/// non-empty built-in default at the first `save` line of a file; corekv's default is empty.)
fn apply_save(config: &mut Config, args: &[Vec<u8>], mode: Mode) -> Result<(), String> {
    const INVALID: &str = "Invalid save parameters";
    let args = if matches!(args, [only] if only.is_empty()) {
        config.save.clear();
        &[]
    } else {
        args
    };
    if !args.len().is_multiple_of(2) {
        return Err(INVALID.to_owned());
    }
    let mut points = Vec::with_capacity(args.len() / 2);
    for pair in args.chunks_exact(2) {
        let seconds = parse_strtoll(&pair[0]).filter(|&seconds| seconds >= 1);
        let changes = parse_strtoll(&pair[1]).filter(|&changes| changes >= 0);
        let (Some(seconds), Some(changes)) = (seconds, changes) else {
            return Err(INVALID.to_owned());
        };
        points.push((seconds.unsigned_abs(), changes.unsigned_abs()));
    }
    if mode == Mode::ConfigSet {
        config.save.clear();
    }
    config.save.extend(points);
    Ok(())
}

/// `client-output-buffer-limit <class> <hard> <soft> <soft seconds> [...]`: every group is
/// checked before any is stored, so a bad group changes nothing.
fn apply_output_buffer_limit(config: &mut Config, args: &[Vec<u8>]) -> Result<(), String> {
    if !args.len().is_multiple_of(4) {
        return Err("Wrong number of arguments in buffer limit configuration.".to_owned());
    }
    let mut limits = config.client_output_buffer_limit;
    for group in args.chunks_exact(4) {
        let Some(limit) = limits.class_mut(&group[0]) else {
            return Err("Invalid client class specified in buffer limit configuration.".into());
        };
        // Redis stores the seconds in a C int; larger values are refused rather than wrapped.
        let seconds =
            parse_strtoll(&group[3]).filter(|seconds| (0..=i64::from(i32::MAX)).contains(seconds));
        let (Some(hard), Some(soft), Some(seconds)) =
            (parse_memory(&group[1]), parse_memory(&group[2]), seconds)
        else {
            return Err(
                "Error in hard, soft or soft_seconds setting in buffer limit configuration."
                    .to_owned(),
            );
        };
        limit.hard_bytes = hard;
        limit.soft_bytes = soft;
        limit.soft_seconds = seconds.unsigned_abs();
    }
    config.client_output_buffer_limit = limits;
    Ok(())
}

fn apply_percentiles(config: &mut Config, args: &[Vec<u8>]) -> Result<(), String> {
    let args = if matches!(args, [only] if only.is_empty()) { &[] } else { args };
    let mut percentiles = Vec::with_capacity(args.len());
    for arg in args {
        let percentile =
            parse_f64(arg).ok_or("Invalid latency-tracking-info-percentiles parameters")?;
        if !(0.0..=100.0).contains(&percentile) {
            return Err(
                "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
                    .to_owned(),
            );
        }
        percentiles.push(percentile);
    }
    config.latency_tracking_info_percentiles = percentiles;
    Ok(())
}

/// Redis `chdir`s here, so a relative `dir` is relative to the previous one and the result
/// must be an existing directory. corekv resolves the path instead of changing the process's
/// working directory (the server does that, once, at start-up), and keeps it absolute, as
/// CONFIG GET shows it.
fn apply_dir(config: &mut Config, value: &[u8]) -> Result<(), String> {
    const NOT_FOUND: &str = "No such file or directory";
    let value = utf8(value)?;
    if value.is_empty() {
        return Err(NOT_FOUND.to_owned());
    }
    let resolved = std::fs::canonicalize(config.dir.join(&value)).map_err(os_error_text)?;
    if !resolved.is_dir() {
        return Err("Not a directory".to_owned());
    }
    config.dir = resolved;
    Ok(())
}

/// An I/O error as C's `strerror` words it (Rust appends " (os error N)").
pub(super) fn os_error_text(error: std::io::Error) -> String {
    let text = error.to_string();
    match text.rfind(" (os error ") {
        Some(end) => text[..end].to_owned(),
        None => text,
    }
}
