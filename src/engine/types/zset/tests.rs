//! Unit tests; expected values were checked against redis-server 7.0.15.

use rand::SeedableRng;
use rand::rngs::SmallRng;

use super::*;

fn zset(pairs: &[(&str, f64)]) -> ZSetValue {
    pairs.iter().map(|&(member, score)| (member.as_bytes(), score)).collect()
}

fn names(members: &[(SmallBytes, f64)]) -> Vec<String> {
    members.iter().map(|(member, _)| String::from_utf8(member.to_vec()).unwrap()).collect()
}

fn abcde() -> ZSetValue {
    zset(&[("a", 1.0), ("b", 2.0), ("c", 3.0), ("d", 4.0), ("e", 5.0)])
}

const PLAIN: ZAddFlags =
    ZAddFlags { nx: false, xx: false, gt: false, lt: false, ch: false, incr: false };

#[test]
fn add_and_flags_follow_zadd() {
    let mut set = zset(&[("a", 1.0), ("b", 2.0), ("c", 3.0)]);
    let gt_incr = ZAddFlags { gt: true, incr: true, ..PLAIN };
    assert_eq!(set.add(b"a", -5.0, gt_incr), Ok(AddOutcome::Skipped));
    assert_eq!(set.add(b"a", 5.0, gt_incr), Ok(AddOutcome::Updated(6.0)));
    assert_eq!(set.add(b"d", 10.0, ZAddFlags { lt: true, ..PLAIN }), Ok(AddOutcome::Added(10.0)));
    // ZADD z GT CH 1 b 20 c 7 e -> 2
    let gt_ch = ZAddFlags { gt: true, ch: true, ..PLAIN };
    let replies: u64 = [("b", 1.0), ("c", 20.0), ("e", 7.0)]
        .iter()
        .map(|&(member, score)| set.add(member.as_bytes(), score, gt_ch).unwrap().reply_count(true))
        .sum();
    assert_eq!(replies, 2);
    assert_eq!(set.add(b"q", 1.0, ZAddFlags { xx: true, ..PLAIN }), Ok(AddOutcome::Skipped));
    let nx_incr = ZAddFlags { nx: true, incr: true, ..PLAIN };
    assert_eq!(set.add(b"a", 1.0, nx_incr).unwrap().score(), None);
    let incr = ZAddFlags { incr: true, ..PLAIN };
    assert_eq!(set.add(b"a", 0.0, incr), Ok(AddOutcome::Unchanged(6.0)));
    assert_eq!(set.add(b"a", 6.0, PLAIN).unwrap().reply_count(true), 0);
    assert_eq!(set.len(), 5);
    assert_eq!(set.score(b"q"), None);
}

#[test]
fn flag_combinations_are_checked() {
    let text = |flags: ZAddFlags, pairs| flags.validate(pairs).unwrap_err().to_string();
    assert_eq!(
        text(ZAddFlags { nx: true, xx: true, ..PLAIN }, 1),
        "ERR XX and NX options at the same time are not compatible"
    );
    let gt_lt = "ERR GT, LT, and/or NX options at the same time are not compatible";
    assert_eq!(text(ZAddFlags { gt: true, lt: true, ..PLAIN }, 1), gt_lt);
    assert_eq!(text(ZAddFlags { nx: true, gt: true, ..PLAIN }, 1), gt_lt);
    assert_eq!(
        text(ZAddFlags { incr: true, ..PLAIN }, 2),
        "ERR INCR option supports a single increment-element pair"
    );
    assert_eq!(ZAddFlags { xx: true, gt: true, ch: true, incr: true, ..PLAIN }.validate(1), Ok(()));
}

#[test]
fn infinite_sums_give_nan_errors() {
    let mut set = ZSetValue::new();
    assert_eq!(set.incr_by(b"a", f64::INFINITY), Ok(f64::INFINITY));
    assert_eq!(set.incr_by(b"a", f64::NEG_INFINITY), Err(Error::ScoreNan));
    let incr = ZAddFlags { incr: true, ..PLAIN };
    assert_eq!(set.add(b"a", f64::NEG_INFINITY, incr), Err(Error::ScoreNan));
    assert_eq!(set.add(b"a", f64::NAN, PLAIN), Err(Error::ScoreNan));
    assert_eq!(set.score(b"a"), Some(f64::INFINITY));
    assert_eq!(Error::ScoreNan.to_string(), "ERR resulting score is not a number (NaN)");
}

