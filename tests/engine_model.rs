//! Model-based property test: random operation sequences over a few keys, run against the
//! engine and against a plain single-threaded model of Redis's semantics, comparing every
//! reply (including wrong-type errors and empty collections deleting their key) and the final
//! state of every key. Covers every value type and the type transitions between them.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use corekv::engine::Kind;
use corekv::engine::ops::{End, ZRange};
use corekv::engine::types::zset::ZAddFlags;
use corekv::{Db, Engine, Error, prelude::*};
use proptest::prelude::*;

#[derive(Debug, Clone, PartialEq)]
enum Model {
    Str(Vec<u8>),
    List(VecDeque<Vec<u8>>),
    Hash(BTreeMap<Vec<u8>, Vec<u8>>),
    Set(BTreeSet<Vec<u8>>),
    ZSet(BTreeMap<Vec<u8>, i64>),
}

#[derive(Debug, Clone)]
enum Op {
    Set(usize, u8),
    Get(usize),
    Del(usize),
    Incr(usize),
    Append(usize, u8),
    Push(usize, u8, bool),
    Pop(usize, bool),
    SAdd(usize, u8),
    SRem(usize, u8),
    HSet(usize, u8, u8),
    HDel(usize, u8),
    ZAdd(usize, u8, i8),
    ZRem(usize, u8),
    Rename(usize, usize),
    Copy(usize, usize),
    MSet(usize, usize, u8),
    Type(usize),
}

const KEYS: [&[u8]; 4] = [b"k0", b"k1", b"k2", b"k3"];

fn op() -> impl Strategy<Value = Op> {
    let key = 0..KEYS.len();
    let small = 0u8..4;
    prop_oneof![
        (key.clone(), small.clone()).prop_map(|(k, v)| Op::Set(k, v)),
        key.clone().prop_map(Op::Get),
        key.clone().prop_map(Op::Del),
        key.clone().prop_map(Op::Incr),
        (key.clone(), small.clone()).prop_map(|(k, v)| Op::Append(k, v)),
        (key.clone(), small.clone(), any::<bool>()).prop_map(|(k, v, left)| Op::Push(k, v, left)),
        (key.clone(), any::<bool>()).prop_map(|(k, left)| Op::Pop(k, left)),
        (key.clone(), small.clone()).prop_map(|(k, m)| Op::SAdd(k, m)),
        (key.clone(), small.clone()).prop_map(|(k, m)| Op::SRem(k, m)),
        (key.clone(), small.clone(), small.clone()).prop_map(|(k, f, v)| Op::HSet(k, f, v)),
        (key.clone(), small.clone()).prop_map(|(k, f)| Op::HDel(k, f)),
        (key.clone(), small.clone(), -3i8..3).prop_map(|(k, m, s)| Op::ZAdd(k, m, s)),
        (key.clone(), small.clone()).prop_map(|(k, m)| Op::ZRem(k, m)),
        (key.clone(), key.clone()).prop_map(|(a, b)| Op::Rename(a, b)),
        (key.clone(), key.clone()).prop_map(|(a, b)| Op::Copy(a, b)),
        (key.clone(), key.clone(), small).prop_map(|(a, b, v)| Op::MSet(a, b, v)),
        key.prop_map(Op::Type),
    ]
}

fn value(byte: u8) -> Vec<u8> {
    vec![b'a' + byte]
}

/// Replies, normalised so the engine's and the model's can be compared.
#[derive(Debug, PartialEq)]
enum Reply {
    Ok,
    Error(Error),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Kind(Option<Kind>),
}

impl<T: Into<Reply>> From<corekv::Result<T>> for Reply {
    fn from(result: corekv::Result<T>) -> Reply {
        result.map_or_else(Reply::Error, Into::into)
    }
}

impl From<()> for Reply {
    fn from((): ()) -> Reply {
        Reply::Ok
    }
}

