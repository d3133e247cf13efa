use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use super::*;

const LONG: &str = "a value longer than twenty-two bytes";

fn hash(pairs: &[(&str, &str)]) -> HashValue {
    pairs.iter().map(|&(field, value)| (field.into(), value.into())).collect()
}

fn text(value: Option<&SmallBytes>) -> Option<&str> {
    value.map(|value| std::str::from_utf8(value).unwrap())
}

#[test]
fn set_get_and_set_if_absent() {
    let mut value = HashValue::new();
    assert!(value.is_empty());
    assert!(value.set("a".into(), "1".into()));
    assert!(!value.set("a".into(), "2".into()));
    assert!(!value.set_if_absent("a".into(), "3".into()));
    assert!(value.set_if_absent("b".into(), LONG.into()));
    assert_eq!(text(value.get(b"a")), Some("2"));
    assert_eq!(text(value.get(b"b")), Some(LONG));
    assert_eq!(value.get(b"zz"), None);
    assert_eq!(value.len(), 2);
    let values: Vec<_> = value.get_many([&b"b"[..], b"zz", b"a"]).into_iter().map(text).collect();
    assert_eq!(values, vec![Some(LONG), None, Some("2")]);
    assert_eq!(value.element_heap_bytes, LONG.len());
    assert!(value.contains(b"a") && !value.contains(b"zz"));
}

#[test]
fn remove_counts_existing_fields_once() {
    let mut value = hash(&[("a", "1"), ("b", "2"), (LONG, LONG)]);
    assert_eq!(value.remove([&b"a"[..], b"a", b"zz"]), 1);
    assert_eq!(value.remove([LONG]), 1);
    assert_eq!(value.element_heap_bytes, 0);
    assert_eq!(value.len(), 1);
    assert_eq!(value.remove([b"b"]), 1);
    assert!(value.is_empty());
}

#[test]
fn keys_values_and_entries_agree() {
    let value = hash(&[("a", "1"), ("b", "2"), ("c", "3")]);
    let keys: Vec<_> = value.keys().cloned().collect();
    let values: Vec<_> = value.values().cloned().collect();
    let entries: Vec<_> = value.entries().map(|(k, v)| (k.clone(), v.clone())).collect();
    assert_eq!(keys, vec![SmallBytes::from("a"), "b".into(), "c".into()]);
    assert_eq!(entries, keys.into_iter().zip(values).collect::<Vec<_>>());
}

#[test]
fn strlen_of_present_and_absent_fields() {
    let value = hash(&[("a", "hello"), ("e", "")]);
    assert_eq!(value.strlen(b"a"), 5);
    assert_eq!(value.strlen(b"e"), 0);
    assert_eq!(value.strlen(b"zz"), 0);
}

#[test]
fn strict_integer_parsing_matches_string2ll() {
    for (input, expected) in [
        ("0", Some(0)),
        ("7", Some(7)),
        ("-7", Some(-7)),
        ("9223372036854775807", Some(i64::MAX)),
        ("-9223372036854775808", Some(i64::MIN)),
        ("9223372036854775808", None),
        ("-9223372036854775809", None),
        ("99999999999999999999999", None),
        ("-0", None),
        ("+1", None),
        ("01", None),
        ("00", None),
        (" 1", None),
        ("1 ", None),
        ("", None),
        ("-", None),
        ("1.0", None),
        ("1e3", None),
    ] {
        assert_eq!(parse_i64_strict(input.as_bytes()), expected, "parsing {input:?}");
    }
}

#[test]
fn incr_by_follows_hincrby() {
    // Checked against redis-server 7.0.15.
    let mut value = hash(&[("a", "1"), ("n", "-9223372036854775808")]);
    assert_eq!(value.incr_by(b"a", i64::MAX), Err(Error::IncrOverflow));
    assert_eq!(text(value.get(b"a")), Some("1"));
    assert_eq!(value.incr_by(b"a", 0), Ok(1));
    assert_eq!(value.incr_by(b"new", -5), Ok(-5));
    assert_eq!(text(value.get(b"new")), Some("-5"));
    assert_eq!(value.incr_by(b"n", 1), Ok(-9223372036854775807));
    assert_eq!(value.incr_by(b"n", -1), Ok(i64::MIN));
    assert_eq!(value.incr_by(b"n", -1), Err(Error::IncrOverflow));
    for bad in [" 1", "+1", "01", "-0", "9223372036854775808", ""] {
        value.set("bad".into(), bad.into());
        assert_eq!(value.incr_by(b"bad", 1), Err(Error::HashNotInteger), "value {bad:?}");
        assert_eq!(text(value.get(b"bad")), Some(bad));
    }
    assert_eq!(value.len(), 4);
}

