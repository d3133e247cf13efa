use std::collections::BTreeSet;

use proptest::prelude::*;

use super::*;

const LONG: &str = "a member longer than twenty-two bytes";

fn set(members: &[&str]) -> SetValue {
    members.iter().map(|&member| SmallBytes::from(member)).collect()
}

fn sorted<'a>(members: impl IntoIterator<Item = &'a SmallBytes>) -> Vec<&'a str> {
    let mut texts: Vec<&str> =
        members.into_iter().map(|member| std::str::from_utf8(member).unwrap()).collect();
    texts.sort_unstable();
    texts
}

#[test]
fn add_remove_contains() {
    let mut value = SetValue::new();
    assert!(value.is_empty());
    assert_eq!(value.add(["a".into(), "b".into(), "a".into(), LONG.into()]), 3);
    assert_eq!(value.add(["a".into()]), 0);
    assert_eq!(value.len(), 3);
    assert_eq!(value.element_heap_bytes, LONG.len());
    assert!(value.contains(b"a") && !value.contains(b"zz"));
    assert_eq!(value.remove([&b"a"[..], b"a", b"zz", LONG.as_bytes()]), 2);
    assert_eq!(value.element_heap_bytes, 0);
    assert_eq!(sorted(value.members()), vec!["b"]);
}

#[test]
fn pop_removes_distinct_members() {
    let mut value = set(&["a", "b", "c", "d", LONG]);
    assert!(value.pop(0).is_empty());
    let popped = value.pop(2);
    assert_eq!(popped.len(), 2);
    assert_ne!(popped[0], popped[1]);
    assert_eq!(value.len(), 3);
    assert!(popped.iter().all(|member| !value.contains(member)));
    let one = value.pop_one().unwrap();
    assert!(!value.contains(&one));
    let rest = value.pop(10);
    assert_eq!(rest.len(), 2);
    assert!(value.is_empty());
    assert_eq!(value.element_heap_bytes, 0);
    assert_eq!(value.pop_one(), None);
    assert!(value.pop(3).is_empty());
}

#[test]
fn random_members_follow_srandmember() {
    assert_eq!(SetValue::new().random_member(), None);
    assert!(SetValue::new().random_members(-3).is_empty());
    let value = set(&["a", "b", "c"]);
    assert!(value.contains(value.random_member().unwrap()));
    assert!(value.random_members(0).is_empty());
    assert_eq!(sorted(value.random_members(5)), vec!["a", "b", "c"]);
    let two = value.random_members(2);
    assert_eq!(two.len(), 2);
    assert_ne!(two[0], two[1]);
    let repeated = value.random_members(-10);
    assert_eq!(repeated.len(), 10);
    assert!(repeated.iter().all(|member| value.contains(member)));
}

