//! Adoption figures of a market (pure): stalls registered, with a linked account, equipped
//! (account and a current poster) and active (a credit within the window), each with an exact
//! percentage, and the stalls the field teams should visit next, with the reason.

use super::day::Day;
use super::poster::PosterStatus;
use super::stall::code_order;

/// What the figures need to know of one stall.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StallFacts {
    /// Stall id.
    pub id: i64,
    /// Stall code.
    pub code: String,
    /// Its poster, as [`PosterStatus::of`] tells it.
    pub poster: PosterStatus,
    /// The Vietnam day of its latest credit, if any.
    pub last_credit_day: Option<Day>,
}

/// A share of a whole, as a board prints it: one decimal, rounded half up (321/328 → `97.9`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Share {
    /// The part.
    pub count: u64,
    /// The whole.
    pub of: u64,
}

impl Share {
    /// Tenths of a percent, rounded half up; `None` for a share of nothing.
    pub fn tenths(self) -> Option<u64> {
        if self.of == 0 {
            return None;
        }
        // round(count × 1000 / of) half up = ⌊(2 × count × 1000 + of) / (2 × of)⌋, in u128 so
        // nothing overflows.
        let count = u128::from(self.count);
        let of = u128::from(self.of);
        u64::try_from((2 * count * 1000 + of) / (2 * of)).ok()
    }

    /// `97.9`, `100.0`, or `0.0` for a share of nothing.
    pub fn percent(self) -> String {
        let tenths = self.tenths().unwrap_or(0);
        format!("{}.{}", tenths / 10, tenths % 10)
    }
}

/// Why a stall is on the visit list, most urgent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum VisitReason {
    /// No bank account is linked.
    NoAccount,
    /// An account is linked but no poster was ever printed.
    NoPoster,
    /// The poster was printed for an account that was replaced since.
    StalePoster,
    /// Equipped, but no cashless payment within the window.
    Inactive,
}

impl VisitReason {
    /// Its name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoAccount => "no_account",
            Self::NoPoster => "no_poster",
            Self::StalePoster => "stale_poster",
            Self::Inactive => "inactive",
        }
    }

    /// What the team should do, in Vietnamese.
    pub fn advice(self) -> &'static str {
        match self {
            Self::NoAccount => "Chưa liên kết tài khoản ngân hàng",
            Self::NoPoster => "Chưa in mã QR",
            Self::StalePoster => "Mã QR cũ, cần in lại",
            Self::Inactive => "Chưa nhận thanh toán không tiền mặt gần đây",
        }
    }
}

/// Why a stall needs a visit, if it does: no account, no poster, a stale poster, or equipped but
/// not `active`.
pub fn visit_reason(poster: PosterStatus, active: bool) -> Option<VisitReason> {
    match poster {
        PosterStatus::None => Some(VisitReason::NoAccount),
        PosterStatus::Missing => Some(VisitReason::NoPoster),
        PosterStatus::Stale => Some(VisitReason::StalePoster),
        PosterStatus::Current if !active => Some(VisitReason::Inactive),
        PosterStatus::Current => None,
    }
}

/// A market's adoption on a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adoption {
    /// Stalls registered.
    pub registered: u64,
    /// Stalls with a linked account.
    pub linked: Share,
    /// Stalls with an account and a current poster.
    pub equipped: Share,
    /// Stalls with a credit within the window.
    pub active: Share,
    /// How many stalls need a visit: not equipped, or equipped and not active.
    pub to_visit: u64,
    /// The stalls to visit, by reason then code: (id, code, reason); empty when the stalls were
    /// only counted ([`counted`]).
    pub visits: Vec<(i64, String, VisitReason)>,
}

/// Stalls alike in everything the figures count: their poster and whether they are active.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// Their poster.
    pub poster: PosterStatus,
    /// Whether they had a credit within the window.
    pub active: bool,
    /// How many.
    pub stalls: u64,
}

/// The figures of stalls counted in groups (a district's or the campaign's boards, which show
/// counts and shares, not the stalls): the same counts as [`adoption`], no visit list.
pub fn counted(tallies: &[Tally]) -> Adoption {
    let sum = |keep: &dyn Fn(&Tally) -> bool| -> u64 {
        tallies
            .iter()
            .filter(|t| keep(t))
            .fold(0, |sum, t| sum.saturating_add(t.stalls))
    };
    let registered = sum(&|_| true);
    let share = |count: u64| Share {
        count,
        of: registered,
    };
    Adoption {
        registered,
        linked: share(sum(&|t| t.poster != PosterStatus::None)),
        equipped: share(sum(&|t| t.poster == PosterStatus::Current)),
        active: share(sum(&|t| t.active)),
        to_visit: sum(&|t| visit_reason(t.poster, t.active).is_some()),
        visits: Vec::new(),
    }
}

