//! A linearizability checker for histories of single-key commands (SET, GET, INCR, DEL, LPUSH,
//! LPOP), in the style of Porcupine (Anish Athalye's Go checker).
//!
//! # What is checked
//!
//! A history is a set of [`Event`]s: one client's call, with the instant just before the request
//! left and the instant just after its reply arrived, and the reply. The history is
//! linearizable if there is a total order of all calls that (a) respects real time: a call that
//! returned before another was invoked comes first, and (b) replayed one by one through the
//! sequential model ([`step`]) produces exactly the replies observed.
//!
//! # Partitioning by key (P-compositionality)
//!
//! Every operation touches one key, and the model of one key does not depend on any other, so
//! linearizability is *local* (Herlihy & Wing, 1990): the whole history is linearizable if and
//! only if each key's sub-history is. The checker splits the history by key and searches each
//! part on its own, which turns one search exponential in the total concurrency into several
//! small ones.
//!
//! # The search (Wing & Gong, with Lowe's memoization)
//!
//! Each call contributes a *call* entry (at its invocation instant) and a *return* entry (at its
//! response instant) to a list sorted by time; on equal instants the call goes first, which
//! treats the two operations as concurrent and so can only make the checker more permissive,
//! never report a false violation. The search walks the list from the head:
//!
//! - At a call entry, it tries to linearize that call next: if the model's reply in the current
//!   state equals the observed one, it pushes (call, state) on a stack, moves to the model's next
//!   state, unlinks the call and its return from the list ("lifts" them) and starts again at the
//!   head. Otherwise it moves on to the next entry.
//! - At a return entry, the call it belongs to has not been linearized, and every call after
//!   this point was invoked after that return, so none of them may be linearized before it: this
//!   branch is dead. It pops the last linearized call, restores its state, relinks it and tries
//!   the entry after it.
//!
//! So the candidates for "next" are exactly the calls before the first remaining return: the
//! minimal calls of the real-time order. The search is exhaustive over real-time-respecting
//! orders; it succeeds when the list is empty and fails when it would backtrack past the start.
//!
//! Lowe's memoization: the rest of a search depends only on *which* calls are linearized (a
//! bitset) and the model state, not on the order that got there. The checker keeps every
//! (bitset, state) pair it has reached and never enters a pair twice; a pair seen before either
//! succeeded (then the search had already ended) or led only to dead ends. This keeps histories
//! with a handful of concurrent clients polynomial in practice.
//!
//! # Bounds
//!
//! The search of one key stops after `step_limit` steps and the key's verdict is then
//! [`Verdict::Unknown`], which is not the same as a violation: it says the checker could not
//! decide. Tests size their histories so that it never happens and treat it as a failure.
//!
//! # The model
//!
//! A key is absent, a string (bytes) or a list. Replies include the errors a mixed-type workload
//! draws (WRONGTYPE, "value is not an integer", overflow), so a history that mixes types on one
//! key is legal and fully modeled. TTLs are not modeled: tests give checked keys either no TTL or
//! one far longer than the test.
//!
//! # Why not a crate
//!
//! The maintained Rust option, stateright's `LinearizabilityTester`, orders events by the order
//! its (shared, `&mut`) recorder saw them rather than by per-client instants, so recording from
//! several threads would need a lock around every call, which serializes the very concurrency
//! under test; and its search recurses over interleavings without memoization or partitioning,
//! which is exponential on histories of a thousand calls. It also brings a model checker in.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::time::Instant;

/// One command on the event's key, with its arguments.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Op {
    /// `SET key value`.
    Set(Vec<u8>),
    /// `GET key`.
    Get,
    /// `INCR key`.
    Incr,
    /// `DEL key`.
    Del,
    /// `LPUSH key element`.
    LPush(Vec<u8>),
    /// `LPOP key`.
    LPop,
}

/// A reply, reduced to what the model can produce.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Reply {
    /// `+OK`.
    Ok,
    /// A null bulk (missing key, empty list).
    Nil,
    /// An integer reply.
    Int(i64),
    /// A bulk string.
    Bulk(Vec<u8>),
    /// `-WRONGTYPE ...`.
    WrongType,
    /// `-ERR value is not an integer or out of range`.
    NotInteger,
    /// `-ERR increment or decrement would overflow`.
    Overflow,
    /// Anything else (an unexpected error text, another frame type). The model never produces
    /// it, so a history holding one is never linearizable.
    Other(String),
}

