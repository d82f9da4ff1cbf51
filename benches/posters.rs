//! Poster benchmarks (criterion): one A4 stall poster as a 300 dpi PNG, the same poster as a
//! one-page PDF, and a whole 328-stall market as one A4 PDF (fonts embedded and subset once).
//! The stalls are synthetic but realistic: Vietnamese names with diacritics (one long enough to
//! wrap), real NAPAS BINs, static VietQR payloads from chopay's own encoder, masked accounts.
//! The file sizes are printed once before timing.
//!
//! Run: `cargo bench --bench posters` (under a minute once built). Figures go in the README.

// A benchmark whose setup is wrong must stop, not measure something else.
#![allow(clippy::panic)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

use chopay::domain::fold;
use chopay::domain::stall::PayeeAccount;
use chopay::domain::vietqr::{Service, decode};
use chopay::posters::{self, PosterContent, PosterSize, mask_account};

const FAMILY: [&str; 10] = [
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Phùng", "Đỗ", "Khuất", "Đặng", "Bùi",
];
const MIDDLE: [&str; 6] = ["Thị", "Văn", "Thị Ngọc", "Đức", "Thị Thu", "Quốc"];
const GIVEN: [&str; 12] = [
    "Hường",
    "Hùng",
    "Phượng",
    "Nghĩa",
    "Thuỷ",
    "Tuấn",
    "Huyền",
    "Dũng",
    "Ánh",
    "Lợi",
    "Yến",
    "Tĩnh",
];
/// Real BINs (Vietcombank, Agribank, VietinBank, BIDV, MB, Techcombank, ACB, VPBank, LPBank) and
/// plausible account lengths.
const BANKS: [(&str, usize); 9] = [
    ("970436", 13),
    ("970405", 13),
    ("970415", 12),
    ("970418", 12),
    ("970422", 10),
    ("970407", 14),
    ("970416", 9),
    ("970432", 9),
    ("970449", 12),
];
const ROWS: [char; 8] = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'];
const PER_ROW: usize = 41;

fn pick<T: Copy>(items: &[T], seed: usize) -> T {
    items
        .get(seed % items.len())
        .copied()
        .unwrap_or_else(|| panic!("empty list"))
}

/// The `index`th stall of a synthetic Chợ Quảng Oai, deterministic.
fn stall(index: usize) -> PosterContent {
    let row = pick(&ROWS, index / PER_ROW);
    let code = format!("{row}{:02}", index % PER_ROW + 1);
    let vendor = if index == 126 {
        "Đỗ Nguyễn Hoàng Phương Thảo Nguyệt".to_owned()
    } else {
        format!(
            "{} {} {}",
            pick(&FAMILY, index * 7),
            pick(&MIDDLE, index * 5 + 1),
            pick(&GIVEN, index * 11 + 3)
        )
    };
    let (bin, length) = pick(&BANKS, index * 3);
    let account: String = (0..length)
        .map(|i| char::from(b'0' + u8::try_from((index * 7919 + i * 104_729) % 10).unwrap_or(0)))
        .collect();
    let holder = fold::to_ascii(&vendor).to_uppercase();
    let payee = PayeeAccount::parse(bin, &account, &holder, Service::Account)
        .unwrap_or_else(|e| panic!("{code}: {e}"));
    let payload = payee
        .static_code()
        .unwrap_or_else(|e| panic!("{code}: {e}"))
        .payload();
    PosterContent {
        market: "Chợ Quảng Oai".into(),
        stall_code: code.clone(),
        vendor,
        bank: payee.bank_short_name(),
        holder: payee.holder.clone(),
        account: mask_account(&payee.account),
        serial: format!(
            "Số tem: {code}-{}",
            pick(&["7K3F", "Q2WX", "M9TD", "0HZR"], index)
        ),
        printed: "In ngày 23/11/2026".into(),
        payload,
    }
}

fn benches(c: &mut Criterion) {
    let market: Vec<PosterContent> = (0..ROWS.len() * PER_ROW).map(stall).collect();
    assert_eq!(market.len(), 328);
    for content in &market {
        let decoded = decode(&content.payload).unwrap_or_else(|e| panic!("{e}"));
        assert!(decoded.amount.is_none(), "a static code");
    }
    let one = market
        .get(126)
        .cloned()
        .unwrap_or_else(|| panic!("stall 126"));

    let png = posters::png(PosterSize::A4, &one).unwrap_or_else(|e| panic!("{e}"));
    let pdf = posters::pdf(PosterSize::A4, [&one], || {}).unwrap_or_else(|e| panic!("{e}"));
    let whole = posters::pdf(PosterSize::A4, &market, || {}).unwrap_or_else(|e| panic!("{e}"));
    println!("file sizes (bytes):");
    println!("  A4 poster PNG, 300 dpi:     {:>9}", png.len());
    println!("  A4 poster PDF, 1 page:      {:>9}", pdf.len());
    println!("  A4 market PDF, 328 pages:   {:>9}", whole.len());

    let mut single = c.benchmark_group("poster");
    single
        .sample_size(20)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(8));
    single.bench_function("a4_png_300dpi", |b| {
        b.iter(|| posters::png(PosterSize::A4, black_box(&one)))
    });
    single.bench_function("a4_pdf", |b| {
        b.iter(|| posters::pdf(PosterSize::A4, [black_box(&one)], || {}))
    });
    single.finish();

    let mut whole_market = c.benchmark_group("market");
    whole_market
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        // 10 samples of 1 to 10 runs: 55 runs of about half a second.
        .measurement_time(Duration::from_secs(30));
    whole_market.bench_function("a4_pdf_328_stalls", |b| {
        b.iter(|| posters::pdf(PosterSize::A4, black_box(&market), || {}))
    });
    whole_market.finish();
}

criterion_group!(posters_bench, benches);
criterion_main!(posters_bench);
