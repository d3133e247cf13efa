//! Arbitrary bytes into the request parser and the reply decoder.
//!
//! Checks: nothing panics; feeding the bytes in arbitrary chunks (as reads split them) gives
//! the same requests and the same error as feeding them whole; a decoded reply re-encodes to
//! a frame that decodes identically, and every prefix of it is "incomplete", not an error.
//!
//! Input layout: byte 0 seeds the chunk sizes, byte 1 picks tiny limits (to reach the "too
//! big" paths), the rest is the stream.
#![no_main]

use corekv::protocol::{Frame, ParserLimits, ProtocolError, RequestParser};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    commands: Vec<Vec<Vec<u8>>>,
    error: Option<ProtocolError>,
    pending: usize,
}

/// Feeds `input` in chunks (sizes from `next_size`), parsing after each, as a server does.
fn run(limits: ParserLimits, input: &[u8], mut next_size: impl FnMut() -> usize) -> Outcome {
    let mut parser = RequestParser::new(limits);
    let (mut buffer, mut commands, mut fed) = (Vec::new(), Vec::new(), 0);
    loop {
        let size = next_size().min(input.len() - fed);
        buffer.extend_from_slice(&input[fed..fed + size]);
        fed += size;
        loop {
            match parser.parse(&buffer) {
                Ok(Some((request, used))) => {
                    assert!(!request.is_empty() && used > 0 && used <= buffer.len());
                    commands.push(request.to_vec());
                    buffer.drain(..used);
                }
                Ok(None) => break,
                Err(error) => {
                    assert_eq!(parser.parse(&buffer).err(), Some(error));
                    let pending = buffer.len() + input.len() - fed;
                    return Outcome { commands, error: Some(error), pending };
                }
            }
        }
        if fed == input.len() {
            return Outcome { commands, error: None, pending: buffer.len() };
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let (seed, tiny, input) = match data {
        [seed, tiny, rest @ ..] => (*seed, *tiny & 1 == 1, rest),
        _ => return,
    };
    let limits = if tiny {
        ParserLimits { proto_max_bulk_len: 8, max_multibulk_len: 4, max_inline_len: 8 }
    } else {
        ParserLimits::default()
    };
    let whole = run(limits, input, || usize::MAX);
    let mut state = u32::from(seed) | 1;
    let chunked = run(limits, input, || {
        // xorshift: deterministic, cheap chunk sizes of 1..=16 bytes.
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        (state % 16) as usize + 1
    });
    assert_eq!(whole, chunked);

    if let Ok(Some((frame, used))) = Frame::decode(input) {
        assert!(used <= input.len());
        let bytes = frame.to_bytes();
        assert_eq!(Frame::decode(&bytes), Ok(Some((frame.clone(), bytes.len()))));
        let cut = usize::from(seed) % used;
        assert_eq!(Frame::decode(&input[..cut]), Ok(None));
    }
});