#[test]
fn negative_zero_is_stored_as_zero() {
    let mut set = ZSetValue::new();
    set.add(b"m", -0.0, PLAIN).unwrap();
    assert!(set.score(b"m").unwrap().is_sign_positive());
    assert_eq!(set.incr_by(b"n", -0.0), Ok(0.0));
    assert!(set.score(b"n").unwrap().is_sign_positive());
    set.add(b"o", 1.0, PLAIN).unwrap();
    assert!(set.incr_by(b"o", -1.0).unwrap().is_sign_positive());
}

#[test]
fn incr_by_adds_and_creates() {
    let mut set = ZSetValue::new();
    assert_eq!(set.incr_by(b"a", 2.5), Ok(2.5));
    assert_eq!(set.incr_by(b"a", 2.5), Ok(5.0));
    assert_eq!(set.rank(b"a", false), Some(0));
}

#[test]
fn remove_counts_present_members_once() {
    let mut set = abcde();
    assert_eq!(set.remove([&b"a"[..], b"a", b"zz", b"c"]), 2);
    assert_eq!(set.len(), 3);
    assert!(!set.remove_one(b"a"));
    assert!(set.remove_one(b"e"));
    assert_eq!(names(&set.range_by_rank(0, -1, false)), ["b", "d"]);
}

#[test]
fn ranks_both_ways_and_ties_by_member() {
    let set = zset(&[("b", 1.0), ("a", 1.0), ("c", 0.5), ("d", 2.0)]);
    let order: Vec<_> = set.iter().map(|(member, _)| member.to_vec()).collect();
    assert_eq!(order, [b"c", b"a", b"b", b"d"]);
    assert_eq!(set.rank(b"c", false), Some(0));
    assert_eq!(set.rank(b"b", false), Some(2));
    assert_eq!(set.rank(b"b", true), Some(1));
    assert_eq!(set.rank(b"x", false), None);
    let reversed: Vec<_> = set.iter().rev().map(|(member, _)| member.to_vec()).collect();
    assert_eq!(reversed, [b"d", b"b", b"a", b"c"]);
}

#[test]
fn range_by_rank_follows_zrange_indexes() {
    let set = abcde();
    assert_eq!(names(&set.range_by_rank(-100, -4, false)), ["a", "b"]);
    assert_eq!(names(&set.range_by_rank(1, 2, true)), ["d", "c"]);
    assert_eq!(names(&set.range_by_rank(0, 100, false)).len(), 5);
    assert!(set.range_by_rank(3, 2, false).is_empty());
    assert!(set.range_by_rank(5, 10, false).is_empty());
    assert!(set.range_by_rank(-1, -2, false).is_empty());
    assert_eq!(names(&set.range_by_rank(-1, -1, true)), ["a"]);
    assert_eq!(normalize_rank_range(i64::MIN, i64::MAX, 3), Some((0, 2)));
    assert_eq!(normalize_rank_range(0, -1, 0), None);
}

#[test]
fn score_bounds_parse_like_zsl_parse_range() {
    assert_eq!(ScoreBound::parse(b"(1.5"), Ok(ScoreBound::exclusive(1.5)));
    assert_eq!(ScoreBound::parse(b"-inf"), Ok(ScoreBound::inclusive(f64::NEG_INFINITY)));
    assert_eq!(ScoreBound::parse(b"+inf"), Ok(ScoreBound::inclusive(f64::INFINITY)));
    assert_eq!(ScoreBound::parse(b"5"), Ok(ScoreBound::inclusive(5.0)));
    assert_eq!(ScoreBound::parse(b"("), Ok(ScoreBound::exclusive(0.0)));
    assert_eq!(ScoreBound::parse(b""), Ok(ScoreBound::inclusive(0.0)));
    assert_eq!(ScoreBound::parse(b" 1"), Ok(ScoreBound::inclusive(1.0)));
    assert_eq!(ScoreBound::parse(b"(1e400"), Ok(ScoreBound::exclusive(f64::INFINITY)));
    for bad in [&b"1abc"[..], b"nan", b"(nan", b"1 ", b"[1"] {
        let error = ScoreBound::parse(bad).unwrap_err();
        assert_eq!(error.to_string(), "ERR min or max is not a float");
    }
}