/// The figures of `stalls` on `today`, a stall being active when its latest credit is at most
/// `window_days - 1` days before `today` (a window of 30 days: today and the 29 before).
pub fn adoption(stalls: &[StallFacts], today: Day, window_days: i64) -> Adoption {
    let since = today.plus_days(1 - window_days.max(1));
    let registered = u64::try_from(stalls.len()).unwrap_or(u64::MAX);
    let share = |count: usize| Share {
        count: u64::try_from(count).unwrap_or(u64::MAX),
        of: registered,
    };
    let active = |s: &StallFacts| s.last_credit_day.is_some_and(|day| day >= since);
    let mut visits: Vec<(i64, String, VisitReason)> = stalls
        .iter()
        .filter_map(|s| {
            visit_reason(s.poster, active(s)).map(|reason| (s.id, s.code.clone(), reason))
        })
        .collect();
    visits.sort_by(|a, b| {
        a.2.cmp(&b.2)
            .then_with(|| code_order(&a.1, &b.1))
            .then(a.0.cmp(&b.0))
    });
    Adoption {
        registered,
        linked: share(
            stalls
                .iter()
                .filter(|s| s.poster != PosterStatus::None)
                .count(),
        ),
        equipped: share(
            stalls
                .iter()
                .filter(|s| s.poster == PosterStatus::Current)
                .count(),
        ),
        active: share(stalls.iter().filter(|s| active(s)).count()),
        to_visit: u64::try_from(visits.len()).unwrap_or(u64::MAX),
        visits,
    }
}

impl Share {
    fn plus(self, other: Self) -> Self {
        Self {
            count: self.count.saturating_add(other.count),
            of: self.of.saturating_add(other.of),
        }
    }
}

