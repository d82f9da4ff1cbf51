//! The board pages as HTML (maud): the market board, the district page, the list of markets and
//! the login form. Vietnamese first; every figure is in the HTML the server sends, so the pages
//! read without script; the live parts are separate fragments the event stream replaces.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::chart::daily_svg;
use crate::domain::adoption::{Adoption, Share, VisitReason, visit_reason};
use crate::domain::day::Day;
use crate::domain::stats::{Recent, Tally, Totals};
use crate::http::credits::amount_text;
use crate::service::stats::{DistrictFigures, MarketFigures, MarketSummary, StallFigures};

const CSS: &str = include_str!("board.css");
const SCRIPT: &str = include_str!("board.js");

/// A whole page.
pub fn page(title: &str, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="vi" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex";
                meta name="referrer" content="no-referrer";
                link rel="icon" href="data:,";
                title { (title) }
                style { (PreEscaped(CSS)) }
            }
            body {
                (body)
                script { (PreEscaped(SCRIPT)) }
            }
        }
    }
    .into_string()
}

/// `25.247`: a count with Vietnamese thousands dots.
pub fn count_text(count: i64) -> String {
    let digits = count.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    if count < 0 { format!("-{out}") } else { out }
}

/// `97,9%`: a share with the Vietnamese decimal comma.
pub fn percent_text(share: Share) -> String {
    format!("{}%", share.percent().replace('.', ","))
}

/// `01:45 24/11/2026`, Vietnam time.
pub fn clock_text(ms: i64) -> String {
    let offset = time::UtcOffset::from_whole_seconds(crate::domain::day::VIETNAM_OFFSET_S)
        .unwrap_or(time::UtcOffset::UTC);
    let at = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .to_offset(offset);
    format!(
        "{:02}:{:02} {:02}/{:02}/{}",
        at.hour(),
        at.minute(),
        at.day(),
        u8::from(at.month()),
        at.year()
    )
}

fn day_text(day: Day) -> String {
    let n = day.number();
    format!("{:02}/{:02}/{}", n % 100, n / 100 % 100, n / 10_000)
}

/// The header of a page: title, place, links.
fn top(title: &str, place: &str, links: &[(&str, String)], as_of_ms: i64) -> Markup {
    html! {
        header.top {
            div {
                h1 { (title) }
                p.place { (place) }
            }
            nav {
                @for (label, href) in links {
                    a href=(href) { (label) }
                }
                form method="post" action="/logout" { button.link type="submit" { "Đăng xuất" } }
            }
        }
        p.live {
            span #live-status data-state="off" { "Số liệu lúc " }
            span data-figure="as-of" { (clock_text(as_of_ms)) }
        }
    }
}

fn share_figure(name: &str, share: Share) -> Markup {
    html! {
        span.count data-figure=(format!("{name}-count")) { (share.count) "/" (share.of) }
        " "
        span.pct data-figure=(format!("{name}-percent")) { (percent_text(share)) }
    }
}

/// The big figure and the funnel registered → account → poster → active.
pub fn adoption_section(adoption: &Adoption, active_days: i64) -> Markup {
    let steps: [(&str, &str, Share); 3] = [
        ("linked", "Có tài khoản ngân hàng", adoption.linked),
        ("equipped", "Đã có mã QR tại gian", adoption.equipped),
        ("active", "Có thanh toán không tiền mặt", adoption.active),
    ];
    html! {
        div.headline {
            p.big { (share_figure("equipped", adoption.equipped)) }
            p { "gian hàng đã trang bị mã QR thanh toán (tài khoản + mã QR đang dán)" }
        }
        ol.funnel {
            li {
                span.label { "Gian hàng đăng ký" }
                span.value { span.count data-figure="registered" { (adoption.registered) } }
                span.bar style="--w: 100%" {}
            }
            @for (name, label, share) in steps {
                li {
                    span.label {
                        (label)
                        @if name == "active" { " (" (active_days) " ngày)" }
                    }
                    span.value { (share_figure(name, share)) }
                    span.bar style=(format!("--w: {}%", share.percent())) {}
                }
            }
        }
    }
}

fn tally_card(name: &str, label: &str, tally: Tally) -> Markup {
    html! {
        div.card {
            h3 { (label) }
            p.amount data-figure=(format!("{name}-amount")) { (amount_text(tally.amount_dong)) }
            p { span data-figure=(format!("{name}-count")) { (count_text(tally.count)) } " giao dịch" }
        }
    }
}

