//! Arbitrary bytes as an AOF file, through the loader's checks (`persist::aof::decode_file`,
//! which `load_file` runs on a file's content before it truncates a torn tail).
//!
//! Checks: nothing panics (nor does the replay parser on the payloads); the loader is
//! deterministic; `aof-load-truncated no` accepts exactly the files that need no truncation;
//! a file cut at the reported torn offset loads the same records with nothing torn; the
//! records that load, re-encoded with `record::encode`, load back identically; and the
//! re-encoded file with one byte flipped is refused or loads a prefix of its records.
//!
//! Input layout: byte 0 picks the flipped byte's position, byte 1 its XOR mask (0 counts as
//! 1), the rest is the file.
#![no_main]

use std::path::Path;

use corekv::persist::aof::{DecodedFile, decode_file};
use corekv::persist::record::{self, Header};
use corekv::protocol::{ParserLimits, RequestParser};
use libfuzzer_sys::fuzz_target;

/// One applied record: its header fields and payload.
type Applied = (u64, u64, u64, Vec<u8>);

fn load(bytes: &[u8], allow_truncated: bool) -> Result<(DecodedFile, Vec<Applied>), String> {
    let mut applied = Vec::new();
    let decoded = decode_file(Path::new("fuzz.aof"), bytes, allow_truncated, |header, payload| {
        check_header(header, payload);
        replay_parse(payload);
        applied.push((header.seq, header.ms, header.db, payload.to_vec()));
        Ok(())
    })?;
    Ok((decoded, applied))
}

fn check_header(header: &Header, payload: &[u8]) {
    assert_eq!(header.len, payload.len() as u64);
}

/// Parses a payload as replay does (`server::persistence::Replayer`: no length limits, since
/// the log holds what was already accepted); only panics matter here.
fn replay_parse(payload: &[u8]) {
    let mut parser = RequestParser::new(ParserLimits {
        proto_max_bulk_len: u64::MAX,
        max_multibulk_len: u64::MAX,
        ..ParserLimits::default()
    });
    let mut rest = payload;
    while let Ok(Some((request, used))) = parser.parse(rest) {
        assert!(!request.is_empty() && used > 0 && used <= rest.len());
        rest = &rest[used..];
    }
}

fn encode(records: &[Applied]) -> Vec<u8> {
    let mut bytes = record::FILE_HEADER.to_vec();
    for (seq, ms, db, payload) in records {
        let db = usize::try_from(*db).expect("a 64-bit target");
        record::encode(&mut bytes, *seq, *ms, db, payload);
    }
    bytes
}

fuzz_target!(|data: &[u8]| {
    let [flip_at, flip_mask, file @ ..] = data else { return };
    let (flip_at, flip_mask) = (*flip_at, *flip_mask);
    let lenient = load(file, true);
    assert_eq!(lenient, load(file, true), "the loader is deterministic");
    let strict = load(file, false);
    match (&lenient, &strict) {
        (Ok((decoded, _)), Ok(strict)) => {
            assert_eq!(decoded.torn, None, "strict loading accepted a torn tail");
            assert_eq!(&lenient.as_ref().unwrap(), &strict);
        }
        (Ok((decoded, _)), Err(_)) => assert!(decoded.torn.is_some(), "refused for no reason"),
        (Err(_), Ok(_)) => panic!("strict loading accepted what lenient loading refused"),
        (Err(lenient), Err(strict)) => assert_eq!(lenient, strict),
    }
    let Ok((decoded, records)) = lenient else { return };
    assert_eq!(decoded.load.records, records.len() as u64);
    assert_eq!(decoded.load.last_seq, records.last().map(|r| r.0));
    assert!(records.windows(2).all(|pair| pair[0].0 < pair[1].0), "sequence numbers increase");

    // What the file holds after `load_file` cuts its torn tail: the same records, clean.
    if let Some(torn) = decoded.torn {
        let kept =
            if torn.at == 0 { record::FILE_HEADER.to_vec() } else { file[..torn.at].to_vec() };
        assert_eq!(decoded.load.bytes, kept.len() as u64);
        assert_eq!(decoded.load.truncated, (file.len() - torn.at) as u64);
        let (again, again_records) = load(&kept, false).expect("a truncated file loads");
        assert_eq!((again.torn, &again_records), (None, &records));
    } else {
        assert_eq!(decoded.load.bytes, file.len() as u64);
    }

    // Re-encoded records load back the same.
    let encoded = encode(&records);
    let (again, again_records) = load(&encoded, false).expect("re-encoded records load");
    assert_eq!((again.torn, &again_records), (None, &records));

    // One flipped byte is refused, or what loads is a prefix of what was there.
    let at = usize::from(flip_at) * encoded.len() / 256;
    let mut damaged = encoded;
    damaged[at] ^= flip_mask.max(1);
    if let Ok((_, damaged_records)) = load(&damaged, true) {
        assert!(records.starts_with(&damaged_records), "a flip at {at} changed a record");
    }
});