/// A district's figures from its markets': counts and wholes added (so percentages weigh each
/// market by its stalls), visit lists one after the other in the order given.
pub fn combined(markets: &[Adoption]) -> Adoption {
    let none = Share { count: 0, of: 0 };
    markets.iter().fold(
        Adoption {
            registered: 0,
            linked: none,
            equipped: none,
            active: none,
            to_visit: 0,
            visits: Vec::new(),
        },
        |mut sum, market| {
            sum.registered = sum.registered.saturating_add(market.registered);
            sum.linked = sum.linked.plus(market.linked);
            sum.equipped = sum.equipped.plus(market.equipped);
            sum.active = sum.active.plus(market.active);
            sum.to_visit = sum.to_visit.saturating_add(market.to_visit);
            sum.visits.extend(market.visits.iter().cloned());
            sum
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(number: i64) -> Day {
        Day::from_number(number).unwrap()
    }

    #[test]
    fn the_campaign_figures_round_as_reported() {
        assert_eq!(
            Share {
                count: 321,
                of: 328
            }
            .percent(),
            "97.9"
        );
        assert_eq!(Share { count: 56, of: 56 }.percent(), "100.0");
        assert_eq!(Share { count: 0, of: 0 }.percent(), "0.0");
        // Half up: 1/8 = 12.5 %, 1/16 = 6.25 % → 6.3, 1/3 = 33.33 % → 33.3, 2/3 → 66.7.
        assert_eq!(Share { count: 1, of: 8 }.percent(), "12.5");
        assert_eq!(Share { count: 1, of: 16 }.percent(), "6.3");
        assert_eq!(Share { count: 1, of: 3 }.percent(), "33.3");
        assert_eq!(Share { count: 2, of: 3 }.percent(), "66.7");
        assert_eq!(Share { count: 1, of: 2000 }.percent(), "0.1");
        assert_eq!(Share { count: 1, of: 2001 }.percent(), "0.0");
    }

    #[test]
    fn every_stall_not_equipped_and_active_is_on_the_visit_list_with_its_reason() {
        let today = day(20261124);
        let stall = |id: i64, poster: PosterStatus, last: Option<i64>| StallFacts {
            id,
            code: format!("A{id:02}"),
            poster,
            last_credit_day: last.map(day),
        };
        let stalls = vec![
            stall(1, PosterStatus::Current, Some(20261124)),
            stall(2, PosterStatus::Current, Some(20261026)), // 29 days before: still active
            stall(3, PosterStatus::Current, Some(20261025)), // 30 days before: inactive
            stall(4, PosterStatus::Stale, Some(20261124)),
            stall(5, PosterStatus::Missing, None),
            stall(6, PosterStatus::None, None),
        ];
        let figures = adoption(&stalls, today, 30);
        assert_eq!(figures.registered, 6);
        assert_eq!(figures.linked.count, 5);
        assert_eq!(figures.equipped.count, 3);
        assert_eq!(figures.active.count, 3);
        let visits: Vec<(&str, VisitReason)> = figures
            .visits
            .iter()
            .map(|(_, code, reason)| (code.as_str(), *reason))
            .collect();
        assert_eq!(
            visits,
            vec![
                ("A06", VisitReason::NoAccount),
                ("A05", VisitReason::NoPoster),
                ("A04", VisitReason::StalePoster),
                ("A03", VisitReason::Inactive),
            ]
        );
    }

    #[test]
    fn a_district_weighs_each_market_by_its_stalls() {
        let market = |count: u64, of: u64| Adoption {
            registered: of,
            linked: Share { count, of },
            equipped: Share { count, of },
            active: Share { count: 0, of },
            to_visit: 1,
            visits: vec![(of.cast_signed(), "X".to_owned(), VisitReason::NoAccount)],
        };
        let ba_vi = combined(&[market(56, 56), market(321, 328)]);
        assert_eq!(ba_vi.registered, 384);
        assert_eq!(
            ba_vi.linked,
            Share {
                count: 377,
                of: 384
            }
        );
        assert_eq!(ba_vi.linked.percent(), "98.2");
        assert_eq!(ba_vi.active.percent(), "0.0");
        assert_eq!(ba_vi.visits.len(), 2);
        assert_eq!(ba_vi.to_visit, 2);
        assert_eq!(combined(&[]).linked.percent(), "0.0");
    }

    fn poster() -> impl Strategy<Value = PosterStatus> {
        prop_oneof![
            Just(PosterStatus::None),
            Just(PosterStatus::Missing),
            Just(PosterStatus::Current),
            Just(PosterStatus::Stale),
        ]
    }

    proptest! {
        #[test]
        fn a_percentage_is_the_nearest_tenth_and_never_decreases_with_the_count(
            count in 0u64..5000, extra in 0u64..5000, of in 1u64..10_000,
        ) {
            let count = count.min(of);
            let tenths = Share { count, of }.tenths().unwrap();
            // |tenths/1000 − count/of| ≤ 1/2000, in integers.
            let exact = i128::from(count) * 1000;
            let scaled = i128::from(tenths) * i128::from(of);
            prop_assert!((2 * (scaled - exact)).abs() <= i128::from(of));
            let more = (count + extra).min(of);
            let more_tenths = Share { count: more, of }.tenths().unwrap();
            prop_assert!(more_tenths >= tenths);
            prop_assert!(tenths <= 1000);
        }

        #[test]
        fn figures_nest_and_the_visit_list_is_everyone_else(
            facts in proptest::collection::vec((poster(), proptest::option::of(0i64..60)), 0..80),
            window in 1i64..60,
        ) {
            let today = day(20261124);
            let stalls: Vec<StallFacts> = facts
                .iter()
                .enumerate()
                .map(|(i, (poster, ago))| StallFacts {
                    id: i64::try_from(i).unwrap(),
                    code: format!("S{i:03}"),
                    poster: *poster,
                    last_credit_day: ago.map(|a| today.plus_days(-a)),
                })
                .collect();
            let figures = adoption(&stalls, today, window);
            prop_assert!(figures.equipped.count <= figures.linked.count);
            prop_assert!(figures.linked.count <= figures.registered);
            prop_assert!(figures.active.count <= figures.registered);
            let fine = stalls
                .iter()
                .filter(|s| s.poster == PosterStatus::Current
                    && s.last_credit_day.is_some_and(|d| d >= today.plus_days(1 - window)))
                .count();
            prop_assert_eq!(figures.visits.len() + fine, stalls.len());
            prop_assert_eq!(figures.to_visit, u64::try_from(figures.visits.len()).unwrap());
        }

        #[test]
        fn counting_stalls_in_groups_gives_the_figures_of_listing_them(
            facts in proptest::collection::vec((poster(), proptest::option::of(0i64..60)), 0..80),
            window in 1i64..60,
        ) {
            let today = day(20261124);
            let since = today.plus_days(1 - window);
            let stalls: Vec<StallFacts> = facts
                .iter()
                .enumerate()
                .map(|(i, (poster, ago))| StallFacts {
                    id: i64::try_from(i).unwrap(),
                    code: format!("S{i:03}"),
                    poster: *poster,
                    last_credit_day: ago.map(|a| today.plus_days(-a)),
                })
                .collect();
            // Grouped as the database groups them, in any order, one group per stall or fewer.
            let mut tallies: Vec<Tally> = Vec::new();
            for s in &stalls {
                let active = s.last_credit_day.is_some_and(|d| d >= since);
                match tallies.iter_mut().find(|t| t.poster == s.poster && t.active == active) {
                    Some(t) => t.stalls += 1,
                    None => tallies.push(Tally { poster: s.poster, active, stalls: 1 }),
                }
            }
            tallies.reverse();
            let listed = adoption(&stalls, today, window);
            prop_assert_eq!(counted(&tallies), Adoption { visits: Vec::new(), ..listed });
        }
    }
}
