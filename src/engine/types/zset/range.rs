//! Score and lexicographic ranges (ZRANGEBYSCORE, ZRANGEBYLEX, ZCOUNT, ZLEXCOUNT, ...) and
//! their argument parsers, with Redis 7.0's acceptance rules and error texts.

use std::cmp::Ordering;

use crate::engine::num::parse_f64_prefix;
use crate::engine::{Error, Result, SmallBytes};

/// Redis's reply when a score bound does not parse.
pub const SCORE_RANGE_ERROR: Error = Error::Other("ERR min or max is not a float");
/// Redis's reply when a lex bound does not parse.
pub const LEX_RANGE_ERROR: Error = Error::Other("ERR min or max not valid string range item");

/// One end of a score range: `5` (inclusive), `(5` (exclusive), `-inf`, `+inf`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreBound {
    /// The bound's score; never NaN.
    pub value: f64,
    /// `(` prefix: the bound itself is outside the range.
    pub exclusive: bool,
}

impl ScoreBound {
    /// An inclusive bound.
    pub fn inclusive(value: f64) -> ScoreBound {
        ScoreBound { value, exclusive: false }
    }

    /// An exclusive bound.
    pub fn exclusive(value: f64) -> ScoreBound {
        ScoreBound { value, exclusive: true }
    }

    /// Parses a bound as Redis's `zslParseRange`: an optional `(`, then whatever a bare C
    /// `strtod` reads up to the first NUL byte. So `" 5"`, `""` (0) and `1e400` (inf) are
    /// accepted; NaN and trailing bytes are refused with `ERR min or max is not a float`.
    pub fn parse(bytes: &[u8]) -> Result<ScoreBound> {
        let (exclusive, number) = match bytes.split_first() {
            Some((b'(', rest)) => (true, rest),
            _ => (false, bytes),
        };
        let value = parse_f64_prefix(number).ok_or(SCORE_RANGE_ERROR)?;
        Ok(ScoreBound { value, exclusive })
    }
}

/// A score interval `min..max` with open or closed ends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreRange {
    /// Lower end.
    pub min: ScoreBound,
    /// Upper end.
    pub max: ScoreBound,
}

impl ScoreRange {
    /// Every score, `-inf +inf`.
    pub const ALL: ScoreRange = ScoreRange {
        min: ScoreBound { value: f64::NEG_INFINITY, exclusive: false },
        max: ScoreBound { value: f64::INFINITY, exclusive: false },
    };

    /// Parses `min` and `max` arguments (in that order; REV commands swap before calling).
    pub fn parse(min: &[u8], max: &[u8]) -> Result<ScoreRange> {
        Ok(ScoreRange { min: ScoreBound::parse(min)?, max: ScoreBound::parse(max)? })
    }

    /// No score can be inside (Redis's `zslIsInRange` first test).
    pub fn is_empty(&self) -> bool {
        self.min.value > self.max.value
            || (self.min.value == self.max.value && (self.min.exclusive || self.max.exclusive))
    }

    /// `score` is not below the lower end (`zslValueGteMin`).
    pub fn above_min(&self, score: f64) -> bool {
        if self.min.exclusive { score > self.min.value } else { score >= self.min.value }
    }

    /// `score` is not above the upper end (`zslValueLteMax`).
    pub fn below_max(&self, score: f64) -> bool {
        if self.max.exclusive { score < self.max.value } else { score <= self.max.value }
    }
}

/// One end of a lexicographic range: `-`, `+`, `[member` or `(member`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LexBound {
    /// `-`: before every member.
    Min,
    /// `+`: after every member.
    Max,
    /// `[member`: the member itself is inside.
    Inclusive(SmallBytes),
    /// `(member`: the member itself is outside.
    Exclusive(SmallBytes),
}

impl LexBound {
    /// Parses a bound as Redis's `zslParseLexRangeItem`. Anything else, including the empty
    /// string and `+x`, is `ERR min or max not valid string range item`. As in Redis, which
    /// reads a C string, `-` and `+` may be followed by a NUL byte and anything.
    pub fn parse(bytes: &[u8]) -> Result<LexBound> {
        let c_string_ends = |at: usize| bytes.get(at).is_none_or(|&byte| byte == 0);
        match bytes.first() {
            Some(b'-') if c_string_ends(1) => Ok(LexBound::Min),
            Some(b'+') if c_string_ends(1) => Ok(LexBound::Max),
            Some(b'[') => Ok(LexBound::Inclusive(SmallBytes::new(&bytes[1..]))),
            Some(b'(') => Ok(LexBound::Exclusive(SmallBytes::new(&bytes[1..]))),
            _ => Err(LEX_RANGE_ERROR),
        }
    }

    /// `-` and `+` count as exclusive, as in Redis (so `- -` is an empty range).
    fn is_exclusive(&self) -> bool {
        !matches!(self, LexBound::Inclusive(_))
    }

    /// How `member` compares with this bound (Redis's `sdscmplex` against it).
    fn compare(&self, member: &[u8]) -> Ordering {
        match self {
            LexBound::Min => Ordering::Greater,
            LexBound::Max => Ordering::Less,
            LexBound::Inclusive(bound) | LexBound::Exclusive(bound) => member.cmp(bound),
        }
    }
}

/// A lexicographic member interval. Meaningful when all scores are equal, as in Redis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexRange {
    /// Lower end.
    pub min: LexBound,
    /// Upper end.
    pub max: LexBound,
}

impl LexRange {
    /// Every member, `- +`.
    pub const ALL: LexRange = LexRange { min: LexBound::Min, max: LexBound::Max };

    /// Parses `min` and `max` arguments (in that order; REV commands swap before calling).
    pub fn parse(min: &[u8], max: &[u8]) -> Result<LexRange> {
        Ok(LexRange { min: LexBound::parse(min)?, max: LexBound::parse(max)? })
    }

    /// No member can be inside (Redis's `zslIsInLexRange` first test).
    pub fn is_empty(&self) -> bool {
        let order = match (&self.min, &self.max) {
            (LexBound::Min, LexBound::Min) | (LexBound::Max, LexBound::Max) => Ordering::Equal,
            (LexBound::Min, _) | (_, LexBound::Max) => Ordering::Less,
            (LexBound::Max, _) | (_, LexBound::Min) => Ordering::Greater,
            (
                LexBound::Inclusive(min) | LexBound::Exclusive(min),
                LexBound::Inclusive(max) | LexBound::Exclusive(max),
            ) => min.cmp(max),
        };
        order == Ordering::Greater
            || (order == Ordering::Equal && (self.min.is_exclusive() || self.max.is_exclusive()))
    }

    /// `member` is not below the lower end (`zslLexValueGteMin`).
    pub fn above_min(&self, member: &[u8]) -> bool {
        let order = self.min.compare(member);
        if self.min.is_exclusive() { order == Ordering::Greater } else { order != Ordering::Less }
    }

    /// `member` is not above the upper end (`zslLexValueLteMax`).
    pub fn below_max(&self, member: &[u8]) -> bool {
        let order = self.max.compare(member);
        if self.max.is_exclusive() { order == Ordering::Less } else { order != Ordering::Greater }
    }
}