/// One completed call of one client.
#[derive(Debug, Clone)]
pub struct Event {
    /// Which client made the call (for reports; the search does not need it).
    pub client_id: usize,
    /// The key the command touches.
    pub key: Vec<u8>,
    /// The command.
    pub op: Op,
    /// Taken just before the request was sent.
    pub invoked_at: Instant,
    /// Taken just after the reply was received.
    pub returned_at: Instant,
    /// The reply.
    pub reply: Reply,
}

/// The model of one key. A list keeps its head (LPUSH/LPOP's end) last, so both are O(1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    /// No such key.
    Absent,
    /// A string.
    Str(Vec<u8>),
    /// A non-empty list, head last.
    List(Vec<Vec<u8>>),
}

/// Parses a string the way Redis's `string2ll` does for INCR: a canonical decimal `i64` only
/// (no sign `+`, no leading zeros, no spaces, no `-0`), which is exactly "prints back the same".
fn redis_i64(bytes: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(bytes).ok()?;
    let value: i64 = text.parse().ok()?;
    (value.to_string() == text).then_some(value)
}

/// The sequential specification: what `op` replies in `state`, and the state after it.
pub fn step(state: &Value, op: &Op) -> (Value, Reply) {
    match (op, state) {
        (Op::Set(value), _) => (Value::Str(value.clone()), Reply::Ok),
        (Op::Get, Value::Absent) => (Value::Absent, Reply::Nil),
        (Op::Get, Value::Str(value)) => (state.clone(), Reply::Bulk(value.clone())),
        (Op::Incr, Value::Absent) => (Value::Str(b"1".to_vec()), Reply::Int(1)),
        (Op::Incr, Value::Str(value)) => match redis_i64(value) {
            None => (state.clone(), Reply::NotInteger),
            Some(current) => match current.checked_add(1) {
                None => (state.clone(), Reply::Overflow),
                Some(next) => (Value::Str(next.to_string().into_bytes()), Reply::Int(next)),
            },
        },
        (Op::Del, Value::Absent) => (Value::Absent, Reply::Int(0)),
        (Op::Del, _) => (Value::Absent, Reply::Int(1)),
        (Op::LPush(element), Value::Absent) => (Value::List(vec![element.clone()]), Reply::Int(1)),
        (Op::LPush(element), Value::List(list)) => {
            let mut list = list.clone();
            list.push(element.clone());
            let length = list.len() as i64;
            (Value::List(list), Reply::Int(length))
        }
        (Op::LPop, Value::Absent) => (Value::Absent, Reply::Nil),
        (Op::LPop, Value::List(list)) => {
            let mut list = list.clone();
            let head = list.pop().expect("the model keeps no empty list");
            let next = if list.is_empty() { Value::Absent } else { Value::List(list) };
            (next, Reply::Bulk(head))
        }
        (Op::Get | Op::Incr, Value::List(_)) | (Op::LPush(_) | Op::LPop, Value::Str(_)) => {
            (state.clone(), Reply::WrongType)
        }
    }
}

/// The outcome of a check.
#[derive(Debug)]
pub enum Verdict {
    /// Every key's sub-history has a linearization.
    Linearizable,
    /// Some key's sub-history has none (the first such key found).
    NotLinearizable(Violation),
    /// No violation was found, but the search of `key` hit the step limit.
    Unknown {
        /// The key whose search was cut short.
        key: Vec<u8>,
        /// The limit it hit.
        step_limit: u64,
    },
}

/// A key whose sub-history is not linearizable, with what the search got furthest with.
#[derive(Debug)]
pub struct Violation {
    /// The key.
    pub key: Vec<u8>,
    /// The key's events, in invocation order.
    pub events: Vec<Event>,
    /// The longest prefix the search could linearize, as indices into `events`.
    pub longest_prefix: Vec<usize>,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Linearizable => write!(f, "linearizable"),
            Verdict::Unknown { key, step_limit } => write!(
                f,
                "unknown: the search of key {:?} hit the step limit ({step_limit})",
                String::from_utf8_lossy(key)
            ),
            Verdict::NotLinearizable(violation) => write!(f, "{violation}"),
        }
    }
}

