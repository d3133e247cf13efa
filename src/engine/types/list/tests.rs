use proptest::prelude::*;

use super::*;

fn list(elements: &[&str]) -> ListValue {
    elements.iter().map(|&element| SmallBytes::from(element)).collect()
}

fn bytes(elements: &[&str]) -> Vec<SmallBytes> {
    elements.iter().map(|&element| SmallBytes::from(element)).collect()
}

const LONG: &str = "an element longer than twenty-two bytes";

#[test]
fn push_order_matches_lpush_and_rpush() {
    let mut value = ListValue::new();
    assert!(value.is_empty());
    assert_eq!(value.push_front(bytes(&["a", "b", "c"])), 3);
    assert_eq!(value.push_back(bytes(&["x", "y"])), 5);
    assert_eq!(value.range(0, -1), bytes(&["c", "b", "a", "x", "y"]));
    assert_eq!(value.len(), 5);
    assert_eq!(value.iter().next_back(), Some(&SmallBytes::from("y")));
}

#[test]
fn pops_with_and_without_count() {
    let mut value = list(&["a", "b", "c", "d", "e"]);
    assert_eq!(value.pop_front(2), bytes(&["a", "b"]));
    assert_eq!(value.pop_back(2), bytes(&["e", "d"]));
    assert_eq!(value.pop_front(0), bytes(&[]));
    assert_eq!(value.pop_back(10), bytes(&["c"]));
    assert!(value.is_empty());
    assert_eq!(value.pop_front(1), bytes(&[]));
    assert_eq!(value.pop_front_one(), None);
    let mut value = list(&["a", "b"]);
    assert_eq!(value.pop_front_one(), Some("a".into()));
    assert_eq!(value.pop_back_one(), Some("b".into()));
    assert_eq!(value.pop_back_one(), None);
}

#[test]
fn range_clamps_like_lrange() {
    let value = list(&["a", "b", "c", "a", "b", "c", "a"]);
    assert_eq!(value.range(-100, 1), bytes(&["a", "b"]));
    assert_eq!(value.range(5, 2), bytes(&[]));
    assert_eq!(value.range(100, 200), bytes(&[]));
    assert_eq!(value.range(-2, 100), bytes(&["c", "a"]));
    assert_eq!(value.range(i64::MIN, i64::MAX).len(), 7);
    assert_eq!(value.range(0, i64::MIN), bytes(&[]));
    assert_eq!(value.range(-1, -1), bytes(&["a"]));
    assert_eq!(ListValue::new().range(0, -1), bytes(&[]));
}

#[test]
fn index_and_set() {
    let mut value = list(&["a", "b", "c"]);
    assert_eq!(value.index(0), Some(&"a".into()));
    assert_eq!(value.index(-1), Some(&"c".into()));
    assert_eq!(value.index(-3), Some(&"a".into()));
    assert_eq!(value.index(-4), None);
    assert_eq!(value.index(3), None);
    assert_eq!(value.index(i64::MIN), None);
    assert_eq!(value.index(i64::MAX), None);
    assert_eq!(value.set(-3, "y".into()), Ok(()));
    assert_eq!(value.set(1, LONG.into()), Ok(()));
    assert_eq!(value.range(0, -1), bytes(&["y", LONG, "c"]));
    assert_eq!(value.element_heap_bytes, LONG.len());
    for index in [3, -4, i64::MAX, i64::MIN] {
        assert_eq!(value.set(index, "z".into()), Err(Error::IndexOutOfRange));
    }
    assert_eq!(value.set(1, "short".into()), Ok(()));
    assert_eq!(value.element_heap_bytes, 0);
}

#[test]
fn insert_before_and_after_first_pivot() {
    let mut value = list(&["a", "b", "a"]);
    assert_eq!(value.insert(true, b"zz", "x".into()), None);
    assert_eq!(value.insert(false, b"a", "X".into()), Some(4));
    assert_eq!(value.insert(true, b"a", "Y".into()), Some(5));
    assert_eq!(value.insert(false, b"a", LONG.into()), Some(6));
    assert_eq!(value.range(0, -1), bytes(&["Y", "a", LONG, "X", "b", "a"]));
    assert!(value.memory_bytes() >= LONG.len());
}

#[test]
fn remove_from_head_tail_or_all() {
    let mut value = list(&["a", "b", "a", "c", "a", "a"]);
    assert_eq!(value.remove(-2, b"a"), 2);
    assert_eq!(value.range(0, -1), bytes(&["a", "b", "a", "c"]));
    assert_eq!(value.remove(1, b"a"), 1);
    assert_eq!(value.range(0, -1), bytes(&["b", "a", "c"]));
    assert_eq!(value.remove(0, b"zz"), 0);
    let mut value = list(&["a", LONG, "a", LONG]);
    assert_eq!(value.remove(0, LONG.as_bytes()), 2);
    assert_eq!(value.element_heap_bytes, 0);
    assert_eq!(value.remove(i64::MIN, b"a"), 2);
    assert!(value.is_empty());
}

