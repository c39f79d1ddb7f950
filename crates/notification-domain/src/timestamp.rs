//! The one place the domain reads the clock.
//!
//! Timestamps are kept at microsecond precision: that is what PostgreSQL stores,
//! so a notification reads back from either database exactly as it was created.

use time::OffsetDateTime;

/// The current UTC time, truncated to whole microseconds.
pub fn now() -> OffsetDateTime {
    truncate_to_micros(OffsetDateTime::now_utc())
}

/// Drops the sub-microsecond part of `at`.
pub fn truncate_to_micros(at: OffsetDateTime) -> OffsetDateTime {
    let nanos = at.nanosecond();
    at.replace_nanosecond(nanos - nanos % 1_000).unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn truncation_keeps_microseconds_and_drops_nanoseconds() {
        let at = datetime!(2025-12-31 18:00:00.123_456_789 UTC);
        assert_eq!(
            truncate_to_micros(at),
            datetime!(2025-12-31 18:00:00.123_456 UTC)
        );
    }

    #[test]
    fn now_has_no_sub_microsecond_part() {
        assert_eq!(now().nanosecond() % 1_000, 0);
    }
}
