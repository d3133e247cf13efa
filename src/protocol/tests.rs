//! Byte-exact tests of the protocol layer: requests split at every offset, pipelines, inline
//! quoting, every error text, the limits, frames of every type, and property tests.
//!
//! Expected error texts and quirks were checked against Debian's redis-server 7.0.15 with raw
//! bytes over a socket.

use proptest::prelude::*;

use super::*;

type Command = Vec<Vec<u8>>;

/// What a parser made of a whole input: the commands, then an error or nothing (waiting).
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    commands: Vec<Command>,
    error: Option<ProtocolError>,
    /// Bytes left unconsumed at the end.
    pending: usize,
}

fn parse_whole(limits: ParserLimits, input: &[u8]) -> Outcome {
    parse_chunked(limits, input, &[input.len()])
}

/// Feeds `input` in chunks of the given sizes (then the rest), parsing after each, as a
/// connection does with its reads.
fn parse_chunked(limits: ParserLimits, input: &[u8], chunks: &[usize]) -> Outcome {
    let mut parser = RequestParser::new(limits);
    let (mut buffer, mut commands, mut fed) = (Vec::new(), Vec::new(), 0);
    let mut sizes = chunks.iter().copied().chain(std::iter::repeat(usize::MAX));
    while fed < input.len() || buffer.is_empty() {
        let size = sizes.next().unwrap_or(usize::MAX).min(input.len() - fed);
        buffer.extend_from_slice(&input[fed..fed + size]);
        fed += size;
        loop {
            match parser.parse(&buffer) {
                Ok(Some((request, used))) => {
                    assert!(!request.is_empty());
                    commands.push(request.to_vec());
                    buffer.drain(..used);
                }
                Ok(None) => break,
                Err(error) => {
                    assert_eq!(parser.parse(&buffer).err(), Some(error), "the parser stays failed");
                    let pending = buffer.len() + input.len() - fed;
                    return Outcome { commands, error: Some(error), pending };
                }
            }
        }
        if fed == input.len() {
            break;
        }
    }
    Outcome { commands, error: None, pending: buffer.len() }
}

fn cmd(args: &[&str]) -> Command {
    args.iter().map(|arg| arg.as_bytes().to_vec()).collect()
}

fn parsed(input: &[u8]) -> Outcome {
    parse_whole(ParserLimits::default(), input)
}

fn reply(error: ProtocolError) -> Vec<u8> {
    let mut out = Vec::new();
    error.write_reply(&mut out);
    out
}

/// Parses `input` whole and split at every offset (in two chunks, and a byte at a time) and
/// checks all give the same outcome; returns it.
fn parsed_every_split(input: &[u8]) -> Outcome {
    let whole = parsed(input);
    for cut in 0..=input.len() {
        assert_eq!(parse_chunked(ParserLimits::default(), input, &[cut]), whole, "cut at {cut}");
    }
    let ones = vec![1; input.len()];
    assert_eq!(parse_chunked(ParserLimits::default(), input, &ones), whole, "byte at a time");
    whole
}

#[test]
fn multibulk_and_pipeline() {
    let mut input = Vec::new();
    write_command(&mut input, &["SET", "key:000123", "value\r\nwith crlf"]);
    write_command(&mut input, &["GET", "key:000123"]);
    write_command(&mut input, &[""]);
    input.extend_from_slice(b"PING\r\n");
    let outcome = parsed_every_split(&input);
    assert_eq!(
        outcome.commands,
        vec![
            cmd(&["SET", "key:000123", "value\r\nwith crlf"]),
            cmd(&["GET", "key:000123"]),
            cmd(&[""]),
            cmd(&["PING"]),
        ]
    );
    assert_eq!((outcome.error, outcome.pending), (None, 0));
}

#[test]
fn consumed_lengths_and_zero_copy() {
    let input = b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*0\r\n*-1\r\n\r\n  \r\nPING\r\n";
    let mut parser = RequestParser::default();
    let (request, used) = parser.parse(input).unwrap().unwrap();
    assert_eq!(used, 20);
    assert!(!request.is_inline());
    let name = request.name();
    // The argument is a slice of the input itself.
    assert_eq!(name.as_ptr(), input[8..].as_ptr());
    // Empty multibulks and blank lines are skipped; their bytes count towards the next request.
    let (request, used) = parser.parse(&input[20..]).unwrap().unwrap();
    assert!(request.is_inline());
    assert_eq!((request.to_vec(), used), (cmd(&["PING"]), input.len() - 20));
    assert!(parser.parse(b"").unwrap().is_none());
}