#[test]
fn trim_keeps_clamped_range() {
    let mut value = list(&["a", "b", "c", "d", LONG]);
    value.trim(1, -2);
    assert_eq!(value.range(0, -1), bytes(&["b", "c", "d"]));
    value.trim(-100, 100);
    assert_eq!(value.len(), 3);
    value.trim(5, 2);
    assert!(value.is_empty());
    assert_eq!(value.element_heap_bytes, 0);
    let mut value = list(&["a", "b"]);
    value.trim(2, 5);
    assert!(value.is_empty());
}

#[test]
fn position_follows_lpos() {
    // Each expectation was checked against redis-server 7.0.15.
    let value = list(&["a", "b", "c", "a", "b", "c", "a"]);
    assert_eq!(value.position(b"a", 1, 1, 0), Ok(vec![0]));
    assert_eq!(value.position(b"a", -1, 0, 0), Ok(vec![6, 3, 0]));
    assert_eq!(value.position(b"a", 2, 2, 4), Ok(vec![3]));
    assert_eq!(value.position(b"a", 1, 0, 3), Ok(vec![0]));
    assert_eq!(value.position(b"a", -1, 2, 2), Ok(vec![6]));
    assert_eq!(value.position(b"a", -1, 2, 0), Ok(vec![6, 3]));
    assert_eq!(value.position(b"a", 3, 1, 4), Ok(vec![]));
    assert_eq!(value.position(b"a", i64::MAX, 1, 0), Ok(vec![]));
    assert_eq!(value.position(b"a", -i64::MAX, 0, 0), Ok(vec![]));
    assert_eq!(value.position(b"zz", 1, 0, 0), Ok(vec![]));
    assert_eq!(value.position(b"c", 1, 0, 0), Ok(vec![2, 5]));
    let zero = value.position(b"a", 0, 1, 0).unwrap_err();
    assert!(zero.to_string().starts_with("ERR RANK can't be zero: use 1 to start"));
    assert!(zero.to_string().ends_with("or use negative to start from the end of the list"));
    let minimum = value.position(b"a", i64::MIN, 1, 0).unwrap_err();
    assert!(minimum.to_string().starts_with("ERR value is out of range"));
}

#[test]
fn memory_counts_capacity_and_heap_elements() {
    let mut value = ListValue::new();
    assert_eq!(value.memory_bytes(), 0);
    value.push_back([SmallBytes::from(LONG), "short".into()]);
    assert!(value.memory_bytes() >= 2 * size_of::<SmallBytes>() + LONG.len());
    assert_eq!(value.element_heap_bytes, LONG.len());
    assert_eq!(value.pop_front(1), bytes(&[LONG]));
    assert_eq!(value.element_heap_bytes, 0);
}

/// One list command with arguments, for the model test.
#[derive(Clone, Debug)]
enum Operation {
    PushFront(Vec<SmallBytes>),
    PushBack(Vec<SmallBytes>),
    PopFront(usize),
    PopBack(usize),
    Range(i64, i64),
    Index(i64),
    Set(i64, SmallBytes),
    Insert(bool, SmallBytes, SmallBytes),
    Remove(i64, SmallBytes),
    Trim(i64, i64),
    Position(SmallBytes, i64, usize, usize),
}

fn element() -> impl Strategy<Value = SmallBytes> {
    // A small alphabet so that pivots and removals hit; some long enough to live on the heap.
    prop_oneof![
        4 => prop::sample::select(vec!["a", "b", "c"]).prop_map(SmallBytes::from),
        1 => Just(SmallBytes::from(LONG)),
    ]
}

fn list_index() -> impl Strategy<Value = i64> {
    prop_oneof![8 => -12i64..12, 1 => Just(i64::MIN), 1 => Just(i64::MAX)]
}

fn operation() -> impl Strategy<Value = Operation> {
    let elements = || prop::collection::vec(element(), 0..4);
    prop_oneof![
        elements().prop_map(Operation::PushFront),
        elements().prop_map(Operation::PushBack),
        (0usize..4).prop_map(Operation::PopFront),
        (0usize..4).prop_map(Operation::PopBack),
        (list_index(), list_index()).prop_map(|(start, stop)| Operation::Range(start, stop)),
        list_index().prop_map(Operation::Index),
        (list_index(), element()).prop_map(|(index, value)| Operation::Set(index, value)),
        (any::<bool>(), element(), element()).prop_map(|(b, p, v)| Operation::Insert(b, p, v)),
        (-3i64..3, element()).prop_map(|(count, value)| Operation::Remove(count, value)),
        (list_index(), list_index()).prop_map(|(start, stop)| Operation::Trim(start, stop)),
        (element(), prop_oneof![-3i64..0, 1i64..4], 0usize..3, 0usize..8)
            .prop_map(|(e, rank, count, maxlen)| Operation::Position(e, rank, count, maxlen)),
    ]
}