/// Events shown on each side of the first call the search could not place, in a report.
const REPORT_CONTEXT_EVENTS: usize = 25;

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = String::from_utf8_lossy(&self.key);
        writeln!(f, "not linearizable: key {key:?}, {} events", self.events.len())?;
        let Some(origin) = self.events.iter().map(|event| event.invoked_at).min() else {
            return Ok(());
        };
        let prefix: HashSet<usize> = self.longest_prefix.iter().copied().collect();
        let stuck = (0..self.events.len()).find(|index| !prefix.contains(index)).unwrap_or(0);
        let shown = stuck.saturating_sub(REPORT_CONTEXT_EVENTS)
            ..(stuck + REPORT_CONTEXT_EVENTS).min(self.events.len());
        writeln!(
            f,
            "the longest linearizable prefix has {} calls; the first call (by invocation) outside \
             it is #{stuck}. Events #{}..#{} (times in µs from the first invocation; * = in that \
             prefix):",
            self.longest_prefix.len(),
            shown.start,
            shown.end,
        )?;
        for index in shown {
            let event = &self.events[index];
            let invoked_us = event.invoked_at.duration_since(origin).as_micros();
            let returned_us = event.returned_at.duration_since(origin).as_micros();
            let mark = if prefix.contains(&index) { '*' } else { ' ' };
            writeln!(
                f,
                "{mark} #{index:<4} client {} [{invoked_us:>8}, {returned_us:>8}] {} -> {}",
                event.client_id,
                show_op(&event.op),
                show_reply(&event.reply)
            )?;
        }
        Ok(())
    }
}

fn show_op(op: &Op) -> String {
    match op {
        Op::Set(value) => format!("SET {}", String::from_utf8_lossy(value)),
        Op::Get => "GET".to_owned(),
        Op::Incr => "INCR".to_owned(),
        Op::Del => "DEL".to_owned(),
        Op::LPush(element) => format!("LPUSH {}", String::from_utf8_lossy(element)),
        Op::LPop => "LPOP".to_owned(),
    }
}

fn show_reply(reply: &Reply) -> String {
    match reply {
        Reply::Bulk(bytes) => format!("{:?}", String::from_utf8_lossy(bytes)),
        other => format!("{other:?}"),
    }
}

/// Checks a whole history, key by key; each key's search is bounded by `step_limit` steps.
/// A violation on any key wins over "unknown" on another.
pub fn check(history: &[Event], step_limit: u64) -> Verdict {
    let mut by_key: BTreeMap<&[u8], Vec<Event>> = BTreeMap::new();
    for event in history {
        assert!(event.invoked_at <= event.returned_at, "an event returned before it was invoked");
        by_key.entry(&event.key).or_default().push(event.clone());
    }
    let mut unknown = None;
    for (key, mut events) in by_key {
        events.sort_by_key(|event| event.invoked_at);
        match check_key(&events, step_limit) {
            KeyVerdict::Linearizable => {}
            KeyVerdict::Unknown => {
                unknown.get_or_insert(Verdict::Unknown { key: key.to_vec(), step_limit });
            }
            KeyVerdict::NotLinearizable { longest_prefix } => {
                return Verdict::NotLinearizable(Violation {
                    key: key.to_vec(),
                    events,
                    longest_prefix,
                });
            }
        }
    }
    unknown.unwrap_or(Verdict::Linearizable)
}

enum KeyVerdict {
    Linearizable,
    NotLinearizable { longest_prefix: Vec<usize> },
    Unknown,
}

/// A set of call indices, compact so that memoizing it per search state is cheap.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Bitset(Vec<u64>);

impl Bitset {
    fn new(bits: usize) -> Bitset {
        Bitset(vec![0; bits.div_ceil(64)])
    }
    fn set(&mut self, bit: usize) {
        self.0[bit / 64] |= 1 << (bit % 64);
    }
    fn clear(&mut self, bit: usize) {
        self.0[bit / 64] &= !(1 << (bit % 64));
    }
}

/// "No entry": the end of the list.
const NIL: usize = usize::MAX;

