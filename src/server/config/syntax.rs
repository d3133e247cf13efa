//! The lexical rules of redis.conf, byte for byte as Redis 7.0 applies them: `sdssplitargs`
//! (line splitting and quoting), `sdscatrepr` (quoting on the way back out), `memtoull`
//! (memory values), `yesnotoi`, C's `strtoll`, and the number formats CONFIG GET and
//! CONFIG REWRITE print.

/// Splits one configuration line into arguments as `sdssplitargs` does, or `None` when the
/// quotes are unbalanced.
///
/// - Arguments are separated by spaces, tabs, `\n` and `\r` (blanks before an argument also
///   include `\v` and `\f`, as C's `isspace`).
/// - `"..."` understands `\n \r \t \b \a`, `\xHH` and `\<any>` (the byte itself).
/// - `'...'` understands only `\'`.
/// - A closing quote must be followed by a blank or the end of the line.
/// - Quotes may start in the middle of an argument: `ab"cd"` is `abcd`.
/// - The line ends at its first NUL byte, as the C string it is in Redis.
pub(super) fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    // The same `sdssplitargs` as inline requests (`protocol::inline`), on the C string the
    // line is in Redis: it ends at its first NUL.
    let line = line.iter().position(|&byte| byte == 0).map_or(line, |nul| &line[..nul]);
    let (mut scratch, mut spans) = (Vec::new(), Vec::new());
    crate::protocol::split_inline_args(line, &mut scratch, &mut spans).ok()?;
    Some(spans.into_iter().map(|span| scratch[span].to_vec()).collect())
}

/// Quotes `bytes` as `sdscatrepr` does, so that [`split_args`] reads them back unchanged.
pub(super) fn repr(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    out.push('"');
    for &byte in bytes {
        match byte {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x07 => out.push_str("\\a"),
            0x08 => out.push_str("\\b"),
            0x20..=0x7e => out.push(char::from(byte)),
            other => out.push_str(&format!("\\x{other:02x}")),
        }
    }
    out.push('"');
    out
}

/// Longest digit run `memtoull` accepts (it copies the digits into a 128-byte buffer).
const MEMORY_DIGITS_MAX: usize = 127;

/// Parses a memory value as Redis's `memtoull`: digits, then an optional case-insensitive
/// unit (`b`, `k` = 1000, `kb` = 1024, `m`, `mb`, `g`, `gb`). A leading `-` is refused. An
/// empty digit run counts as 0 (so `""` and `"kb"` are 0), and a digit run past `u64`
/// saturates (strtoull), as in Redis; only the multiplication is checked for overflow.
pub(super) fn parse_memory(text: &[u8]) -> Option<u64> {
    if text.first() == Some(&b'-') {
        return None;
    }
    let digits_end = text.iter().position(|byte| !byte.is_ascii_digit()).unwrap_or(text.len());
    let (digits, unit) = text.split_at(digits_end);
    let multiplier: u64 = match unit.to_ascii_lowercase().as_slice() {
        b"" | b"b" => 1,
        b"k" => 1000,
        b"kb" => 1024,
        b"m" => 1000 * 1000,
        b"mb" => 1024 * 1024,
        b"g" => 1000 * 1000 * 1000,
        b"gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    if digits.len() > MEMORY_DIGITS_MAX {
        return None;
    }
    let value = digits.iter().fold(0u64, |value, &digit| {
        value.saturating_mul(10).saturating_add(u64::from(digit - b'0'))
    });
    value.checked_mul(multiplier)
}

/// Formats bytes as CONFIG REWRITE does (`rewriteConfigFormatMemory`): the largest of
/// `gb`/`mb`/`kb` that divides the value exactly, else plain bytes.
pub(super) fn format_memory(bytes: u64) -> String {
    const KB: u64 = 1024;
    const MB: u64 = 1024 * KB;
    const GB: u64 = 1024 * MB;
    match bytes {
        0 => "0".to_owned(),
        _ if bytes.is_multiple_of(GB) => format!("{}gb", bytes / GB),
        _ if bytes.is_multiple_of(MB) => format!("{}mb", bytes / MB),
        _ if bytes.is_multiple_of(KB) => format!("{}kb", bytes / KB),
        _ => bytes.to_string(),
    }
}

/// Redis's `yesnotoi`: `yes` or `no` in any case.
pub(super) fn parse_yes_no(text: &[u8]) -> Option<bool> {
    if text.eq_ignore_ascii_case(b"yes") {
        Some(true)
    } else if text.eq_ignore_ascii_case(b"no") {
        Some(false)
    } else {
        None
    }
}

/// Renders a boolean as Redis does.
pub(super) fn yes_no(value: bool) -> &'static str {
    if value { "yes" } else { "no" }
}

/// C's `strtoll(text, &end, 10)` followed by Redis's `*end == '\0'` check: leading blanks and
/// a sign are accepted, the empty string is 0, overflow saturates, and anything left over
/// (including a lone sign or blanks alone) is refused. Used where Redis calls `strtoll`
/// directly (`save`, `client-output-buffer-limit`) rather than its strict `string2ll`.
pub(super) fn parse_strtoll(text: &[u8]) -> Option<i64> {
    let mut position = 0;
    while position < text.len() && is_c_space(text[position]) {
        position += 1;
    }
    let negative = match text.get(position) {
        Some(b'-') => {
            position += 1;
            true
        }
        Some(b'+') => {
            position += 1;
            false
        }
        _ => false,
    };
    let digits = &text[position..];
    let digits_len = digits.iter().take_while(|byte| byte.is_ascii_digit()).count();
    if digits_len == 0 {
        // No conversion: strtoll leaves `end` at the start of the text, so only "" passes.
        return text.is_empty().then_some(0);
    }
    if digits_len != digits.len() {
        return None;
    }
    let magnitude = digits.iter().fold(0i128, |value, &digit| {
        (value * 10 + i128::from(digit - b'0')).min(i128::from(u64::MAX) + 1)
    });
    let value = if negative { -magnitude } else { magnitude };
    Some(value.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64)
}

/// Formats a double as `%f` then `trimDoubleString` (trailing zeros and dot removed), the
/// way Redis prints `latency-tracking-info-percentiles`.
pub(super) fn format_percentile(value: f64) -> String {
    let mut text = format!("{value:.6}");
    if text.contains('.') {
        let trimmed = text.trim_end_matches('0').trim_end_matches('.').len();
        text.truncate(trimmed);
    }
    text
}

/// Redis's `pathIsBaseName`: no `/` and no `\`.
pub(super) fn is_base_name(text: &str) -> bool {
    !text.contains(['/', '\\'])
}

/// C's `isspace` in the "C" locale.
fn is_c_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}