#[test]
fn incr_by_float_stores_what_the_adder_returns() {
    let mut value = hash(&[("a", "1.5"), ("bad", "abc")]);
    let add_one = |current: &[u8]| -> Result<SmallBytes> {
        let number: f64 = std::str::from_utf8(current)
            .ok()
            .and_then(|text| text.parse().ok())
            .ok_or(Error::NotFloat)?;
        Ok(SmallBytes::new((number + 1.0).to_string().as_bytes()))
    };
    assert_eq!(value.incr_by_float(b"a", add_one), Ok("2.5".into()));
    assert_eq!(text(value.get(b"a")), Some("2.5"));
    assert_eq!(value.incr_by_float(b"absent", add_one), Ok("1".into()));
    assert_eq!(value.incr_by_float(b"bad", add_one), Err(Error::HashNotFloat));
    let overflow = |_: &[u8]| Err(Error::NanOrInfinity);
    assert_eq!(value.incr_by_float(b"a", overflow), Err(Error::NanOrInfinity));
    assert_eq!(text(value.get(b"a")), Some("2.5"));
    assert_eq!(text(value.get(b"bad")), Some("abc"));
    let to_long = |_: &[u8]| Ok(SmallBytes::from(LONG));
    assert_eq!(value.incr_by_float(b"a", to_long), Ok(LONG.into()));
    assert_eq!(value.element_heap_bytes, LONG.len());
}

#[test]
fn random_fields_follow_hrandfield() {
    let empty = HashValue::new();
    assert_eq!(empty.random_field(), None);
    assert!(empty.random_fields(5).is_empty());
    assert!(empty.random_fields(-5).is_empty());
    let value = hash(&[("a", "1"), ("b", "2"), ("c", "3")]);
    let (field, field_value) = value.random_field().unwrap();
    assert_eq!(value.get(field), Some(field_value));
    assert!(value.random_fields(0).is_empty());
    assert_eq!(value.random_fields(3).len(), 3);
    assert_eq!(value.random_fields(i64::MAX).len(), 3);
    let two = value.random_fields(2);
    assert_eq!(two.len(), 2);
    assert_ne!(two[0].0, two[1].0);
    let repeated = value.random_fields(-20);
    assert_eq!(repeated.len(), 20);
    assert!(repeated.iter().all(|&(field, field_value)| value.get(field) == Some(field_value)));
}

