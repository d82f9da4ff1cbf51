//! `chopay posters` through the real binary on the seeded Ba Vì demo: the printed code scans to
//! the stall's own static VietQR at every size, the page names who is paid, a whole market comes
//! out one page per linked stall in stall-code order, every print is recorded on its stall, and
//! bad requests are refused without writing anything. Reading the PDFs and PNGs back needs
//! poppler-utils (pdftoppm, pdftotext, pdfinfo) and zbarimg; `.ci/run` runs those tests.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chopay::service::{catalog, demo, import};
use chopay::store::stalls::{self, StallRow};
use chopay::store::{DatabaseUrl, Store};

use crate::app::TestDatabase;
use crate::helpers::{Run, chopay, external};

/// The demo seeded on a fresh database, and a store on it.
async fn seeded() -> (TestDatabase, Store) {
    let database = TestDatabase::new().await;
    let store = Store::open(&DatabaseUrl::new(database.url.as_str()))
        .await
        .unwrap();
    demo::seed(&store).await.unwrap();
    (database, store)
}

/// Every stall of a market, in no particular order.
async fn market_stalls(store: &Store, slug: &str) -> Vec<StallRow> {
    let market = catalog::market(store, slug).await.unwrap();
    stalls::all_in_market(store, market.id).await.unwrap()
}

async fn stall(store: &Store, slug: &str, code: &str) -> StallRow {
    let market = catalog::market(store, slug).await.unwrap();
    stalls::by_code(store, market.id, code)
        .await
        .unwrap()
        .unwrap()
}

/// The static VietQR payload a stall's poster must carry, from its stored account.
fn static_payload(stall: &StallRow) -> String {
    stall.payee().unwrap().static_code().unwrap().payload()
}

/// `chopay posters ARGS --database-url URL`.
fn posters(database: &TestDatabase, args: &[&str]) -> Run {
    let mut all = vec!["posters"];
    all.extend(args);
    all.extend(["--database-url", database.url.as_str()]);
    chopay(&all)
}

