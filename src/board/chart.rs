//! The daily chart of a board (pure): one bar per day, cashless volume that reached a stall in
//! green with what waits in suspense stacked in grey, drawn as inline SVG on the server (no
//! script, no chart library). Integer geometry only: amounts never pass through floats.

use std::fmt::Write as _;

use crate::domain::day::Day;
use crate::domain::stats::Totals;
use crate::http::credits::amount_text;

/// Width and height of the drawing, in viewBox units.
const WIDTH: i64 = 1000;
const HEIGHT: i64 = 300;
/// Room for the axis labels.
const LEFT: i64 = 70;
const BOTTOM: i64 = 40;
const TOP: i64 = 16;

/// The smallest "round" value (1, 2 or 5 × a power of ten) at or above `amount`.
pub fn nice_ceiling(amount: i64) -> i64 {
    let mut scale: i64 = 1;
    loop {
        for step in [1_i64, 2, 5] {
            let candidate = step.saturating_mul(scale);
            if candidate >= amount || candidate == i64::MAX {
                return candidate;
            }
        }
        scale = scale.saturating_mul(10);
    }
}

/// A compact Vietnamese amount for an axis: `500k`, `2 tr`, `1,5 tỷ`.
pub fn axis_label(amount: i64) -> String {
    let tenths = |unit: i64| {
        let t = amount / (unit / 10);
        if t % 10 == 0 {
            format!("{}", t / 10)
        } else {
            format!("{},{}", t / 10, t % 10)
        }
    };
    match amount {
        a if a >= 1_000_000_000 => format!("{} tỷ", tenths(1_000_000_000)),
        a if a >= 1_000_000 => format!("{} tr", tenths(1_000_000)),
        a if a >= 1_000 => format!("{}k", a / 1_000),
        a => a.to_string(),
    }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let _ = maud::Escaper::new(&mut out).write_str(text);
    out
}

/// `a × b / c` without overflow, rounded down; 0 when `c` is 0.
fn scale(a: i64, b: i64, c: i64) -> i64 {
    if c == 0 {
        return 0;
    }
    i64::try_from(i128::from(a) * i128::from(b) / i128::from(c)).unwrap_or(0)
}

