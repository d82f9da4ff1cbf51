//! Cashless volume of a market or district (pure): credit counts and sums by kind, a daily series
//! with every day of a range (days without credits as zeros), and the today / 7 / 30 day figures
//! a board shows. The rows come from the daily rollups, so nothing here ever sees a credit.

use std::ops::{Add, AddAssign};

use super::day::Day;

/// A count of credits and their sum in whole đồng.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Credits.
    pub count: i64,
    /// Their sum, whole đồng.
    pub amount_dong: i64,
}

impl Add for Tally {
    type Output = Self;

    /// Saturating: a board figure never wraps around.
    fn add(self, other: Self) -> Self {
        Self {
            count: self.count.saturating_add(other.count),
            amount_dong: self.amount_dong.saturating_add(other.amount_dong),
        }
    }
}

impl AddAssign for Tally {
    fn add_assign(&mut self, other: Self) {
        *self = *self + other;
    }
}

/// Credits by how they were matched. Every credit is in exactly one kind: paid an order
/// (dynamic code), paid a stall's poster (static), waiting in suspense (unmatched), or given to a
/// stall after review (assigned; it left the unmatched figures when it was assigned).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Credits that carried an order's reference.
    pub dynamic: Tally,
    /// Credits to a stall's account without a reference.
    pub fixed: Tally,
    /// Credits no stall could be found for, still waiting.
    pub unmatched: Tally,
    /// Credits once unmatched, given to a stall after review.
    pub assigned: Tally,
}

impl Totals {
    /// Every credit.
    pub fn all(&self) -> Tally {
        self.matched() + self.unmatched
    }

    /// Credits that reached a stall: dynamic, static or assigned.
    pub fn matched(&self) -> Tally {
        self.dynamic + self.fixed + self.assigned
    }
}

impl Add for Totals {
    type Output = Self;

    fn add(self, other: Self) -> Self {
        Self {
            dynamic: self.dynamic + other.dynamic,
            fixed: self.fixed + other.fixed,
            unmatched: self.unmatched + other.unmatched,
            assigned: self.assigned + other.assigned,
        }
    }
}

impl AddAssign for Totals {
    fn add_assign(&mut self, other: Self) {
        *self = *self + other;
    }
}

impl std::iter::Sum for Totals {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Self::default(), Add::add)
    }
}

/// The days from `from` to `to` inclusive (none when `from` is after `to`).
pub fn days(from: Day, to: Day) -> impl Iterator<Item = Day> {
    std::iter::successors(Some(from), move |day| {
        let next = day.plus_days(1);
        (next > *day && next <= to).then_some(next)
    })
    .take_while(move |day| *day <= to)
}

/// One entry per day of `from..=to`, oldest first: the rows' totals of that day (rows of one day
/// are added up), zeros for a day without rows. Rows outside the range are left out.
pub fn series(from: Day, to: Day, rows: &[(Day, Totals)]) -> Vec<(Day, Totals)> {
    let mut filled: Vec<(Day, Totals)> = days(from, to).map(|d| (d, Totals::default())).collect();
    for (day, totals) in rows {
        // Days are consecutive, so a day's place is found by binary search on the sorted list.
        if let Ok(at) = filled.binary_search_by(|(d, _)| d.cmp(day)) {
            filled[at].1 += *totals;
        }
    }
    filled
}

/// The sum of the entries whose day is in `from..=to`.
pub fn total_between(series: &[(Day, Totals)], from: Day, to: Day) -> Totals {
    series
        .iter()
        .filter(|(day, _)| (from..=to).contains(day))
        .map(|(_, totals)| *totals)
        .sum()
}

/// What a board shows of the days just gone: today, the last 7 days and the last 30 (each window
/// ends with today).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recent {
    /// Today.
    pub today: Totals,
    /// Today and the 6 days before.
    pub week: Totals,
    /// Today and the 29 days before.
    pub month: Totals,
}

/// Days [`recent`] needs: today and the 29 before.
pub const RECENT_DAYS: i64 = 30;