#[test]
fn scan_visits_everything_from_the_end() {
    let value: HashValue = (0..25).map(|i| (i.to_string().as_str().into(), "v".into())).collect();
    let mut cursor = 0;
    let mut seen = Vec::new();
    loop {
        let (next, batch) = value.scan(cursor, 10, |_| true);
        seen.extend(batch.into_iter().map(|(field, _)| field.clone()));
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
    assert_eq!(seen.len(), 25);
    let (_, matched) = value.scan(0, 100, |field| field.starts_with(b"1"));
    assert_eq!(matched.len(), 11);
    assert_eq!(HashValue::new().scan(0, 10, |_| true), (0, vec![]));
}

#[test]
fn memory_counts_capacity_and_heap_strings() {
    let mut value = HashValue::new();
    assert_eq!(value.memory_bytes(), 0);
    value.set(LONG.into(), LONG.into());
    assert!(value.memory_bytes() > 2 * LONG.len() + 2 * size_of::<SmallBytes>());
}

#[derive(Clone, Debug)]
enum Operation {
    Set(SmallBytes, SmallBytes),
    SetIfAbsent(SmallBytes, SmallBytes),
    Remove(Vec<SmallBytes>),
    IncrBy(SmallBytes, i64),
    RandomFields(i64),
}

fn field() -> impl Strategy<Value = SmallBytes> {
    prop_oneof![
        6 => prop::sample::select(vec!["a", "b", "c", "d", "e", "f"]).prop_map(SmallBytes::from),
        1 => Just(SmallBytes::from(LONG)),
    ]
}

fn field_value() -> impl Strategy<Value = SmallBytes> {
    prop_oneof![
        (-5i64..5).prop_map(|n| SmallBytes::from(n.to_string().as_str())),
        Just(SmallBytes::from("9223372036854775807")),
        Just(SmallBytes::from("01")),
        Just(SmallBytes::from(LONG)),
    ]
}

fn operation() -> impl Strategy<Value = Operation> {
    let delta = prop_oneof![-3i64..3, Just(i64::MAX), Just(i64::MIN)];
    prop_oneof![
        (field(), field_value()).prop_map(|(f, v)| Operation::Set(f, v)),
        (field(), field_value()).prop_map(|(f, v)| Operation::SetIfAbsent(f, v)),
        prop::collection::vec(field(), 0..3).prop_map(Operation::Remove),
        (field(), delta).prop_map(|(f, delta)| Operation::IncrBy(f, delta)),
        (-4i64..10).prop_map(Operation::RandomFields),
    ]
}

fn apply(value: &mut HashValue, model: &mut BTreeMap<SmallBytes, SmallBytes>, op: Operation) {
    match op {
        Operation::Set(field, new) => {
            assert_eq!(value.set(field.clone(), new.clone()), model.insert(field, new).is_none());
        }
        Operation::SetIfAbsent(field, new) => {
            let absent = !model.contains_key(&field);
            if absent {
                model.insert(field.clone(), new.clone());
            }
            assert_eq!(value.set_if_absent(field, new), absent);
        }
        Operation::Remove(fields) => {
            let removed = fields.iter().filter(|field| model.remove(*field).is_some()).count();
            assert_eq!(value.remove(&fields), removed);
        }
        Operation::IncrBy(field, delta) => {
            let current = model.get(&field).map_or(Some(0), |v| {
                std::str::from_utf8(v)
                    .ok()?
                    .parse::<i64>()
                    .ok()
                    .filter(|n| n.to_string().as_bytes() == v.as_slice())
            });
            let expected = match current {
                None => Err(Error::HashNotInteger),
                Some(current) => current.checked_add(delta).ok_or(Error::IncrOverflow),
            };
            if let Ok(sum) = expected {
                model.insert(field.clone(), sum.to_string().as_str().into());
            }
            assert_eq!(value.incr_by(&field, delta), expected);
        }
        Operation::RandomFields(count) => {
            let picked = value.random_fields(count);
            let expected_len = if count >= 0 {
                (count as usize).min(model.len())
            } else {
                if model.is_empty() { 0 } else { count.unsigned_abs() as usize }
            };
            assert_eq!(picked.len(), expected_len);
            assert!(picked.iter().all(|&(field, v)| model.get(field) == Some(v)));
            if count >= 0 {
                let distinct: BTreeSet<_> = picked.iter().map(|(field, _)| *field).collect();
                assert_eq!(distinct.len(), picked.len());
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn behaves_like_a_btreemap(operations in prop::collection::vec(operation(), 0..40)) {
        let mut value = HashValue::new();
        let mut model = BTreeMap::new();
        for operation in operations {
            apply(&mut value, &mut model, operation);
            let contents: BTreeMap<_, _> =
                value.entries().map(|(f, v)| (f.clone(), v.clone())).collect();
            prop_assert_eq!(&contents, &model);
            prop_assert_eq!(value.len(), model.len());
            prop_assert_eq!(value.element_heap_bytes, value.element_heap_bytes_recounted());
            let slot_bytes = size_of::<(u64, SmallBytes, SmallBytes)>() + size_of::<usize>() + 1;
            let expected = value.fields.capacity() * slot_bytes + value.element_heap_bytes;
            prop_assert_eq!(value.memory_bytes(), expected);
        }
    }

    /// Fields present for a whole scan are returned at least once, whatever is added and
    /// removed between the steps.
    #[test]
    fn scan_returns_every_surviving_field(
        initial in 0usize..40,
        steps in prop::collection::vec((1usize..6, prop::collection::vec(0usize..60, 0..4),
            prop::collection::vec(0usize..60, 0..3)), 1..30),
    ) {
        let name = |i: usize| SmallBytes::from(i.to_string().as_str());
        let mut value: HashValue = (0..initial).map(|i| (name(i), name(i))).collect();
        let mut survivors: BTreeSet<SmallBytes> = value.keys().cloned().collect();
        let mut returned = BTreeSet::new();
        let mut cursor = 0;
        for (count, removals, additions) in steps.iter().cycle().take(200) {
            let (next, batch) = value.scan(cursor, *count, |_| true);
            returned.extend(batch.into_iter().map(|(field, _)| field.clone()));
            cursor = next;
            if cursor == 0 {
                break;
            }
            for &removal in removals {
                value.remove([name(removal)]);
                survivors.remove(&name(removal));
            }
            for &addition in additions {
                value.set(name(addition), name(addition));
            }
        }
        prop_assert_eq!(cursor, 0, "200 steps finish any scan of these sizes");
        prop_assert!(survivors.is_subset(&returned), "missed {:?}", survivors.difference(&returned).collect::<Vec<_>>());
    }
}