/// Today, 7 days, 30 days, and the 30 days by kind.
pub fn volume_section(recent: &Recent) -> Markup {
    let month: Totals = recent.month;
    html! {
        div.cards {
            (tally_card("today", "Hôm nay", recent.today.all()))
            (tally_card("week", "7 ngày", recent.week.all()))
            (tally_card("month", "30 ngày", recent.month.all()))
        }
        p.kinds {
            "30 ngày: mã QR theo đơn " (amount_text(month.dynamic.amount_dong))
            " · mã QR dán tại gian " (amount_text(month.fixed.amount_dong))
            @if month.assigned.count > 0 { " · đã đối soát " (amount_text(month.assigned.amount_dong)) }
            @if month.unmatched.count > 0 {
                " · chờ đối soát " (amount_text(month.unmatched.amount_dong))
                " (" (count_text(month.unmatched.count)) " giao dịch)"
            }
        }
    }
}

/// The daily chart with its legend.
pub fn chart_section(series: &[(Day, Totals)]) -> Markup {
    let title = match (series.first(), series.last()) {
        (Some((from, _)), Some((to, _))) => {
            format!(
                "Tiền nhận mỗi ngày, {} – {}",
                day_text(*from),
                day_text(*to)
            )
        }
        _ => "Tiền nhận mỗi ngày".to_owned(),
    };
    html! {
        h2 { (title) }
        (PreEscaped(daily_svg(series, &title)))
        p.legend {
            span.key.matched {} "Vào gian hàng "
            span.key.unmatched {} "Chờ đối soát"
        }
    }
}

fn reason_text(reason: Option<VisitReason>) -> &'static str {
    reason.map_or("Đang dùng tốt", VisitReason::advice)
}

/// The status of a stall on the board: its visit reason, or `None` when all is well.
pub fn stall_status(stall: &StallFigures) -> Option<VisitReason> {
    visit_reason(stall.poster, stall.active)
}

/// Where a status sorts: most urgent first, stalls doing well last.
fn status_rank(status: Option<VisitReason>) -> u8 {
    match status {
        Some(VisitReason::NoAccount) => 0,
        Some(VisitReason::NoPoster) => 1,
        Some(VisitReason::StalePoster) => 2,
        Some(VisitReason::Inactive) => 3,
        None => 4,
    }
}

/// The "cần hỗ trợ" list: whom the team should visit next, most urgent first.
pub fn visits_section(figures: &MarketFigures) -> Markup {
    let visits = &figures.adoption.visits;
    html! {
        h2 { "Cần hỗ trợ " span.badge data-figure="visits" { (visits.len()) } }
        @if visits.is_empty() {
            p { "Mọi gian hàng đều đã trang bị và đang dùng." }
        } @else {
            ol.visits {
                @for (id, code, reason) in visits {
                    li data-reason=(reason.as_str()) {
                        strong.code { (code) }
                        " "
                        @if let Some(stall) = figures.stall(*id) {
                            span.vendor { (stall.line.vendor_name) }
                        }
                        " — " span.reason { (reason.advice()) }
                    }
                }
            }
        }
    }
}

/// Filters of the stall table: value, label.
pub const STALL_FILTERS: [(&str, &str); 7] = [
    ("", "Tất cả"),
    ("help", "Cần hỗ trợ"),
    ("no_account", "Chưa có tài khoản"),
    ("no_poster", "Chưa in mã QR"),
    ("stale_poster", "Mã QR cũ"),
    ("inactive", "Chưa có thanh toán gần đây"),
    ("ok", "Đang dùng tốt"),
];

/// Whether a stall passes a filter value of [`STALL_FILTERS`].
pub fn passes(filter: &str, status: Option<VisitReason>) -> bool {
    match filter {
        "" => true,
        "help" => status.is_some(),
        "ok" => status.is_none(),
        other => status.is_some_and(|r| r.as_str() == other),
    }
}

/// The rows of the stall table (the live part), those passing `filter`.
pub fn stall_rows(stalls: &[StallFigures], filter: &str) -> Markup {
    html! {
        @for stall in stalls {
            @let status = stall_status(stall);
            @let line = &stall.line;
            @if passes(filter, status) {
                tr data-status=(status.map_or("ok", VisitReason::as_str)) data-code=(line.code) {
                    td data-sort=(line.code) { strong { (line.code) } }
                    td data-sort=(line.vendor_name) { (line.vendor_name) br; small { (line.goods) } }
                    td data-sort=(status_rank(status)) { (reason_text(status)) }
                    td.num data-sort=(line.credits) { (count_text(line.credits)) }
                    td.num data-sort=(line.amount_dong) { (amount_text(line.amount_dong)) }
                    td data-sort=(line.last_day.unwrap_or(0)) {
                        (line.last_day.and_then(Day::from_number).map(day_text).unwrap_or_else(|| "—".into()))
                    }
                }
            }
        }
    }
}