fn text(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Page `page` of `pdf` as a PNG at `dpi`.
fn rasterize(pdf: &Path, page: usize, dpi: u32) -> PathBuf {
    let prefix = pdf.with_file_name(format!(
        "{}-p{page}-{dpi}",
        pdf.file_stem().unwrap().to_str().unwrap()
    ));
    let (page, dpi) = (page.to_string(), dpi.to_string());
    let run = external(
        "pdftoppm",
        "poppler-utils",
        &[
            "-r",
            &dpi,
            "-png",
            "-f",
            &page,
            "-l",
            &page,
            "-singlefile",
            text(pdf),
            text(&prefix),
        ],
    );
    assert_eq!(run.code, 0, "pdftoppm: {}", run.stderr);
    prefix.with_extension("png")
}

/// What zbarimg reads in a PNG: exactly one QR code's text.
fn scan(png: &Path) -> String {
    let run = external(
        "zbarimg",
        "zbar-tools",
        &["--raw", "-q", "-Sdisable", "-Sqrcode.enable", text(png)],
    );
    assert_eq!(
        run.code,
        0,
        "zbarimg found no code in {}: {}",
        png.display(),
        run.stderr
    );
    let scanned = run.stdout_text();
    let codes: Vec<&str> = scanned.lines().collect();
    assert_eq!(codes.len(), 1, "one code per poster: {codes:?}");
    codes[0].to_owned()
}

/// The text of each page of `pdf`, whitespace folded to single spaces.
fn page_texts(pdf: &Path) -> Vec<String> {
    let run = external(
        "pdftotext",
        "poppler-utils",
        &["-enc", "UTF-8", text(pdf), "-"],
    );
    assert_eq!(run.code, 0, "pdftotext: {}", run.stderr);
    let all = run.stdout_text();
    let mut pages: Vec<String> = all
        .split('\u{c}')
        .map(|page| page.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    if pages.last().is_some_and(String::is_empty) {
        pages.pop();
    }
    pages
}

/// `pdfinfo`'s value for `key` (`Pages`, `Page size`).
fn pdf_info(pdf: &Path, key: &str) -> String {
    let run = external("pdfinfo", "poppler-utils", &[text(pdf)]);
    assert_eq!(run.code, 0, "pdfinfo: {}", run.stderr);
    run.stdout_text()
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{key}:")))
        .unwrap_or_else(|| panic!("pdfinfo printed no {key}"))
        .trim()
        .to_owned()
}

/// The demo's Chợ Mơ stall with a deliberately long name (it wraps on the poster).
const LONG_NAME: &str = "Khuất Thị Phương Nguyệt Ánh";

async fn long_name_stall(store: &Store) -> StallRow {
    market_stalls(store, "cho-mo")
        .await
        .into_iter()
        .find(|s| s.vendor_name == LONG_NAME)
        .unwrap()
}

#[tokio::test]
#[ignore = "needs poppler-utils and zbarimg; .ci/run runs it"]
async fn a_stall_poster_scans_to_the_stalls_own_code_at_every_size() {
    let (database, store) = seeded().await;
    let stall = long_name_stall(&store).await;
    let payload = static_payload(&stall);
    let dir = tempfile::tempdir().unwrap();
    for (size, page_size, png_pixels) in [
        ("a4", "595.276 x 841.89 pts", (2480, 3508)),
        ("a5", "419.528 x 595.276 pts", (1748, 2480)),
        ("sticker", "283.465 x 425.197 pts", (1181, 1772)),
    ] {
        let pdf = dir.path().join(format!("{size}.pdf"));
        let run = posters(
            &database,
            &[
                "--market",
                "cho-mo",
                "--stall",
                &stall.code,
                "--size",
                size,
                "-o",
                text(&pdf),
            ],
        );
        assert_eq!(run.code, 0, "{size}: {}", run.stderr);
        assert_eq!(pdf_info(&pdf, "Pages"), "1", "{size}");
        // In points: 210 × 297 mm, 148 × 210 mm, 100 × 150 mm.
        assert!(
            pdf_info(&pdf, "Page size").starts_with(page_size),
            "{size}: {}",
            pdf_info(&pdf, "Page size")
        );
        assert_eq!(scan(&rasterize(&pdf, 1, 150)), payload, "{size} PDF");

        let png = dir.path().join(format!("{size}.png"));
        let run = posters(
            &database,
            &[
                "--market",
                "cho-mo",
                "--stall",
                &stall.code,
                "--size",
                size,
                "-o",
                text(&png),
            ],
        );
        assert_eq!(run.code, 0, "{size}: {}", run.stderr);
        // 300 dpi.
        assert_eq!(image::image_dimensions(&png).unwrap(), png_pixels, "{size}");
        assert_eq!(scan(&png), payload, "{size} PNG");
    }
}

#[tokio::test]
#[ignore = "needs poppler-utils and zbarimg; .ci/run runs it"]
async fn a_poster_names_who_is_paid_and_its_print_is_recorded_on_the_stall() {
    let (database, store) = seeded().await;
    let before = long_name_stall(&store).await;
    let payee = before.payee().unwrap();
    let placed_at = before.poster_printed_at_ms.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("poster.pdf");
    // The code as a vendor says it, in lower case.
    let code = before.code.to_lowercase();
    let run = posters(
        &database,
        &["--market", "cho-mo", "--stall", &code, "-o", text(&pdf)],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.is_empty());

    let after = stall(&store, "cho-mo", &before.code).await;
    let serial = after.poster_serial.clone().unwrap();
    assert!(serial.starts_with(&format!("{}-", before.code)), "{serial}");
    assert_ne!(before.poster_serial, after.poster_serial);
    assert!(after.poster_printed_at_ms.unwrap() >= placed_at);

    let pages = page_texts(&pdf);
    assert_eq!(pages.len(), 1);
    let page = &pages[0];
    let account = payee.account.chars().rev().take(4).collect::<Vec<_>>();
    let last_four: String = account.into_iter().rev().collect();
    assert!(last_four.chars().all(|c| c.is_ascii_digit()));
    for expected in [
        "Chợ Mơ",
        before.code.as_str(),
        LONG_NAME,
        payee.holder.as_str(),
        &payee.bank_short_name(),
        "Quét mã để thanh toán",
        "Mọi ứng dụng ngân hàng hỗ trợ VietQR",
        &format!("•••• {last_four}"),
        &format!("Số tem: {serial}"),
        "VietQR · NAPAS 247",
        "In ngày ",
    ] {
        assert!(
            page.contains(expected),
            "{expected:?} not on the page: {page}"
        );
    }
    assert!(
        !page.contains(&payee.account),
        "the full account is printed: {page}"
    );

    // A PNG print is recorded too, with a new serial.
    let png = dir.path().join("poster.png");
    let run = posters(
        &database,
        &[
            "--market",
            "cho-mo",
            "--stall",
            &before.code,
            "-o",
            text(&png),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let again = stall(&store, "cho-mo", &before.code).await;
    assert_ne!(again.poster_serial, after.poster_serial);
    assert!(again.poster_printed_at_ms >= after.poster_printed_at_ms);
}

#[tokio::test]
#[ignore = "needs poppler-utils and zbarimg; .ci/run runs it"]
async fn a_whole_market_prints_one_page_per_linked_stall_in_stall_code_order() {
    let (database, store) = seeded().await;
    let all = market_stalls(&store, "cho-quang-oai").await;
    let (mut linked, unlinked): (Vec<StallRow>, Vec<StallRow>) =
        all.into_iter().partition(|s| s.payee().is_some());
    assert_eq!((linked.len(), unlinked.len()), (321, 7));
    linked.sort_by(|a, b| chopay::service::posters::code_order(&a.code, &b.code));

    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("quang-oai.pdf");
    let run = posters(&database, &["--market", "cho-quang-oai", "-o", text(&pdf)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for stall in &unlinked {
        let line = format!(
            "not printed: stall {} ({}) has no linked bank account",
            stall.code, stall.vendor_name
        );
        assert!(
            run.stderr.lines().any(|l| l == line),
            "{line}: {}",
            run.stderr
        );
    }
    assert_eq!(
        run.stderr
            .lines()
            .filter(|l| l.starts_with("not printed:"))
            .count(),
        7,
        "{}",
        run.stderr
    );
    assert_eq!(pdf_info(&pdf, "Pages"), "321");

    // Page by page in stall-code order, each with the serial now recorded on its stall.
    let printed: HashMap<String, StallRow> = market_stalls(&store, "cho-quang-oai")
        .await
        .into_iter()
        .map(|s| (s.code.clone(), s))
        .collect();
    let pages = page_texts(&pdf);
    assert_eq!(pages.len(), 321);
    assert!(pages[0].contains(&linked[0].code), "{}", pages[0]);
    for (page, stall) in pages.iter().zip(&linked) {
        let now = &printed[&stall.code];
        let serial = now.poster_serial.as_deref().unwrap();
        assert!(serial.starts_with(&format!("{}-", stall.code)), "{serial}");
        assert!(
            page.contains(&format!("Số tem: {serial} ")),
            "{} not on its page: {page}",
            stall.code
        );
        assert!(now.poster_printed_at_ms >= stall.poster_printed_at_ms);
    }
    for stall in &unlinked {
        assert_eq!(printed[&stall.code].poster_serial, None);
    }

    // A sample of pages scans to the code of the stall the page is for.
    for page in [1, 100, 321] {
        let stall = &linked[page - 1];
        assert_eq!(
            scan(&rasterize(&pdf, page, 100)),
            static_payload(stall),
            "page {page} ({})",
            stall.code
        );
    }
}

/// `chopay posters` that must fail with `code` and the one line `message`, writing nothing.
#[track_caller]
fn assert_refused(database: &TestDatabase, args: &[&str], output: &Path, code: i32, message: &str) {
    let run = posters(database, args);
    assert_eq!((run.code, run.stderr.as_str()), (code, message), "{args:?}");
    assert!(run.stdout.is_empty());
    assert!(!output.exists(), "{args:?} wrote {}", output.display());
}

#[tokio::test]
async fn bad_requests_are_refused_with_exit_code_2_and_nothing_written() {
    let database = TestDatabase::new().await;
    let store = Store::open(&DatabaseUrl::new(database.url.as_str()))
        .await
        .unwrap();
    let fields = chopay::domain::market::MarketFields::parse(
        "Chợ Tản Lĩnh",
        "xã Tản Lĩnh",
        "huyện Ba Vì",
        "ba-vi",
        "Hà Nội",
        None,
    )
    .unwrap();
    let market = catalog::create_market(&store, "cho-tan-linh", &fields)
        .await
        .unwrap();
    let csv = "code,vendor_name,goods,phone,bank,account,holder\n\
               A01,Phùng Thị Thuỷ,Rau củ,,,,\n\
               A02,Đinh Văn Nghĩa,Gà vịt,,,,\n";
    let report = import::import_stalls(&store, &market, csv.as_bytes(), false)
        .await
        .unwrap();
    assert!(report.errors.is_empty());
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("posters.pdf");
    let png = dir.path().join("poster.png");
    let txt = dir.path().join("poster.txt");
    let (pdf_path, png_path, txt_path) = (text(&pdf), text(&png), text(&txt));

    assert_refused(
        &database,
        &["--market", "cho-tan-linh", "--size", "a3", "-o", pdf_path],
        &pdf,
        2,
        "chopay: unknown poster size \"a3\": use a4, a5 or sticker\n",
    );
    assert_refused(
        &database,
        &["--market", "cho-tan-linh", "--stall", "A01", "-o", txt_path],
        &txt,
        2,
        &format!("chopay: {txt_path}: the output must end in .pdf or .png\n"),
    );
    assert_refused(
        &database,
        &["--market", "cho-tan-linh", "-o", png_path],
        &png,
        2,
        "chopay: a PNG holds one poster: name the stall with --stall CODE, or write a .pdf\n",
    );
    assert_refused(
        &database,
        &["--market", "cho-xa", "-o", pdf_path],
        &pdf,
        2,
        "chopay: market 'cho-xa' not found\n",
    );
    assert_refused(
        &database,
        &["--market", "cho-tan-linh", "--stall", "Z99", "-o", pdf_path],
        &pdf,
        2,
        "chopay: stall Z99 in market cho-tan-linh not found\n",
    );
    assert_refused(
        &database,
        &["--market", "cho-tan-linh", "--stall", "A01", "-o", png_path],
        &png,
        2,
        "chopay: stall A01 has no linked bank account, so no poster\n",
    );
    // A market where no stall can be paid yet: each stall listed, then the refusal.
    assert_refused(
        &database,
        &["--market", "cho-tan-linh", "-o", pdf_path],
        &pdf,
        2,
        "not printed: stall A01 (Phùng Thị Thuỷ) has no linked bank account\n\
         not printed: stall A02 (Đinh Văn Nghĩa) has no linked bank account\n\
         chopay: market 'cho-tan-linh': no stall with a linked bank account to print\n",
    );
    for stall in stalls::all_in_market(&store, market.id).await.unwrap() {
        assert_eq!(
            (stall.poster_serial, stall.poster_printed_at_ms),
            (None, None),
            "nothing was recorded"
        );
    }
}
