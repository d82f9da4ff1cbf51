//! Calendar days as markets live them: Vietnam time (UTC+7, no daylight saving), written as
//! `YYYYMMDD` integers so rollups index and sort them cheaply.

use time::{Date, Month, OffsetDateTime, UtcOffset};

/// Vietnam's offset from UTC, in seconds.
pub const VIETNAM_OFFSET_S: i32 = 7 * 3600;

/// A Vietnam calendar day, `YYYYMMDD` (e.g. `20261123`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(i64);

fn vietnam() -> UtcOffset {
    UtcOffset::from_whole_seconds(VIETNAM_OFFSET_S).unwrap_or(UtcOffset::UTC)
}

impl Day {
    /// The Vietnam day containing this instant (UTC milliseconds since the epoch).
    pub fn of_ms(ms: i64) -> Self {
        let at = OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
            .to_offset(vietnam());
        Self::from_date(at.date())
    }

    fn from_date(date: Date) -> Self {
        let month = i64::from(u8::from(date.month()));
        Self(i64::from(date.year()) * 10_000 + month * 100 + i64::from(date.day()))
    }

    /// Reads an ISO `YYYY-MM-DD` or a stored `YYYYMMDD`; nothing else (`2026-1-123` is no day).
    pub fn parse(text: &str) -> Option<Self> {
        let digits: String = match text.as_bytes() {
            [_, _, _, _, b'-', _, _, b'-', _, _] => text.chars().filter(|c| *c != '-').collect(),
            bytes if bytes.len() == 8 => text.to_owned(),
            _ => return None,
        };
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let number: i64 = digits.parse().ok()?;
        Self::from_number(number)
    }

    /// Checks a stored `YYYYMMDD` number.
    pub fn from_number(number: i64) -> Option<Self> {
        let year = i32::try_from(number / 10_000).ok()?;
        let month = Month::try_from(u8::try_from(number / 100 % 100).ok()?).ok()?;
        let day = u8::try_from(number % 100).ok()?;
        Date::from_calendar_date(year, month, day)
            .ok()
            .map(Self::from_date)
    }

    /// The stored form.
    pub fn number(self) -> i64 {
        self.0
    }

    /// The first instant of this day, UTC milliseconds.
    pub fn start_ms(self) -> i64 {
        self.date()
            .map(|d| (d.midnight().assume_offset(vietnam()).unix_timestamp()) * 1000)
            .unwrap_or(0)
    }

    fn date(self) -> Option<Date> {
        let year = i32::try_from(self.0 / 10_000).ok()?;
        let month = Month::try_from(u8::try_from(self.0 / 100 % 100).ok()?).ok()?;
        Date::from_calendar_date(year, month, u8::try_from(self.0 % 100).ok()?).ok()
    }

    /// How many days from this day to `later` (negative when `later` is earlier).
    pub fn days_until(self, later: Self) -> i64 {
        match (self.date(), later.date()) {
            (Some(a), Some(b)) => (b - a).whole_days(),
            _ => 0,
        }
    }

    /// The day `days` later (or earlier, when negative).
    pub fn plus_days(self, days: i64) -> Self {
        self.date()
            .and_then(|d| d.checked_add(time::Duration::days(days)))
            .map_or(self, Self::from_date)
    }
}

impl std::fmt::Display for Day {
    /// `YYYY-MM-DD`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.0;
        write!(f, "{:04}-{:02}-{:02}", n / 10_000, n / 100 % 100, n % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn vietnam_midnight_is_17_utc() {
        // 2026-11-22T16:59:59Z is still the 22nd in Hà Nội; 17:00Z is the 23rd.
        assert_eq!(Day::of_ms(1_795_366_799_000).number(), 20_261_122);
        assert_eq!(Day::of_ms(1_795_366_800_000).number(), 20_261_123);
        assert_eq!(Day::of_ms(1_795_366_800_000).to_string(), "2026-11-23");
        assert_eq!(
            Day::parse("2026-11-23").map(Day::start_ms),
            Some(1_795_366_800_000)
        );
        assert_eq!(Day::parse("20261123"), Day::parse("2026-11-23"));
        assert_eq!(Day::parse("2026-02-30"), None);
        assert_eq!(Day::parse("junk"), None);
        assert_eq!(Day::parse("2026-1-123"), None);
        assert_eq!(Day::parse("2026-11-2"), None);
        assert_eq!(Day::parse("+2026-11-23"), None);
        assert_eq!(
            Day::parse("2026-11-01").map(|d| d.days_until(Day::parse("2026-12-01").unwrap())),
            Some(30)
        );
    }

    #[test]
    fn days_step_across_months_and_years() {
        let d = Day::parse("2026-12-31").unwrap();
        assert_eq!(d.plus_days(1).to_string(), "2027-01-01");
        assert_eq!(d.plus_days(-31).to_string(), "2026-11-30");
    }

    proptest! {
        #[test]
        fn every_instant_lies_in_its_day(ms in 0_i64..4_102_444_800_000) {
            let day = Day::of_ms(ms);
            prop_assert!(day.start_ms() <= ms);
            prop_assert!(ms < day.plus_days(1).start_ms());
            prop_assert_eq!(Day::from_number(day.number()), Some(day));
        }
    }
}