/// The chart of a daily series as an `<svg>` element, titled for screen readers.
pub fn daily_svg(series: &[(Day, Totals)], title: &str) -> String {
    let top = series
        .iter()
        .map(|(_, t)| t.all().amount_dong)
        .max()
        .unwrap_or(0);
    let ceiling = nice_ceiling(top.max(1));
    let plot_w = WIDTH - LEFT;
    let plot_h = HEIGHT - BOTTOM - TOP;
    let n = i64::try_from(series.len()).unwrap_or(1).max(1);
    let slot = plot_w / n;
    let bar = (slot * 7 / 10).max(1);
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg class=\"chart\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-labelledby=\"chart-title\" \
         xmlns=\"http://www.w3.org/2000/svg\"><title id=\"chart-title\">{}</title>",
        escape(title)
    );
    for step in 0..=2 {
        let value = ceiling * step / 2;
        let y = TOP + plot_h - scale(value, plot_h, ceiling);
        let _ = write!(
            svg,
            "<line x1=\"{LEFT}\" x2=\"{WIDTH}\" y1=\"{y}\" y2=\"{y}\" class=\"grid\"/>\
             <text x=\"{}\" y=\"{}\" class=\"axis\" text-anchor=\"end\">{}</text>",
            LEFT - 8,
            y + 8,
            escape(&axis_label(value))
        );
    }
    let label_every = (n + 5) / 6;
    for (i, (day, totals)) in series.iter().enumerate() {
        let i = i64::try_from(i).unwrap_or(0);
        let x = LEFT + i * slot + (slot - bar) / 2;
        let all = totals.all();
        let matched = totals.matched().amount_dong;
        let h_all = scale(all.amount_dong, plot_h, ceiling);
        let h_matched = scale(matched, plot_h, ceiling);
        let base = TOP + plot_h;
        let date = format!("{:02}/{:02}", day.number() % 100, day.number() / 100 % 100);
        let _ = write!(
            svg,
            "<g data-date=\"{day}\" data-amount=\"{}\"><title>{date}: {} – {} giao dịch</title>\
             <rect x=\"{x}\" y=\"{}\" width=\"{bar}\" height=\"{}\" class=\"unmatched\"/>\
             <rect x=\"{x}\" y=\"{}\" width=\"{bar}\" height=\"{h_matched}\" class=\"matched\"/></g>",
            all.amount_dong,
            escape(&amount_text(all.amount_dong)),
            all.count,
            base - h_all,
            h_all - h_matched,
            base - h_matched,
        );
        if i == n - 1 {
            // The last day's label ends at its bar, so it never runs off the drawing.
            let _ = write!(
                svg,
                "<text x=\"{}\" y=\"{}\" class=\"axis\" text-anchor=\"end\">{date}</text>",
                x + bar,
                HEIGHT - 10
            );
        } else if i % label_every == label_every - 1 && i + label_every / 2 < n - 1 {
            let _ = write!(
                svg,
                "<text x=\"{}\" y=\"{}\" class=\"axis\" text-anchor=\"middle\">{date}</text>",
                x + bar / 2,
                HEIGHT - 10
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::stats::{Tally, series};
    use proptest::prelude::*;

    fn day(number: i64) -> Day {
        Day::from_number(number).unwrap()
    }

    #[test]
    fn axes_round_up_and_read_in_vietnamese() {
        assert_eq!(nice_ceiling(1), 1);
        assert_eq!(nice_ceiling(3), 5);
        assert_eq!(nice_ceiling(1_673_000), 2_000_000);
        assert_eq!(nice_ceiling(60_000_001), 100_000_000);
        assert_eq!(axis_label(1_000_000), "1 tr");
        assert_eq!(axis_label(1_500_000), "1,5 tr");
        assert_eq!(axis_label(500_000), "500k");
        assert_eq!(axis_label(2_000_000_000), "2 tỷ");
        assert_eq!(axis_label(0), "0");
    }

    #[test]
    fn one_bar_per_day_and_the_tallest_day_reaches_its_share_of_the_axis() {
        let paid = |amount_dong| Totals {
            fixed: Tally {
                count: 1,
                amount_dong,
            },
            ..Totals::default()
        };
        let rows = vec![
            (day(20261121), paid(1_000_000)),
            (day(20261123), paid(500_000)),
        ];
        let filled = series(day(20261121), day(20261123), &rows);
        let svg = daily_svg(&filled, "Doanh thu <30 ngày>");
        assert_eq!(svg.matches("<g data-date=").count(), 3);
        assert!(svg.contains("data-date=\"2026-11-21\" data-amount=\"1000000\""));
        assert!(svg.contains("21/11: 1.000.000đ – 1 giao dịch"));
        assert!(svg.contains("Doanh thu &lt;30 ngày&gt;"));
        assert!(svg.contains(">1 tr</text>"));
        // The tallest bar fills the plot: 1 000 000 is the axis ceiling.
        let plot_h = HEIGHT - BOTTOM - TOP;
        assert!(svg.contains(&format!("height=\"{plot_h}\" class=\"matched\"")));
        roxmltree::Document::parse(&svg).expect("well-formed SVG");
    }

    proptest! {
        #[test]
        fn bars_stay_inside_the_drawing(amounts in proptest::collection::vec(0_i64..10_000_000_000_000, 1..400)) {
            let start = day(20250101);
            let rows: Vec<(Day, Totals)> = amounts
                .iter()
                .enumerate()
                .map(|(i, a)| (start.plus_days(i64::try_from(i).unwrap()), Totals {
                    dynamic: Tally { count: 1, amount_dong: *a / 2 },
                    unmatched: Tally { count: 1, amount_dong: *a - *a / 2 },
                    ..Totals::default()
                }))
                .collect();
            let svg = daily_svg(&rows, "t");
            let doc = roxmltree::Document::parse(&svg).unwrap();
            for rect in doc.descendants().filter(|n| n.has_tag_name("rect")) {
                let get = |name: &str| rect.attribute(name).unwrap().parse::<i64>().unwrap();
                prop_assert!(get("height") >= 0);
                prop_assert!(get("y") >= TOP && get("y") + get("height") <= HEIGHT - BOTTOM);
                prop_assert!(get("x") >= LEFT && get("x") + get("width") <= WIDTH);
            }
        }
    }
}