fn stall_table(figures: &MarketFigures, filter: &str, active_days: i64) -> Markup {
    html! {
        h2 { "Gian hàng" }
        form.filter #stall-filter method="get" {
            label {
                "Xem: "
                select name="status" {
                    @for (value, label) in STALL_FILTERS {
                        option value=(value) selected[value == filter] { (label) }
                    }
                }
            }
            " "
            button type="submit" { "Lọc" }
        }
        div.scroll {
            table #stall-table {
                thead {
                    tr {
                        th { button.sort type="button" data-col="0" { "Gian" } }
                        th { button.sort type="button" data-col="1" { "Tiểu thương" } }
                        th { button.sort type="button" data-col="2" { "Tình trạng" } }
                        th { button.sort type="button" data-col="3" data-numeric="1" { "Giao dịch " (active_days) " ngày" } }
                        th { button.sort type="button" data-col="4" data-numeric="1" { "Số tiền " (active_days) " ngày" } }
                        th { button.sort type="button" data-col="5" data-numeric="1" { "Lần cuối" } }
                    }
                }
                tbody #stall-rows { (stall_rows(&figures.stalls, filter)) }
            }
        }
    }
}

/// The live fragments of a market board, by element id.
pub fn market_fragments(
    figures: &MarketFigures,
    active_days: i64,
    as_of_ms: i64,
) -> Vec<(&'static str, String)> {
    vec![
        (
            "adoption",
            adoption_section(&figures.adoption, active_days).into_string(),
        ),
        ("volume", volume_section(&figures.recent).into_string()),
        ("chart", chart_section(&figures.series).into_string()),
        ("visits", visits_section(figures).into_string()),
        ("stall-rows", stall_rows(&figures.stalls, "").into_string()),
        ("as-of", clock_text(as_of_ms)),
    ]
}

/// The market board.
pub fn market_board(
    figures: &MarketFigures,
    district_link: bool,
    filter: &str,
    active_days: i64,
    as_of_ms: i64,
) -> String {
    let market = &figures.market;
    let mut links = vec![("Các chợ", "/".to_owned())];
    if district_link {
        links.push((
            market.district.as_str(),
            format!("/districts/{}", market.district_slug),
        ));
    }
    let place = format!("{}, {}", market.commune, market.district);
    page(
        &format!("{} – bảng theo dõi", market.name),
        html! {
            main.board data-stream=(format!("/boards/{}/events", market.slug)) {
                (top(&market.name, &place, &links, as_of_ms))
                section #adoption { (adoption_section(&figures.adoption, active_days)) }
                section #volume { (volume_section(&figures.recent)) }
                section #chart { (chart_section(&figures.series)) }
                section #visits { (visits_section(figures)) }
                section #stalls { (stall_table(figures, filter, active_days)) }
            }
        },
    )
}

/// The rows of a district's market table (the live part).
pub fn market_rows(district: &DistrictFigures) -> Markup {
    html! {
        @for m in &district.markets {
            tr data-market=(m.market.slug) {
                td { a href=(format!("/boards/{}", m.market.slug)) { (m.market.name) } br; small { (m.market.commune) } }
                td.num { (m.adoption.registered) }
                td.num { (m.adoption.linked.count) " " small { (percent_text(m.adoption.linked)) } }
                td.num { (m.adoption.equipped.count) " " small { (percent_text(m.adoption.equipped)) } }
                td.num { (m.adoption.active.count) " " small { (percent_text(m.adoption.active)) } }
                td.num { (amount_text(m.recent.month.all().amount_dong)) br; small { (count_text(m.recent.month.all().count)) " giao dịch" } }
                td.num { (m.adoption.to_visit) }
            }
        }
    }
}

/// The live fragments of a district page, by element id.
pub fn district_fragments(
    district: &DistrictFigures,
    active_days: i64,
    as_of_ms: i64,
) -> Vec<(&'static str, String)> {
    vec![
        (
            "adoption",
            adoption_section(&district.adoption, active_days).into_string(),
        ),
        ("volume", volume_section(&district.recent).into_string()),
        ("chart", chart_section(&district.series).into_string()),
        ("market-rows", market_rows(district).into_string()),
        ("as-of", clock_text(as_of_ms)),
    ]
}