#[test]
fn lex_bounds_parse_like_zsl_parse_lex_range_item() {
    assert_eq!(LexBound::parse(b"-"), Ok(LexBound::Min));
    assert_eq!(LexBound::parse(b"+"), Ok(LexBound::Max));
    assert_eq!(LexBound::parse(b"[b"), Ok(LexBound::Inclusive(SmallBytes::from("b"))));
    assert_eq!(LexBound::parse(b"(b"), Ok(LexBound::Exclusive(SmallBytes::from("b"))));
    assert_eq!(LexBound::parse(b"("), Ok(LexBound::Exclusive(SmallBytes::EMPTY)));
    assert_eq!(LexBound::parse(b"+\0x"), Ok(LexBound::Max));
    for bad in [&b""[..], b"+a", b"-a", b"a"] {
        let error = LexBound::parse(bad).unwrap_err();
        assert_eq!(error.to_string(), "ERR min or max not valid string range item");
    }
}

fn score_range(min: &str, max: &str) -> ScoreRange {
    ScoreRange::parse(min.as_bytes(), max.as_bytes()).unwrap()
}

fn lex_range(min: &str, max: &str) -> LexRange {
    LexRange::parse(min.as_bytes(), max.as_bytes()).unwrap()
}

#[test]
fn score_ranges_count_and_list() {
    let set = zset(&[("a", 0.0), ("b", 1.0), ("c", 2.0), ("d", 3.0)]);
    let all = &ScoreRange::ALL;
    assert_eq!(set.count_in_score_range(all), 4);
    assert_eq!(set.count_in_score_range(&score_range("(0", "3")), 3);
    assert_eq!(set.count_in_score_range(&score_range("(1", "(1")), 0);
    assert_eq!(set.count_in_score_range(&score_range("1", "1")), 1);
    assert_eq!(set.count_in_score_range(&score_range("3", "1")), 0);
    assert_eq!(set.count_in_score_range(&score_range("1.5", "1.7")), 0);
    assert_eq!(
        names(&set.range_by_score(&score_range("", "+inf"), false, 0, -1)),
        ["a", "b", "c", "d"]
    );
    assert_eq!(
        names(&set.range_by_score(&score_range("(", "+inf"), false, 0, -1)),
        ["b", "c", "d"]
    );
    assert!(set.range_by_score(&score_range("1e400", "+inf"), false, 0, -1).is_empty());
    assert!(set.range_by_score(&score_range("(-inf", "(-inf"), false, 0, -1).is_empty());
    // LIMIT: negative offset -> nothing, count 0 -> nothing, negative count -> all.
    assert!(set.range_by_score(all, false, -1, 2).is_empty());
    assert!(set.range_by_score(all, false, 0, 0).is_empty());
    assert_eq!(names(&set.range_by_score(all, false, 1, -5)), ["b", "c", "d"]);
    assert!(set.range_by_score(all, false, 4, -5).is_empty());
    assert_eq!(names(&set.range_by_score(all, false, 1, 2)), ["b", "c"]);
    // ZRANGE z 5 1 BYSCORE REV LIMIT 1 2 on {a:1..e:5} -> d c
    let five = abcde();
    assert_eq!(names(&five.range_by_score(&score_range("1", "5"), true, 1, 2)), ["d", "c"]);
    assert_eq!(names(&five.range_by_score(&score_range("(1", "(4"), true, 0, -1)), ["c", "b"]);
    assert!(five.range_by_score(&score_range("1", "5"), true, 5, 1).is_empty());
}