/// The time-ordered entry list as a doubly linked list over indices (dancing links): node 0 is
/// the head sentinel, and lifting a call (and its return) out is undone in O(1) on backtrack.
struct EntryList {
    next: Vec<usize>,
    prev: Vec<usize>,
    /// Per node: the event index it belongs to (unused for the sentinel).
    event: Vec<usize>,
    /// Per node: for a call, its return node; NIL for a return (and the sentinel).
    return_node: Vec<usize>,
}

impl EntryList {
    fn new(events: &[Event]) -> EntryList {
        // (instant, 0 = call / 1 = return, event): calls sort before returns at equal instants.
        let mut entries: Vec<(Instant, u8, usize)> = Vec::with_capacity(events.len() * 2);
        for (index, event) in events.iter().enumerate() {
            entries.push((event.invoked_at, 0, index));
            entries.push((event.returned_at, 1, index));
        }
        entries.sort();
        let nodes = entries.len() + 1;
        let mut list = EntryList {
            next: (1..=nodes).map(|next| if next == nodes { NIL } else { next }).collect(),
            prev: (0..nodes).map(|node| node.wrapping_sub(1)).collect(),
            event: vec![NIL; nodes],
            return_node: vec![NIL; nodes],
        };
        list.prev[0] = NIL;
        let mut call_node = vec![NIL; events.len()];
        for (position, &(_, kind, index)) in entries.iter().enumerate() {
            let node = position + 1;
            list.event[node] = index;
            if kind == 0 {
                call_node[index] = node;
            } else {
                list.return_node[call_node[index]] = node;
            }
        }
        list
    }

    fn is_call(&self, node: usize) -> bool {
        self.return_node[node] != NIL
    }

    /// Unlinks a call and its return.
    fn lift(&mut self, call: usize) {
        let (before, after) = (self.prev[call], self.next[call]);
        self.next[before] = after;
        self.prev[after] = before; // a call always has its return after it
        let ret = self.return_node[call];
        let (before, after) = (self.prev[ret], self.next[ret]);
        self.next[before] = after;
        if after != NIL {
            self.prev[after] = before;
        }
    }

    /// Relinks what [`lift`](Self::lift) unlinked; calls are unlifted in the reverse order of
    /// lifting, so their neighbours are the ones they had.
    fn unlift(&mut self, call: usize) {
        let ret = self.return_node[call];
        self.next[self.prev[ret]] = ret;
        if self.next[ret] != NIL {
            self.prev[self.next[ret]] = ret;
        }
        self.next[self.prev[call]] = call;
        self.prev[self.next[call]] = call;
    }
}

/// Wing & Gong's search with Lowe's memoization over one key's events (see the module docs).
fn check_key(events: &[Event], step_limit: u64) -> KeyVerdict {
    let mut list = EntryList::new(events);
    let mut state = Value::Absent;
    let mut linearized = Bitset::new(events.len());
    let mut seen: HashSet<(Bitset, Value)> = HashSet::new();
    // The calls linearized so far, with the state before each.
    let mut stack: Vec<(usize, Value)> = Vec::new();
    let mut longest_prefix: Vec<usize> = Vec::new();
    let mut node = list.next[0];
    let mut steps = 0u64;
    while list.next[0] != NIL {
        steps += 1;
        if steps > step_limit {
            return KeyVerdict::Unknown;
        }
        if list.is_call(node) {
            let event = &events[list.event[node]];
            let (next_state, reply) = step(&state, &event.op);
            if reply == event.reply {
                let mut next_linearized = linearized.clone();
                next_linearized.set(list.event[node]);
                if seen.insert((next_linearized.clone(), next_state.clone())) {
                    stack.push((node, std::mem::replace(&mut state, next_state)));
                    linearized = next_linearized;
                    if stack.len() > longest_prefix.len() {
                        longest_prefix = stack.iter().map(|&(call, _)| list.event[call]).collect();
                    }
                    list.lift(node);
                    node = list.next[0];
                    continue;
                }
            }
            node = list.next[node];
        } else {
            let Some((call, previous)) = stack.pop() else {
                return KeyVerdict::NotLinearizable { longest_prefix };
            };
            state = previous;
            linearized.clear(list.event[call]);
            list.unlift(call);
            node = list.next[call];
        }
    }
    KeyVerdict::Linearizable
}