/// LRANGE's clamping written out on a `Vec`, independently of `clamp_range`.
fn model_range(model: &[SmallBytes], start: i64, stop: i64) -> std::ops::Range<usize> {
    let len = model.len() as i128;
    let (mut start, mut stop) = (start as i128, stop as i128);
    if start < 0 {
        start += len;
    }
    if stop < 0 {
        stop += len;
    }
    start = start.max(0);
    stop = stop.min(len - 1);
    if start > stop { 0..0 } else { start as usize..stop as usize + 1 }
}

fn model_index(model: &[SmallBytes], index: i64) -> Option<usize> {
    let len = model.len() as i128;
    let index = if index < 0 { index as i128 + len } else { index as i128 };
    (0..len).contains(&index).then_some(index as usize)
}

fn apply(value: &mut ListValue, model: &mut Vec<SmallBytes>, operation: Operation) {
    match operation {
        Operation::PushFront(elements) => {
            for element in &elements {
                model.insert(0, element.clone());
            }
            assert_eq!(value.push_front(elements), model.len());
        }
        Operation::PushBack(elements) => {
            model.extend(elements.iter().cloned());
            assert_eq!(value.push_back(elements), model.len());
        }
        Operation::PopFront(count) => {
            let expected: Vec<_> = model.drain(..count.min(model.len())).collect();
            assert_eq!(value.pop_front(count), expected);
        }
        Operation::PopBack(count) => {
            let kept = model.len() - count.min(model.len());
            let expected: Vec<_> = model.drain(kept..).rev().collect();
            assert_eq!(value.pop_back(count), expected);
        }
        Operation::Range(start, stop) => {
            assert_eq!(value.range(start, stop), model[model_range(model, start, stop)].to_vec());
        }
        Operation::Index(index) => {
            assert_eq!(value.index(index), model_index(model, index).map(|i| &model[i]));
        }
        Operation::Set(index, element) => match model_index(model, index) {
            Some(position) => {
                model[position] = element.clone();
                assert_eq!(value.set(index, element), Ok(()));
            }
            None => assert_eq!(value.set(index, element), Err(Error::IndexOutOfRange)),
        },
        Operation::Insert(before, pivot, element) => {
            let expected = model.iter().position(|e| *e == pivot).map(|found| {
                model.insert(if before { found } else { found + 1 }, element.clone());
                model.len()
            });
            assert_eq!(value.insert(before, &pivot, element), expected);
        }
        Operation::Remove(count, element) => {
            let matching: Vec<usize> = (0..model.len()).filter(|&i| model[i] == element).collect();
            let limit = if count == 0 { matching.len() } else { count.unsigned_abs() as usize };
            let doomed: Vec<usize> = if count >= 0 {
                matching.into_iter().take(limit).collect()
            } else {
                matching.into_iter().rev().take(limit).collect()
            };
            for &position in doomed.iter().rev().filter(|_| count >= 0) {
                model.remove(position);
            }
            for &position in doomed.iter().filter(|_| count < 0) {
                model.remove(position);
            }
            assert_eq!(value.remove(count, &element), doomed.len());
        }
        Operation::Trim(start, stop) => {
            let kept = model_range(model, start, stop);
            *model = model[kept].to_vec();
            value.trim(start, stop);
        }
        Operation::Position(element, rank, count, maxlen) => {
            let compared = if maxlen == 0 { model.len() } else { maxlen.min(model.len()) };
            let mut positions: Vec<usize> = if rank > 0 {
                (0..compared).collect()
            } else {
                (model.len() - compared..model.len()).rev().collect()
            };
            positions.retain(|&i| model[i] == element);
            let mut expected: Vec<usize> =
                positions.into_iter().skip(rank.unsigned_abs() as usize - 1).collect();
            if count > 0 {
                expected.truncate(count);
            }
            assert_eq!(value.position(&element, rank, count, maxlen), Ok(expected));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn behaves_like_a_vec(operations in prop::collection::vec(operation(), 0..40)) {
        let mut value = ListValue::new();
        let mut model = Vec::new();
        for operation in operations {
            apply(&mut value, &mut model, operation);
            prop_assert_eq!(value.iter().cloned().collect::<Vec<_>>(), model.clone());
            prop_assert_eq!(value.len(), model.len());
            prop_assert_eq!(value.element_heap_bytes, value.element_heap_bytes_recounted());
            let capacity_bytes = value.elements.capacity() * size_of::<SmallBytes>();
            prop_assert_eq!(value.memory_bytes(), capacity_bytes + value.element_heap_bytes);
        }
    }
}