#[test]
fn lex_ranges_count_and_list() {
    let set = zset(&[("a", 0.0), ("b", 0.0), ("c", 0.0), ("d", 0.0)]);
    assert_eq!(set.count_in_lex_range(&LexRange::ALL), 4);
    assert_eq!(set.count_in_lex_range(&lex_range("+", "-")), 0);
    assert_eq!(set.count_in_lex_range(&lex_range("-", "-")), 0);
    assert_eq!(set.count_in_lex_range(&lex_range("[b", "[b")), 1);
    assert_eq!(set.count_in_lex_range(&lex_range("(b", "[b")), 0);
    assert_eq!(names(&set.range_by_lex(&lex_range("[b", "+"), false, 0, -1)), ["b", "c", "d"]);
    assert_eq!(names(&set.range_by_lex(&lex_range("(b", "+"), false, 0, -1)), ["c", "d"]);
    assert_eq!(names(&set.range_by_lex(&lex_range("[", "+"), false, 0, -1)).len(), 4);
    assert!(set.range_by_lex(&lex_range("+", "+"), false, 0, -1).is_empty());
    assert!(set.range_by_lex(&LexRange::ALL, false, -1, 2).is_empty());
    assert_eq!(names(&set.range_by_lex(&lex_range("[a", "(d"), true, 1, 5)), ["b", "a"]);
}

#[test]
fn pops_take_from_each_end() {
    let mut set = abcde();
    assert_eq!(names(&set.pop_min(2)), ["a", "b"]);
    assert_eq!(names(&set.pop_max(2)), ["e", "d"]);
    assert_eq!(set.pop_max(10), vec![(SmallBytes::from("c"), 3.0)]);
    assert!(set.pop_min(1).is_empty());
    assert!(set.is_empty());
}

#[test]
fn remove_ranges() {
    let mut set = abcde();
    assert_eq!(set.remove_range_by_rank(-2, -1), 2);
    assert_eq!(names(&set.range_by_rank(0, -1, false)), ["a", "b", "c"]);
    assert_eq!(set.remove_range_by_rank(5, 7), 0);
    assert_eq!(set.remove_range_by_score(&score_range("(1", "2")), 1);
    assert_eq!(set.remove_range_by_score(&score_range("10", "20")), 0);
    assert_eq!(names(&set.range_by_rank(0, -1, false)), ["a", "c"]);
    let mut lex = zset(&[("a", 0.0), ("b", 0.0), ("c", 0.0), ("d", 0.0)]);
    assert_eq!(lex.remove_range_by_lex(&lex_range("(a", "[c")), 2);
    assert_eq!(names(&lex.range_by_rank(0, -1, false)), ["a", "d"]);
}

#[test]
fn random_members_follow_zrandmember() {
    let set = abcde();
    let mut rng = SmallRng::seed_from_u64(1);
    for count in 1..=4 {
        let picked = names(&set.random_members(count, &mut rng));
        let mut unique = picked.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), count as usize);
    }
    assert_eq!(names(&set.random_members(10, &mut rng)), ["a", "b", "c", "d", "e"]);
    assert_eq!(set.random_members(-20, &mut rng).len(), 20);
    assert!(set.random_members(0, &mut rng).is_empty());
    assert!(ZSetValue::new().random_members(-3, &mut rng).is_empty());
    let (member, score) = set.random_member(&mut rng).unwrap();
    assert_eq!(set.score(&member), Some(score));
}

#[test]
fn scan_returns_every_stable_member() {
    let members: Vec<String> = (0..1000).map(|i| format!("m{i}")).collect();
    let mut set: ZSetValue =
        members.iter().zip(0..).map(|(member, i)| (member.as_bytes(), f64::from(i))).collect();
    let mut seen = std::collections::HashSet::new();
    let mut cursor = 0;
    let mut calls = 0;
    loop {
        let (next, batch) = set.scan(cursor, 10);
        // Changes during the scan: members below 500 stay, others come and go.
        set.remove_one(format!("m{}", 500 + calls).as_bytes());
        set.add(format!("new{calls}").as_bytes(), 1.0, PLAIN).unwrap();
        seen.extend(batch.into_iter().map(|(member, _)| member));
        calls += 1;
        if next == 0 {
            break;
        }
        cursor = next;
    }
    for i in 0..500 {
        assert!(seen.contains(format!("m{i}").as_bytes()), "m{i} missed");
    }
    assert_eq!(ZSetValue::new().scan(0, 10), (0, Vec::new()));
    assert_eq!(set.scan(u64::MAX, 10), (0, Vec::new()));
}