fn apply_engine(db: &Db, op: &Op) -> Reply {
    match *op {
        Op::Set(k, v) => db.set(KEYS[k], &value(v)).into(),
        Op::Get(k) => db.get(KEYS[k]).map(Reply::Bulk).into(),
        Op::Del(k) => db.del(&[KEYS[k]]).map(|n| Reply::Int(n as i64)).into(),
        Op::Incr(k) => db.incr(KEYS[k]).map(Reply::Int).into(),
        Op::Append(k, v) => db.append(KEYS[k], &value(v)).map(|n| Reply::Int(n as i64)).into(),
        Op::Push(k, v, left) => {
            let end = if left { End::Left } else { End::Right };
            db.push(KEYS[k], end, &[&value(v)], true).map(|n| Reply::Int(n as i64)).into()
        }
        Op::Pop(k, left) => {
            let end = if left { End::Left } else { End::Right };
            db.pop(KEYS[k], end, None)
                .map(|popped| Reply::Bulk(popped.map(|mut p| p.remove(0))))
                .into()
        }
        Op::SAdd(k, m) => db.sadd(KEYS[k], &[&value(m)]).map(|n| Reply::Int(n as i64)).into(),
        Op::SRem(k, m) => db.srem(KEYS[k], &[&value(m)]).map(|n| Reply::Int(n as i64)).into(),
        Op::HSet(k, f, v) => {
            db.hset(KEYS[k], &[(&value(f), &value(v))]).map(|n| Reply::Int(n as i64)).into()
        }
        Op::HDel(k, f) => db.hdel(KEYS[k], &[&value(f)]).map(|n| Reply::Int(n as i64)).into(),
        Op::ZAdd(k, m, s) => db
            .zadd(KEYS[k], &[(f64::from(s), &value(m))], ZAddFlags::default())
            .map(|reply| Reply::Bulk(Some(format!("{reply:?}").into_bytes())))
            .into(),
        Op::ZRem(k, m) => db.zrem(KEYS[k], &[&value(m)]).map(|n| Reply::Int(n as i64)).into(),
        Op::Rename(a, b) => db.rename(KEYS[a], KEYS[b]).into(),
        Op::Copy(a, b) if a == b => Reply::Error(Error::Other("same")),
        Op::Copy(a, b) => db.copy(KEYS[a], KEYS[b], true).map(|c| Reply::Int(c as i64)).into(),
        Op::MSet(a, b, v) => db.mset(&[(KEYS[a], &value(v)), (KEYS[b], &value(v + 1))]).into(),
        Op::Type(k) => db.key_type(KEYS[k]).map(Reply::Kind).into(),
    }
}

fn kind_of(model: &Model) -> Kind {
    match model {
        Model::Str(_) => Kind::String,
        Model::List(_) => Kind::List,
        Model::Hash(_) => Kind::Hash,
        Model::Set(_) => Kind::Set,
        Model::ZSet(_) => Kind::ZSet,
    }
}

/// Runs `f` on the key's collection of the variant `make` builds, creating it when missing and
/// deleting the key when `f` leaves it empty. Mirrors the engine's write_collection.
fn with<T>(
    state: &mut BTreeMap<Vec<u8>, Model>,
    key: &[u8],
    create: bool,
    make: fn() -> Model,
    f: impl FnOnce(&mut Model) -> T,
) -> Result<Option<T>, Error> {
    let missing = !state.contains_key(key);
    if missing && !create {
        return Ok(None);
    }
    let entry = state.entry(key.to_vec()).or_insert_with(make);
    if kind_of(entry) != kind_of(&make()) {
        return Err(Error::WrongType);
    }
    let result = f(entry);
    let empty = match entry {
        Model::List(list) => list.is_empty(),
        Model::Hash(hash) => hash.is_empty(),
        Model::Set(set) => set.is_empty(),
        Model::ZSet(zset) => zset.is_empty(),
        Model::Str(_) => false,
    };
    if empty {
        state.remove(key);
    }
    Ok(Some(result))
}