#[test]
fn scan_with_matching() {
    let value: SetValue = (0..30).map(|i| SmallBytes::from(i.to_string().as_str())).collect();
    let mut cursor = 0;
    let mut seen = Vec::new();
    loop {
        let (next, batch) = value.scan(cursor, 7, |member| member.ends_with(b"5"));
        seen.extend(batch);
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
    assert_eq!(sorted(seen), vec!["15", "25", "5"]);
}

#[test]
fn algebra_matches_redis() {
    // Checked against redis-server 7.0.15: s = {a b c}, s2 = {b c d}.
    let s = set(&["a", "b", "c"]);
    let s2 = set(&["b", "c", "d"]);
    let inter = SetValue::intersection(&[Some(&s), Some(&s2)]);
    assert_eq!(sorted(inter.members()), vec!["b", "c"]);
    assert!(SetValue::intersection(&[Some(&s), None]).is_empty());
    assert!(SetValue::intersection(&[]).is_empty());
    assert_eq!(SetValue::intersection(&[Some(&s)]), s);
    assert_eq!(SetValue::intersection_cardinality(&[Some(&s), Some(&s2)], 0), 2);
    assert_eq!(SetValue::intersection_cardinality(&[Some(&s), Some(&s2)], 1), 1);
    assert_eq!(SetValue::intersection_cardinality(&[Some(&s), Some(&s2)], 9), 2);
    assert_eq!(SetValue::intersection_cardinality(&[Some(&s), None], 0), 0);
    let union = SetValue::union(&[Some(&s), None, Some(&s2)]);
    assert_eq!(sorted(union.members()), vec!["a", "b", "c", "d"]);
    assert!(SetValue::union(&[None]).is_empty());
    assert!(SetValue::difference(&[None, Some(&s)]).is_empty());
    let difference = SetValue::difference(&[Some(&s), None, Some(&s2)]);
    assert_eq!(sorted(difference.members()), vec!["a"]);
    assert_eq!(SetValue::difference(&[Some(&s)]), s);
    assert!(SetValue::difference(&[]).is_empty());
}

#[test]
fn memory_counts_capacity_and_heap_members() {
    let mut value = SetValue::new();
    assert_eq!(value.memory_bytes(), 0);
    value.add([LONG.into()]);
    assert!(value.memory_bytes() > LONG.len() + size_of::<SmallBytes>());
    value.pop(1);
    assert_eq!(value.memory_bytes(), 0);
}

#[derive(Clone, Debug)]
enum Operation {
    Add(Vec<SmallBytes>),
    Remove(Vec<SmallBytes>),
    Contains(SmallBytes),
    Pop(usize),
    PopOne,
    RandomMembers(i64),
}

fn member() -> impl Strategy<Value = SmallBytes> {
    prop_oneof![
        6 => prop::sample::select(vec!["a", "b", "c", "d", "e", "f"]).prop_map(SmallBytes::from),
        1 => Just(SmallBytes::from(LONG)),
    ]
}

fn members() -> impl Strategy<Value = Vec<SmallBytes>> {
    prop::collection::vec(member(), 0..4)
}

fn operation() -> impl Strategy<Value = Operation> {
    prop_oneof![
        members().prop_map(Operation::Add),
        members().prop_map(Operation::Remove),
        member().prop_map(Operation::Contains),
        (0usize..4).prop_map(Operation::Pop),
        Just(Operation::PopOne),
        (-4i64..8).prop_map(Operation::RandomMembers),
    ]
}

fn apply(value: &mut SetValue, model: &mut BTreeSet<SmallBytes>, operation: Operation) {
    match operation {
        Operation::Add(members) => {
            let added = members.iter().filter(|member| model.insert((*member).clone())).count();
            assert_eq!(value.add(members), added);
        }
        Operation::Remove(members) => {
            let removed = members.iter().filter(|member| model.remove(*member)).count();
            assert_eq!(value.remove(&members), removed);
        }
        Operation::Contains(member) => assert_eq!(value.contains(&member), model.contains(&member)),
        Operation::Pop(count) => {
            let popped = value.pop(count);
            assert_eq!(popped.len(), count.min(model.len()));
            for member in popped {
                assert!(model.remove(&member), "popped {member:?} twice or never held it");
            }
        }
        Operation::PopOne => match value.pop_one() {
            Some(member) => assert!(model.remove(&member)),
            None => assert!(model.is_empty()),
        },
        Operation::RandomMembers(count) => {
            let picked = value.random_members(count);
            let expected_len = match count {
                0.. => (count as usize).min(model.len()),
                _ if model.is_empty() => 0,
                _ => count.unsigned_abs() as usize,
            };
            assert_eq!(picked.len(), expected_len);
            assert!(picked.iter().all(|member| model.contains(*member)));
            if count >= 0 {
                assert_eq!(picked.iter().collect::<BTreeSet<_>>().len(), picked.len());
            }
        }
    }
}

fn model_set() -> impl Strategy<Value = Option<BTreeSet<SmallBytes>>> {
    prop::option::weighted(0.9, prop::collection::btree_set(member(), 0..6))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn behaves_like_a_btreeset(operations in prop::collection::vec(operation(), 0..40)) {
        let mut value = SetValue::new();
        let mut model = BTreeSet::new();
        for operation in operations {
            apply(&mut value, &mut model, operation);
            prop_assert_eq!(&value.members().cloned().collect::<BTreeSet<_>>(), &model);
            prop_assert_eq!(value.len(), model.len());
            prop_assert_eq!(value.element_heap_bytes, value.element_heap_bytes_recounted());
            let slot_bytes = size_of::<(u64, SmallBytes)>() + size_of::<usize>() + 1;
            let expected = value.members.capacity() * slot_bytes + value.element_heap_bytes;
            prop_assert_eq!(value.memory_bytes(), expected);
        }
    }

    #[test]
    fn algebra_matches_btreeset(models in prop::collection::vec(model_set(), 0..4), limit in 0usize..4) {
        let values: Vec<Option<SetValue>> =
            models.iter().map(|model| model.as_ref().map(|m| m.iter().cloned().collect())).collect();
        let sets: Vec<Option<&SetValue>> = values.iter().map(Option::as_ref).collect();
        let as_model = |set: SetValue| set.members().cloned().collect::<BTreeSet<_>>();
        let empty = BTreeSet::new();

        let mut intersection: Option<BTreeSet<SmallBytes>> = None;
        for model in &models {
            let model = model.as_ref().unwrap_or(&empty);
            intersection = Some(match intersection {
                None => model.clone(),
                Some(so_far) => so_far.intersection(model).cloned().collect(),
            });
        }
        let intersection = intersection.unwrap_or_default();
        prop_assert_eq!(&as_model(SetValue::intersection(&sets)), &intersection);
        let capped = if limit == 0 { intersection.len() } else { intersection.len().min(limit) };
        prop_assert_eq!(SetValue::intersection_cardinality(&sets, limit), capped);

        let union: BTreeSet<_> = models.iter().flatten().flatten().cloned().collect();
        prop_assert_eq!(as_model(SetValue::union(&sets)), union);

        let mut difference = models.first().cloned().flatten().unwrap_or_default();
        for model in models.iter().skip(1).flatten() {
            difference.retain(|member| !model.contains(member));
        }
        prop_assert_eq!(as_model(SetValue::difference(&sets)), difference);
    }
}