/// The district page: its markets together, then each.
pub fn district_page(district: &DistrictFigures, active_days: i64, as_of_ms: i64) -> String {
    page(
        &format!("{} – chợ không dùng tiền mặt", district.name),
        html! {
            main.board data-stream=(format!("/districts/{}/events", district.slug)) {
                (top(&district.name, &format!("{} chợ", district.markets.len()), &[("Các chợ", "/".to_owned())], as_of_ms))
                section #adoption { (adoption_section(&district.adoption, active_days)) }
                section #volume { (volume_section(&district.recent)) }
                section #chart { (chart_section(&district.series)) }
                section #markets {
                    h2 { "Các chợ" }
                    div.scroll {
                        table {
                            thead {
                                tr {
                                    th { "Chợ" } th { "Gian hàng" } th { "Có tài khoản" } th { "Có mã QR" }
                                    th { "Đang dùng" } th { "30 ngày" } th { "Cần hỗ trợ" }
                                }
                            }
                            tbody #market-rows { (market_rows(district)) }
                        }
                    }
                }
            }
        },
    )
}

/// A district on the list of markets: its slug and name (when the visitor may open its page),
/// and its markets.
pub struct DistrictGroup<'a> {
    /// The district's page, when the visitor may open it: (slug, name).
    pub link: Option<(&'a str, &'a str)>,
    /// Its name.
    pub name: &'a str,
    /// Its markets' figures.
    pub markets: Vec<&'a MarketSummary>,
}

/// `/`: the markets the visitor may see, by district, with their adoption.
pub fn index_page(groups: &[DistrictGroup<'_>], as_of_ms: i64) -> String {
    page(
        "chopay – chợ không dùng tiền mặt",
        html! {
            main.board {
                (top("Chợ thông minh 4.0", "Không dùng tiền mặt", &[], as_of_ms))
                @if groups.is_empty() {
                    p { "Mã truy cập này chưa được giao chợ nào." }
                }
                @for group in groups {
                    section.district {
                        h2 {
                            @if let Some((slug, name)) = group.link {
                                a href=(format!("/districts/{slug}")) { (name) }
                            } @else {
                                (group.name)
                            }
                        }
                        ul.markets {
                            @for m in &group.markets {
                                li data-market=(m.market.slug) {
                                    a href=(format!("/boards/{}", m.market.slug)) { strong { (m.market.name) } }
                                    " · " (m.market.commune)
                                    p.big-line { (share_figure(&format!("{}-equipped", m.market.slug), m.adoption.equipped)) " gian hàng có mã QR" }
                                    p { "30 ngày: " (amount_text(m.recent.month.all().amount_dong)) ", " (count_text(m.recent.month.all().count)) " giao dịch" }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// The login form, with a message when a token was refused.
pub fn login_page(next: &str, refused: bool) -> String {
    page(
        "Đăng nhập – chopay",
        html! {
            main.login {
                h1 { "Bảng theo dõi chợ" }
                p { "Nhập mã truy cập do ban quản lý chợ hoặc quản trị viên cấp." }
                @if refused {
                    p.warn role="alert" { "Mã truy cập không đúng hoặc đã bị thu hồi." }
                }
                form method="post" action="/login" {
                    label for="token" { "Mã truy cập" }
                    input #token name="token" type="password" autocomplete="off" required;
                    input type="hidden" name="next" value=(next);
                    button type="submit" { "Vào bảng theo dõi" }
                }
            }
        },
    )
}

/// A page that says why it cannot show what was asked.
pub fn message_page(title: &str, message: &str) -> String {
    page(
        title,
        html! {
            main.login {
                h1 { (title) }
                p { (message) }
                p { a href="/" { "Về danh sách chợ" } " · " a href="/login" { "Đăng nhập bằng mã khác" } }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_the_vietnamese_way() {
        assert_eq!(count_text(0), "0");
        assert_eq!(count_text(999), "999");
        assert_eq!(count_text(25_247), "25.247");
        assert_eq!(count_text(1_000_000), "1.000.000");
        assert_eq!(
            percent_text(Share {
                count: 321,
                of: 328
            }),
            "97,9%"
        );
        assert_eq!(percent_text(Share { count: 56, of: 56 }), "100,0%");
        assert_eq!(clock_text(1_795_366_800_000), "00:00 23/11/2026");
    }

    #[test]
    fn filters_pick_the_stalls_they_name() {
        assert!(passes("", None));
        assert!(passes("help", Some(VisitReason::Inactive)));
        assert!(!passes("help", None));
        assert!(passes("ok", None));
        assert!(passes("no_account", Some(VisitReason::NoAccount)));
        assert!(!passes("no_account", Some(VisitReason::NoPoster)));
        assert!(!passes("junk", None));
    }
}