#[test]
fn many_pipelined_commands() {
    let mut input = Vec::new();
    let mut expected = Vec::new();
    for i in 0..1000 {
        let args = ["SET".to_string(), format!("key:{i:06}"), "x".repeat(i % 70)];
        write_command(&mut input, &args);
        expected.push(args.iter().map(|a| a.as_bytes().to_vec()).collect::<Command>());
    }
    let outcome = parsed(&input);
    assert_eq!(outcome.commands, expected);
    let chunks: Vec<usize> = (0..input.len()).map(|i| 1 + i * 7 % 61).collect();
    assert_eq!(parse_chunked(ParserLimits::default(), &input, &chunks), outcome);
}

#[test]
fn inline_commands() {
    let outcome = parsed_every_split(
        b"set k \"v 1\"\r\nget k\nECHO \"\\x41\\x4g\\n\"\r\necho 'a\\'b'\r\necho \x0bx\x0by\r\n\
          ECHO a\rb\r\nPING\r\r\n$1\r\n",
    );
    assert_eq!(
        outcome.commands,
        vec![
            cmd(&["set", "k", "v 1"]),
            cmd(&["get", "k"]),
            cmd(&["ECHO", "Ax4g\n"]),
            cmd(&["echo", "a'b"]),
            cmd(&["echo", "x\x0by"]),
            cmd(&["ECHO", "a", "b"]),
            cmd(&["PING"]),
            cmd(&["$1"]),
        ]
    );
    assert_eq!(outcome.error, None);
}

