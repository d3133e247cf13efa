//! Turning Redis's TTL arguments into absolute deadlines, with Redis's overflow rules.

use crate::engine::error::{Error, Result};

/// A TTL argument as SET, GETEX and friends take it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// `EX seconds`: relative, in seconds.
    Seconds(i64),
    /// `PX milliseconds`: relative, in milliseconds.
    Milliseconds(i64),
    /// `EXAT timestamp`: absolute Unix time in seconds.
    AtSeconds(i64),
    /// `PXAT timestamp`: absolute Unix time in milliseconds.
    AtMilliseconds(i64),
}

/// The unit of an EXPIRE-family amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    /// EXPIRE, EXPIREAT.
    Seconds,
    /// PEXPIRE, PEXPIREAT.
    Milliseconds,
}

/// EXPIRE's NX / XX / GT / LT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExpireCondition {
    /// Always set.
    #[default]
    Always,
    /// Only when the key has no TTL.
    Nx,
    /// Only when the key has a TTL.
    Xx,
    /// Only when the new deadline is later (a key without TTL counts as infinite).
    Gt,
    /// Only when the new deadline is earlier (a key without TTL counts as infinite).
    Lt,
    /// `XX LT` together: only when the key has a TTL and the new deadline is earlier. (`XX GT`
    /// is plain [`Gt`](Self::Gt), which already needs a TTL; NX combines with nothing.)
    XxLt,
}

impl Expiry {
    /// The absolute deadline in Unix ms, checked as Redis's `getExpireMillisecondsOrReply`
    /// does: the amount must be positive and the result must not overflow.
    pub fn deadline_ms(self, now_ms: u64, command: &'static str) -> Result<u64> {
        let invalid = Error::InvalidExpireTime(command);
        let (amount, seconds, relative) = match self {
            Expiry::Seconds(amount) => (amount, true, true),
            Expiry::Milliseconds(amount) => (amount, false, true),
            Expiry::AtSeconds(amount) => (amount, true, false),
            Expiry::AtMilliseconds(amount) => (amount, false, false),
        };
        if amount <= 0 || (seconds && amount > i64::MAX / 1000) {
            return Err(invalid);
        }
        let mut milliseconds = if seconds { amount * 1000 } else { amount };
        if relative {
            milliseconds = milliseconds.checked_add(now_ms as i64).ok_or(invalid)?;
        }
        Ok(milliseconds as u64)
    }
}

/// The deadline EXPIRE-family commands compute, with `expireGenericCommand`'s checks. Returns
/// a signed value: at or below `now_ms` means "delete the key now".
pub fn expire_deadline_ms(
    amount: i64,
    unit: TimeUnit,
    relative: bool,
    now_ms: u64,
    command: &'static str,
) -> Result<i64> {
    let invalid = Error::InvalidExpireTime(command);
    let mut when = amount;
    if unit == TimeUnit::Seconds {
        if !(i64::MIN / 1000..=i64::MAX / 1000).contains(&when) {
            return Err(invalid);
        }
        when *= 1000;
    }
    if relative {
        if when > i64::MAX - now_ms as i64 {
            return Err(invalid);
        }
        when += now_ms as i64;
    }
    Ok(when)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_style_deadlines() {
        assert_eq!(Expiry::Seconds(10).deadline_ms(1_000, "set"), Ok(11_000));
        assert_eq!(Expiry::Milliseconds(10).deadline_ms(1_000, "set"), Ok(1_010));
        assert_eq!(Expiry::AtSeconds(5).deadline_ms(1_000, "set"), Ok(5_000));
        assert_eq!(Expiry::AtMilliseconds(5).deadline_ms(1_000, "set"), Ok(5));
        for bad in [Expiry::Seconds(0), Expiry::Milliseconds(-1), Expiry::Seconds(i64::MAX)] {
            assert_eq!(bad.deadline_ms(1_000, "set"), Err(Error::InvalidExpireTime("set")));
        }
        assert!(Expiry::Milliseconds(i64::MAX).deadline_ms(1_000, "set").is_err());
    }

    #[test]
    fn expire_style_deadlines() {
        let now = 1_000;
        assert_eq!(expire_deadline_ms(-5, TimeUnit::Seconds, true, now, "expire"), Ok(-4_000));
        assert!(expire_deadline_ms(i64::MAX, TimeUnit::Seconds, true, now, "expire").is_err());
        assert!(expire_deadline_ms(i64::MAX, TimeUnit::Milliseconds, true, now, "x").is_err());
        assert_eq!(expire_deadline_ms(7, TimeUnit::Milliseconds, false, now, "x"), Ok(7));
    }
}