/// The recent figures on `today` from a series that covers at least its last 30 days.
pub fn recent(series: &[(Day, Totals)], today: Day) -> Recent {
    Recent {
        today: total_between(series, today, today),
        week: total_between(series, today.plus_days(-6), today),
        month: total_between(series, today.plus_days(1 - RECENT_DAYS), today),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(number: i64) -> Day {
        Day::from_number(number).unwrap()
    }

    fn tally(count: i64, amount_dong: i64) -> Tally {
        Tally { count, amount_dong }
    }

    #[test]
    fn every_credit_is_in_one_kind() {
        let totals = Totals {
            dynamic: tally(2, 100_000),
            fixed: tally(1, 20_000),
            unmatched: tally(1, 5_000),
            assigned: tally(1, 7_000),
        };
        assert_eq!(totals.matched(), tally(4, 127_000));
        assert_eq!(totals.all(), tally(5, 132_000));
    }

    #[test]
    fn a_series_has_every_day_and_zeros_where_nothing_was_paid() {
        let rows = vec![
            (
                day(20261130),
                Totals {
                    fixed: tally(1, 10_000),
                    ..Totals::default()
                },
            ),
            (
                day(20261130),
                Totals {
                    dynamic: tally(2, 50_000),
                    ..Totals::default()
                },
            ),
            (
                day(20261202),
                Totals {
                    unmatched: tally(1, 1_000),
                    ..Totals::default()
                },
            ),
            (
                day(20261203),
                Totals {
                    fixed: tally(9, 9),
                    ..Totals::default()
                },
            ),
        ];
        let filled = series(day(20261129), day(20261202), &rows);
        let shown: Vec<(String, i64, i64)> = filled
            .iter()
            .map(|(d, t)| (d.to_string(), t.all().count, t.all().amount_dong))
            .collect();
        assert_eq!(
            shown,
            vec![
                ("2026-11-29".to_owned(), 0, 0),
                ("2026-11-30".to_owned(), 3, 60_000),
                ("2026-12-01".to_owned(), 0, 0),
                ("2026-12-02".to_owned(), 1, 1_000),
            ]
        );
        assert!(series(day(20261202), day(20261201), &rows).is_empty());
    }

    #[test]
    fn recent_windows_end_today() {
        let today = day(20261123);
        let rows: Vec<(Day, Totals)> = (0..40)
            .map(|back| {
                (
                    today.plus_days(-back),
                    Totals {
                        fixed: tally(1, 1_000),
                        ..Totals::default()
                    },
                )
            })
            .collect();
        let filled = series(today.plus_days(-39), today, &rows);
        let figures = recent(&filled, today);
        assert_eq!(figures.today.all(), tally(1, 1_000));
        assert_eq!(figures.week.all(), tally(7, 7_000));
        assert_eq!(figures.month.all(), tally(30, 30_000));
    }

    fn any_totals() -> impl Strategy<Value = Totals> {
        let t = || (0_i64..1_000, 0_i64..1_000_000_000).prop_map(|(c, a)| tally(c, a));
        (t(), t(), t(), t()).prop_map(|(dynamic, fixed, unmatched, assigned)| Totals {
            dynamic,
            fixed,
            unmatched,
            assigned,
        })
    }

    proptest! {
        #[test]
        fn a_series_keeps_every_dong_of_its_range(
            start in 0_i64..4000,
            length in 0_i64..400,
            rows in proptest::collection::vec((-30_i64..430, any_totals()), 0..200),
        ) {
            let from = day(20240101).plus_days(start);
            let to = from.plus_days(length);
            let rows: Vec<(Day, Totals)> =
                rows.into_iter().map(|(offset, t)| (from.plus_days(offset), t)).collect();
            let filled = series(from, to, &rows);
            prop_assert_eq!(i64::try_from(filled.len()).unwrap(), length + 1);
            prop_assert!(filled.windows(2).all(|w| w[1].0 == w[0].0.plus_days(1)));
            let inside: Totals =
                rows.iter().filter(|(d, _)| (from..=to).contains(d)).map(|(_, t)| *t).sum();
            prop_assert_eq!(total_between(&filled, from, to), inside);
            prop_assert_eq!(inside.all(), inside.matched() + inside.unmatched);
        }

        #[test]
        fn the_windows_nest(rows in proptest::collection::vec((0_i64..60, any_totals()), 0..100)) {
            let today = day(20261123);
            let rows: Vec<(Day, Totals)> =
                rows.into_iter().map(|(back, t)| (today.plus_days(-back), t)).collect();
            let filled = series(today.plus_days(-59), today, &rows);
            let figures = recent(&filled, today);
            let le = |a: Tally, b: Tally| a.count <= b.count && a.amount_dong <= b.amount_dong;
            prop_assert!(le(figures.today.all(), figures.week.all()));
            prop_assert!(le(figures.week.all(), figures.month.all()));
        }
    }
}