#[test]
fn error_texts_match_redis() {
    let cases: [(&[u8], &[u8]); 12] = [
        (b"*3000000000\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
        (b"*2147483648\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
        (b"*-0\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
        (b"*01\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
        (b"* 1\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
        (b"*1\r\n$-1\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
        (b"*1\r\n$536870913\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
        (b"*1\r\nx\r\n", b"-ERR Protocol error: expected '$', got 'x'\r\n"),
        (b"*1\r\n\xff\r\n", b"-ERR Protocol error: expected '$', got '\xff'\r\n"),
        (b"*1\r\n\r\n", b"-ERR Protocol error: expected '$', got ' '\r\n"),
        (b"ping \"a\r\n", b"-ERR Protocol error: unbalanced quotes in request\r\n"),
        (b"echo a\"b c\"d\r\n", b"-ERR Protocol error: unbalanced quotes in request\r\n"),
    ];
    for (input, expected) in cases {
        let outcome = parsed_every_split(input);
        let error = outcome.error.unwrap_or_else(|| panic!("{}", input.escape_ascii()));
        assert_eq!(reply(error).escape_ascii().to_string(), expected.escape_ascii().to_string());
    }
    assert_eq!(
        ProtocolError::ExpectedDollar(0xff).to_string(),
        "ERR Protocol error: expected '$', got '\\xff'"
    );
}

#[test]
fn commands_before_an_error_are_returned() {
    let outcome = parsed(b"PING\r\n*1\r\n$4\r\nPING\r\n*1\r\nx\r\nPING\r\n");
    assert_eq!(outcome.commands, vec![cmd(&["PING"]), cmd(&["PING"])]);
    assert_eq!(outcome.error, Some(ProtocolError::ExpectedDollar(b'x')));
}

#[test]
fn redis_quirks() {
    // The two bytes after a payload, and the one after a header's `\r`, are not checked.
    let outcome = parsed_every_split(b"*1\r\n$4\r\nPINGxx*1\rX$4\r\nPING\r\n");
    assert_eq!(outcome.commands, vec![cmd(&["PING"]), cmd(&["PING"])]);
    // Counts <= 0 are skipped.
    let outcome = parsed_every_split(b"*0\r\n*-5\r\n*1\r\n$4\r\nPING\r\n");
    assert_eq!(outcome.commands, vec![cmd(&["PING"])]);
    // A NUL hides the line terminator, as with Redis's strchr: the request never completes.
    for input in [&b"PI\x00NG\r\nPING\r\n"[..], b"*1\x00\r\n", b"*1\r\n$\x004\r\nPING\r\n"] {
        let outcome = parsed_every_split(input);
        assert_eq!((outcome.commands.len(), outcome.error), (0, None));
    }
    // ... until more than a line's worth is buffered.
    let mut input = b"PI\x00NG\r\n".to_vec();
    input.resize(PROTO_INLINE_MAX_SIZE + 1, b'x');
    assert_eq!(parsed(&input).error, Some(ProtocolError::TooBigInlineRequest));
}

#[test]
fn limits() {
    let defaults = ParserLimits::default();
    assert_eq!(defaults.proto_max_bulk_len, 512 * 1024 * 1024);
    assert_eq!(defaults.max_multibulk_len, i32::MAX as u64);
    assert_eq!(defaults.max_inline_len, 64 * 1024);

    // A 4 GB bulk is refused at its header, before any payload, and reserves nothing.
    let mut parser = RequestParser::default();
    let error = parser.parse(b"*1\r\n$4294967296\r\n").err();
    assert_eq!(error, Some(ProtocolError::InvalidBulkLength));
    // The largest count Redis allows is accepted and reserves a bounded number of slots.
    let mut parser = RequestParser::default();
    assert!(parser.parse(b"*2147483647\r\n$1\r\n").unwrap().is_none());
    assert!(parser.reserved_args() <= ARGS_RESERVE_MAX);

    let small = ParserLimits { proto_max_bulk_len: 4, max_multibulk_len: 2, max_inline_len: 8 };
    let at = |input: &[u8]| parse_whole(small, input);
    assert_eq!(at(b"*1\r\n$4\r\nPING\r\n").commands, vec![cmd(&["PING"])]);
    assert_eq!(at(b"*1\r\n$5\r\nPINGS\r\n").error, Some(ProtocolError::InvalidBulkLength));
    assert_eq!(at(b"*3\r\n").error, Some(ProtocolError::InvalidMultibulkLength));
    // The line's length counts a `\r` before the `\n` (else a `\r` arriving alone could
    // break the limit that its `\n` would then honour).
    assert_eq!(at(b"12345678\n").commands, vec![cmd(&["12345678"])]);
    assert_eq!(at(b"1234567\r\n").commands, vec![cmd(&["1234567"])]);
    assert_eq!(at(b"12345678\r\n").error, Some(ProtocolError::TooBigInlineRequest));
    assert_eq!(at(b"123456789\r\n").error, Some(ProtocolError::TooBigInlineRequest));
    assert_eq!(at(b"123456789").error, Some(ProtocolError::TooBigInlineRequest));
    assert_eq!(at(b"12345678").error, None);
    assert_eq!(at(b"*1234567").error, None);
    assert_eq!(at(b"*12345678").error, Some(ProtocolError::TooBigMultibulkCount));
    assert_eq!(at(b"*1234567\r\n").error, Some(ProtocolError::InvalidMultibulkLength));
    assert_eq!(at(b"*1\r\n$1234567").error, None);
    assert_eq!(at(b"*1\r\n$12345678").error, Some(ProtocolError::TooBigBulkCount));
    assert_eq!(at(b"*1\r\n$12345678\r\n").error, Some(ProtocolError::TooBigBulkCount));

    // Inline over 64 KB with the default limits, with or without its newline.
    let mut long = vec![b'a'; PROTO_INLINE_MAX_SIZE + 1];
    assert_eq!(parsed(&long).error, Some(ProtocolError::TooBigInlineRequest));
    long.extend_from_slice(b"\r\n");
    assert_eq!(parsed(&long).error, Some(ProtocolError::TooBigInlineRequest));
    let mut fits = vec![b'a'; PROTO_INLINE_MAX_SIZE - 1];
    fits.extend_from_slice(b"\r\n");
    assert_eq!(parsed(&fits).commands.len(), 1);
}

#[test]
fn unauthenticated_limits() {
    let mut parser = RequestParser::default();
    parser.set_auth_required(true);
    assert_eq!(parser.parse(b"*11\r\n").err(), Some(ProtocolError::UnauthenticatedMultibulkLength));
    let mut parser = RequestParser::default();
    parser.set_auth_required(true);
    assert!(parser.parse(b"*10\r\n$16384\r\n").unwrap().is_none());
    assert_eq!(parser.needed_len(), Some(13 + 16384 + 2));
    let mut parser = RequestParser::default();
    parser.set_auth_required(true);
    let error = parser.parse(b"*1\r\n$16385\r\n").err().unwrap();
    assert_eq!(reply(error), b"-ERR Protocol error: unauthenticated bulk length\r\n");
    parser.reset();
    parser.set_auth_required(false);
    assert_eq!(parser.parse(b"*1\r\n$1\r\nx\r\n").unwrap().unwrap().0.to_vec(), cmd(&["x"]));
}

#[test]
fn contract_violation_restarts() {
    let mut parser = RequestParser::default();
    assert!(parser.parse(b"*2\r\n$3\r\nGET\r\n").unwrap().is_none());
    // A shorter buffer than already parsed: start over rather than panic.
    let (request, used) = parser.parse(b"PING\r\n").unwrap().unwrap();
    assert_eq!((request.to_vec(), used), (cmd(&["PING"]), 6));
}

fn all_frames() -> Vec<Frame> {
    vec![
        Frame::simple("OK"),
        Frame::error("ERR wrong number of arguments for 'get' command"),
        Frame::Integer(0),
        Frame::Integer(i64::MIN),
        Frame::bulk(""),
        Frame::bulk("a\r\nb"),
        Frame::NullBulk,
        Frame::NullArray,
        Frame::Null,
        Frame::Array(vec![]),
        Frame::Array(vec![Frame::Integer(1), Frame::Array(vec![Frame::bulk("x")])]),
        Frame::Map(vec![(Frame::bulk("k"), Frame::Double(b"1.5".to_vec()))]),
        Frame::Set(vec![Frame::bulk("m")]),
        Frame::Push(vec![Frame::bulk("message"), Frame::bulk("ch"), Frame::bulk("hi")]),
        Frame::Double(b"-inf".to_vec()),
        Frame::Boolean(true),
        Frame::Boolean(false),
        Frame::Verbatim { format: *b"txt", text: b"some\r\ntext".to_vec() },
        Frame::BigNumber(b"3492890328409238509324850943850943825024385".to_vec()),
        Frame::BulkError(b"SYNTAX invalid\r\nsyntax".to_vec()),
    ]
}

#[test]
fn frames_round_trip_at_every_split() {
    for frame in all_frames() {
        let bytes = frame.to_bytes();
        assert_eq!(Frame::decode(&bytes), Ok(Some((frame.clone(), bytes.len()))));
        for cut in 0..bytes.len() {
            assert_eq!(Frame::decode(&bytes[..cut]), Ok(None), "{frame:?} cut at {cut}");
        }
    }
    let mut all = Vec::new();
    all_frames().iter().for_each(|frame| frame.encode(&mut all));
    assert_eq!(Frame::decode_all(&all), Ok(all_frames()));
}

#[test]
fn frames_match_the_encoder() {
    let mut out = Vec::new();
    let mut encoder = Encoder::new(&mut out, Protocol::Resp3);
    encoder.map(1);
    encoder.bulk(b"k");
    encoder.set(2);
    encoder.integer(7);
    encoder.null();
    encoder.push(1);
    encoder.verbatim(*b"txt", b"v");
    let expected = [
        Frame::Map(vec![(Frame::bulk("k"), Frame::Set(vec![Frame::Integer(7), Frame::Null]))]),
        Frame::Push(vec![Frame::Verbatim { format: *b"txt", text: b"v".to_vec() }]),
    ];
    assert_eq!(Frame::decode_all(&out), Ok(expected.to_vec()));
    let mut out = Vec::new();
    let mut encoder = Encoder::new(&mut out, Protocol::Resp2);
    encoder.map(1);
    encoder.bulk(b"k");
    encoder.double(b"2.5");
    encoder.null();
    encoder.null_array();
    assert_eq!(
        Frame::decode_all(&out),
        Ok(vec![
            Frame::Array(vec![Frame::bulk("k"), Frame::bulk("2.5")]),
            Frame::NullBulk,
            Frame::NullArray,
        ])
    );
}

#[test]
fn bad_frames() {
    let cases: [(&[u8], DecodeError); 9] = [
        (b"?x\r\n", DecodeError::UnknownType(b'?')),
        (b"$-2\r\n", DecodeError::InvalidLength),
        (b"~-1\r\n", DecodeError::InvalidLength),
        (b"$1\r\nab\r\n", DecodeError::MissingCrlf),
        (b"+a\rb\r\n", DecodeError::MissingCrlf),
        (b":1.5\r\n", DecodeError::InvalidInteger),
        (b"#x\r\n", DecodeError::InvalidBoolean),
        (b"=2\r\nab\r\n", DecodeError::InvalidVerbatim),
        (b"_x\r\n", DecodeError::MissingCrlf),
    ];
    for (input, expected) in cases {
        assert_eq!(Frame::decode(input), Err(expected), "{}", input.escape_ascii());
    }
    let deep = b"*1\r\n".repeat(MAX_NESTING_FOR_TEST + 1);
    assert_eq!(Frame::decode(&deep), Err(DecodeError::TooDeep));
    // A huge declared count or length allocates nothing up front.
    assert_eq!(Frame::decode(b"*9223372036854775807\r\n:1\r\n"), Ok(None));
    assert_eq!(Frame::decode(b"%9223372036854775807\r\n"), Ok(None));
    assert_eq!(Frame::decode(b"$9223372036854775807\r\nabc"), Ok(None));
}

const MAX_NESTING_FOR_TEST: usize = frame::MAX_NESTING;

fn arb_frame() -> impl Strategy<Value = Frame> {
    let line = proptest::collection::vec(any::<u8>().prop_filter("no CR", |b| *b != b'\r'), 0..12);
    let blob = proptest::collection::vec(any::<u8>(), 0..24);
    let leaf = prop_oneof![
        line.clone().prop_map(Frame::Simple),
        line.clone().prop_map(Frame::Error),
        any::<i64>().prop_map(Frame::Integer),
        blob.clone().prop_map(Frame::Bulk),
        Just(Frame::NullBulk),
        Just(Frame::NullArray),
        Just(Frame::Null),
        line.clone().prop_map(Frame::Double),
        any::<bool>().prop_map(Frame::Boolean),
        (any::<[u8; 3]>(), blob.clone())
            .prop_map(|(format, text)| Frame::Verbatim { format, text }),
        line.prop_map(Frame::BigNumber),
        blob.prop_map(Frame::BulkError),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let items = proptest::collection::vec(inner.clone(), 0..6);
        prop_oneof![
            items.clone().prop_map(Frame::Array),
            items.clone().prop_map(Frame::Set),
            items.prop_map(Frame::Push),
            proptest::collection::vec((inner.clone(), inner), 0..4).prop_map(Frame::Map),
        ]
    })
}

fn arb_commands() -> impl Strategy<Value = Vec<Command>> {
    let arg = proptest::collection::vec(any::<u8>(), 0..40);
    proptest::collection::vec(proptest::collection::vec(arg, 1..6), 1..12)
}

/// Input biased towards RESP syntax, so arbitrary bytes reach deep parser states.
fn arb_resp_bytes() -> impl Strategy<Value = Vec<u8>> {
    let token = prop_oneof![
        Just(b"*".to_vec()),
        Just(b"$".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\"".to_vec()),
        Just(b"'".to_vec()),
        Just(b"\\x4".to_vec()),
        Just(b"\\".to_vec()),
        Just(b" ".to_vec()),
        Just(b"\0".to_vec()),
        Just(b"-1".to_vec()),
        (0u32..20).prop_map(|n| n.to_string().into_bytes()),
        proptest::collection::vec(any::<u8>(), 1..4),
    ];
    proptest::collection::vec(token, 0..40).prop_map(|tokens| tokens.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn commands_encode_then_parse_identically(
        commands in arb_commands(),
        chunks in proptest::collection::vec(1usize..64, 0..64),
    ) {
        let mut input = Vec::new();
        for command in &commands {
            write_command(&mut input, command);
        }
        let whole = parsed(&input);
        prop_assert_eq!(&whole.commands, &commands);
        prop_assert_eq!((whole.error, whole.pending), (None, 0));
        prop_assert_eq!(parse_chunked(ParserLimits::default(), &input, &chunks), whole);
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_split_reads_agree(
        input in prop_oneof![proptest::collection::vec(any::<u8>(), 0..200), arb_resp_bytes()],
        chunks in proptest::collection::vec(1usize..16, 0..64),
        inline_limit in prop_oneof![Just(PROTO_INLINE_MAX_SIZE), 1usize..16],
    ) {
        let limits = ParserLimits { max_inline_len: inline_limit, ..ParserLimits::default() };
        let whole = parse_whole(limits, &input);
        prop_assert_eq!(parse_chunked(limits, &input, &chunks), whole);
        let _ = Frame::decode(&input);
    }

    #[test]
    fn frames_round_trip(frame in arb_frame()) {
        let bytes = frame.to_bytes();
        prop_assert_eq!(Frame::decode(&bytes), Ok(Some((frame, bytes.len()))));
    }
}

#[test]
fn terminator_search_across_the_short_scan_boundary() {
    for len in 10..40 {
        let name = "A".repeat(len);
        let outcome = parsed_every_split(format!("{name}\r\n").as_bytes());
        assert_eq!(outcome.commands, vec![cmd(&[&name])]);
        let mut input = format!("*1\r\n${len}\r\n{name}\r\n").into_bytes();
        assert_eq!(parsed(&input).commands, vec![cmd(&[&name])]);
        // A NUL at any point of a long header line hides its terminator.
        input = format!("*1{}\r\n", "1".repeat(len)).into_bytes();
        input.insert(len / 2 + 1, 0);
        assert_eq!(parsed(&input), Outcome { commands: vec![], error: None, pending: input.len() });
    }
}