fn apply_model(state: &mut BTreeMap<Vec<u8>, Model>, op: &Op) -> Reply {
    let count = |result: Result<Option<usize>, Error>| match result {
        Ok(count) => Reply::Int(count.unwrap_or(0) as i64),
        Err(error) => Reply::Error(error),
    };
    match *op {
        Op::Set(k, v) => {
            state.insert(KEYS[k].to_vec(), Model::Str(value(v)));
            Reply::Ok
        }
        Op::Get(k) => match state.get(KEYS[k]) {
            None => Reply::Bulk(None),
            Some(Model::Str(bytes)) => Reply::Bulk(Some(bytes.clone())),
            Some(_) => Reply::Error(Error::WrongType),
        },
        Op::Del(k) => Reply::Int(i64::from(state.remove(KEYS[k]).is_some())),
        Op::Incr(k) => match state.get(KEYS[k]) {
            None => {
                state.insert(KEYS[k].to_vec(), Model::Str(b"1".to_vec()));
                Reply::Int(1)
            }
            Some(Model::Str(bytes)) => match corekv::engine::num::parse_i64(bytes) {
                Some(number) => {
                    state.insert(KEYS[k].to_vec(), Model::Str((number + 1).to_string().into()));
                    Reply::Int(number + 1)
                }
                None => Reply::Error(Error::NotInteger),
            },
            Some(_) => Reply::Error(Error::WrongType),
        },
        Op::Append(k, v) => match state.entry(KEYS[k].to_vec()).or_insert(Model::Str(Vec::new())) {
            Model::Str(bytes) => {
                bytes.extend_from_slice(&value(v));
                Reply::Int(bytes.len() as i64)
            }
            _ => Reply::Error(Error::WrongType),
        },
        Op::Push(k, v, left) => count(with(
            state,
            KEYS[k],
            true,
            || Model::List(VecDeque::new()),
            |m| {
                let Model::List(list) = m else { unreachable!() };
                if left {
                    list.push_front(value(v))
                } else {
                    list.push_back(value(v))
                }
                list.len()
            },
        )),
        Op::Pop(k, left) => match with(
            state,
            KEYS[k],
            false,
            || Model::List(VecDeque::new()),
            |m| {
                let Model::List(list) = m else { unreachable!() };
                if left { list.pop_front() } else { list.pop_back() }
            },
        ) {
            Ok(popped) => Reply::Bulk(popped.flatten()),
            Err(error) => Reply::Error(error),
        },
        Op::SAdd(k, m) => count(with(
            state,
            KEYS[k],
            true,
            || Model::Set(BTreeSet::new()),
            |s| {
                let Model::Set(set) = s else { unreachable!() };
                usize::from(set.insert(value(m)))
            },
        )),
        Op::SRem(k, m) => count(with(
            state,
            KEYS[k],
            false,
            || Model::Set(BTreeSet::new()),
            |s| {
                let Model::Set(set) = s else { unreachable!() };
                usize::from(set.remove(&value(m)))
            },
        )),
        Op::HSet(k, f, v) => count(with(
            state,
            KEYS[k],
            true,
            || Model::Hash(BTreeMap::new()),
            |h| {
                let Model::Hash(hash) = h else { unreachable!() };
                usize::from(hash.insert(value(f), value(v)).is_none())
            },
        )),
        Op::HDel(k, f) => count(with(
            state,
            KEYS[k],
            false,
            || Model::Hash(BTreeMap::new()),
            |h| {
                let Model::Hash(hash) = h else { unreachable!() };
                usize::from(hash.remove(&value(f)).is_some())
            },
        )),
        Op::ZAdd(k, m, s) => {
            match with(
                state,
                KEYS[k],
                true,
                || Model::ZSet(BTreeMap::new()),
                |z| {
                    let Model::ZSet(zset) = z else { unreachable!() };
                    u64::from(zset.insert(value(m), i64::from(s)).is_none())
                },
            ) {
                Ok(added) => Reply::Bulk(Some(
                    format!("{:?}", corekv::engine::ops::ZAddReply::Count(added.unwrap_or(0)))
                        .into_bytes(),
                )),
                Err(error) => Reply::Error(error),
            }
        }
        Op::ZRem(k, m) => count(with(
            state,
            KEYS[k],
            false,
            || Model::ZSet(BTreeMap::new()),
            |z| {
                let Model::ZSet(zset) = z else { unreachable!() };
                usize::from(zset.remove(&value(m)).is_some())
            },
        )),
        Op::Rename(a, b) => match state.remove(KEYS[a]) {
            None => Reply::Error(Error::NoSuchKey),
            Some(moved) => {
                state.insert(KEYS[b].to_vec(), moved);
                Reply::Ok
            }
        },
        Op::Copy(a, b) if a == b => Reply::Error(Error::Other("same")),
        Op::Copy(a, b) => match state.get(KEYS[a]).cloned() {
            None => Reply::Int(0),
            Some(copied) => {
                state.insert(KEYS[b].to_vec(), copied);
                Reply::Int(1)
            }
        },
        Op::MSet(a, b, v) => {
            state.insert(KEYS[a].to_vec(), Model::Str(value(v)));
            state.insert(KEYS[b].to_vec(), Model::Str(value(v + 1)));
            Reply::Ok
        }
        Op::Type(k) => Reply::Kind(state.get(KEYS[k]).map(kind_of)),
    }
}

fn engine_state(db: &Db, key: &[u8]) -> Option<Model> {
    Some(match db.key_type(key).unwrap()? {
        Kind::String => Model::Str(db.get(key).unwrap().unwrap()),
        Kind::List => Model::List(db.lrange(key, 0, -1).unwrap().into()),
        Kind::Hash => Model::Hash(db.hgetall(key).unwrap().into_iter().collect()),
        Kind::Set => Model::Set(db.smembers(key).unwrap().into_iter().collect()),
        Kind::ZSet => Model::ZSet(
            db.zrange(key, ZRange::rank(0, -1))
                .unwrap()
                .into_iter()
                .map(|(member, score)| (member, score as i64))
                .collect(),
        ),
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn engine_matches_model(ops in proptest::collection::vec(op(), 1..60)) {
        let engine = Engine::builder().shards(2).maintenance_threads(0).build();
        let db = engine.db(0);
        let mut model = BTreeMap::new();
        for (step, op) in ops.iter().enumerate() {
            let expected = apply_model(&mut model, op);
            let actual = apply_engine(db, op);
            prop_assert_eq!(actual, expected, "step {} {:?}", step, op);
        }
        for key in KEYS {
            prop_assert_eq!(engine_state(db, key), model.get(key).cloned(), "key {:?}", key);
        }
        prop_assert_eq!(db.len(), model.len());
        engine.flush_all();
        prop_assert_eq!(engine.used_memory_bytes(), 0);
    }
}