#[test]
fn memory_grows_and_counts_long_members() {
    let mut set = ZSetValue::new();
    let empty = set.memory_bytes();
    let long = [b'x'; 100];
    set.add(&long, 1.0, PLAIN).unwrap();
    assert!(set.memory_bytes() >= empty + 100);
    for i in 0..1000u32 {
        set.add(&i.to_be_bytes(), f64::from(i), PLAIN).unwrap();
    }
    assert!(set.memory_bytes() > 1000 * 64);
}

struct PlainSet(Vec<&'static str>);

impl ZSetSource for PlainSet {
    fn member_count(&self) -> u64 {
        self.0.len() as u64
    }
    fn score_of(&self, member: &[u8]) -> Option<f64> {
        self.0.iter().any(|m| m.as_bytes() == member).then_some(1.0)
    }
    fn for_each_member(&self, visit: &mut dyn FnMut(&[u8], f64)) {
        self.0.iter().for_each(|m| visit(m.as_bytes(), 1.0));
    }
}

fn pairs(set: &ZSetValue) -> Vec<(String, f64)> {
    set.iter().map(|(member, score)| (String::from_utf8(member.to_vec()).unwrap(), score)).collect()
}

fn owned(expected: &[(&str, f64)]) -> Vec<(String, f64)> {
    expected.iter().map(|&(member, score)| (member.to_owned(), score)).collect()
}

#[test]
fn set_operations_match_redis_nan_rules() {
    let x = zset(&[("a", f64::INFINITY), ("b", 1.0)]);
    let y = zset(&[("a", f64::NEG_INFINITY), ("b", 2.0)]);
    let (xs, ys): (&dyn ZSetSource, &dyn ZSetSource) = (&x, &y);
    let sum = Aggregate::Sum;
    assert_eq!(
        pairs(&union(&[(Some(xs), 1.0), (Some(ys), 1.0)], sum)),
        owned(&[("a", 0.0), ("b", 3.0)])
    );
    assert_eq!(
        pairs(&union(&[(Some(xs), 0.0), (Some(ys), 1.0)], sum)),
        owned(&[("a", f64::NEG_INFINITY), ("b", 2.0)])
    );
    let weights_1_0 = [(Some(xs), 1.0), (Some(ys), 0.0)];
    assert_eq!(pairs(&intersection(&weights_1_0, sum)), owned(&[("a", 0.0), ("b", 1.0)]));
    assert_eq!(
        pairs(&intersection(&weights_1_0, Aggregate::Min)),
        owned(&[("b", 0.0), ("a", f64::INFINITY)])
    );
    assert_eq!(
        pairs(&intersection(&weights_1_0, Aggregate::Max)),
        owned(&[("b", 1.0), ("a", f64::INFINITY)])
    );
    let plain = PlainSet(vec!["a", "c"]);
    let plain: &dyn ZSetSource = &plain;
    assert_eq!(
        pairs(&union(&[(Some(xs), 1.0), (Some(plain), 1.0)], sum)),
        owned(&[("b", 1.0), ("c", 1.0), ("a", f64::INFINITY)])
    );
    assert_eq!(pairs(&difference(&[Some(xs), Some(plain)])), owned(&[("b", 1.0)]));
    assert_eq!(pairs(&difference(&[None, Some(plain)])), owned(&[]));
    assert_eq!(pairs(&difference(&[Some(xs), None])), pairs(&x));
    assert_eq!(intersection_cardinality(&[Some(xs), Some(ys)], 0), 2);
    assert_eq!(intersection_cardinality(&[Some(xs), Some(ys)], 1), 1);
    assert_eq!(intersection_cardinality(&[Some(xs), None], 0), 0);
    assert!(intersection(&[(Some(xs), 1.0), (None, 1.0)], sum).is_empty());
    assert_eq!(union(&[(None, 1.0)], sum), ZSetValue::new());
}

#[test]
fn debug_and_equality() {
    let set = zset(&[("b", 2.0), ("a", 1.0)]);
    assert_eq!(format!("{set:?}"), r#"{"a": 1.0, "b": 2.0}"#);
    assert_eq!(set.clone(), set);
    assert_ne!(set, zset(&[("a", 1.0), ("b", 3.0)]));
}
