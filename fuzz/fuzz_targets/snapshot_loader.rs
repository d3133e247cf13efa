//! Arbitrary bytes as a snapshot file, through `persist::snapshot::decode` (what `read` runs
//! on a file's content).
//!
//! Checks: nothing panics (nor does the replay parser on the decoded commands); what decodes,
//! re-encoded with `snapshot::encode`, decodes to the same header fields, commands and key
//! count; and that encoding with one byte flipped never panics, and after the header line
//! (the zstd frame, whose checksum covers its content) is refused or decodes to the same
//! commands.
//!
//! Input layout: byte 0 picks the flipped byte's position, byte 1 its XOR mask (0 counts as
//! 1), the rest is the file.
#![no_main]

use corekv::persist::snapshot::{Loaded, decode, encode};
use corekv::protocol::{ParserLimits, RequestParser};
use libfuzzer_sys::fuzz_target;

/// Parses the commands as replay does (`server::persistence::Replayer`); only panics matter.
fn replay_parse(commands: &[u8]) {
    let mut parser = RequestParser::new(ParserLimits {
        proto_max_bulk_len: u64::MAX,
        max_multibulk_len: u64::MAX,
        ..ParserLimits::default()
    });
    let mut rest = commands;
    while let Ok(Some((request, used))) = parser.parse(rest) {
        assert!(!request.is_empty() && used > 0 && used <= rest.len());
        rest = &rest[used..];
    }
}

fn same_content(a: &Loaded, b: &Loaded) -> bool {
    (a.seq, a.ms, a.keys, &a.commands) == (b.seq, b.ms, b.keys, &b.commands)
}

fuzz_target!(|data: &[u8]| {
    let [flip_at, flip_mask, file @ ..] = data else { return };
    let (flip_at, flip_mask) = (*flip_at, *flip_mask);
    let Ok(loaded) = decode(file) else { return };
    assert_eq!(loaded.bytes, file.len() as u64);
    replay_parse(&loaded.commands);

    let encoded = encode(loaded.seq, loaded.ms, &loaded.commands, loaded.keys);
    let again = decode(&encoded).expect("a re-encoded snapshot decodes");
    assert!(same_content(&loaded, &again), "{loaded:?} re-encoded as {again:?}");

    // The header line has no checksum (a flipped digit there changes seq or ms); the zstd
    // frame's covers its content, not the frame's own header, so a flip after the header line
    // is refused or decodes to the same commands (a different window size, say).
    let at = usize::from(flip_at) * encoded.len() / 256;
    let header_len = encoded.iter().position(|&b| b == b'\n').expect("a header line") + 1;
    let mut damaged = encoded;
    damaged[at] ^= flip_mask.max(1);
    if let Ok(damaged) = decode(&damaged)
        && at >= header_len
    {
        assert_eq!((&damaged.commands, damaged.keys), (&loaded.commands, loaded.keys), "{at}");
    }
});
