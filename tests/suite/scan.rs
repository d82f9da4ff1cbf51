//! Codes that a real scanner reads: zbarimg (zbar-tools) decodes chopay's PNGs to the exact
//! payload. Needs zbarimg; `.ci/run` installs it and runs these.

use crate::helpers::{chopay, external, golden_cases};

fn scan(png: &std::path::Path) -> String {
    let run = external(
        "zbarimg",
        "zbar-tools",
        &[
            "--raw",
            "-q",
            "-Sdisable",
            "-Sqrcode.enable",
            png.to_str().unwrap(),
        ],
    );
    assert_eq!(
        run.code,
        0,
        "zbarimg found no code in {}: {}",
        png.display(),
        run.stderr
    );
    run.stdout_text().trim_end_matches('\n').to_owned()
}

#[test]
#[ignore = "needs zbarimg (Debian zbar-tools); .ci/run runs it"]
fn a_code_for_your_own_account_scans_back_to_the_exact_payload() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("mine.png");
    let args = [
        "qr",
        "encode",
        "--bank",
        "MB Bank",
        "--account",
        "0352350917",
        "--amount",
        "50k",
        "--purpose",
        "Tiền rau",
    ];
    let payload = chopay(&args).stdout_text().trim_end().to_owned();
    let mut with_image = args.to_vec();
    with_image.extend(["--format", "png", "-o", png.to_str().unwrap()]);
    assert_eq!(chopay(&with_image).code, 0);
    assert_eq!(scan(&png), payload);
}

#[test]
#[ignore = "needs zbarimg (Debian zbar-tools); .ci/run runs it"]
fn every_golden_payload_scans_at_every_error_correction_level_and_module_size() {
    let dir = tempfile::tempdir().unwrap();
    for (index, case) in golden_cases().iter().enumerate() {
        let level = ["L", "M", "Q", "H"][index % 4];
        let module_px = ["2", "4", "8"][index % 3];
        let path = dir.path().join(format!("{}.png", case.name));
        let path_text = path.to_str().unwrap();
        let run = chopay(&[
            "qr",
            "encode",
            "--bin",
            &case.bin,
            "--account",
            &case.account,
            "--service",
            &case.service,
            "--format",
            "png",
            "--ec-level",
            level,
            "--module-px",
            module_px,
            "-o",
            path_text,
        ]);
        assert_eq!(run.code, 0, "{}: {}", case.name, run.stderr);
        let expected = chopay(&[
            "qr",
            "encode",
            "--bin",
            &case.bin,
            "--account",
            &case.account,
            "--service",
            &case.service,
        ]);
        assert_eq!(
            scan(&path),
            expected.stdout_text().trim_end(),
            "{} at {level}/{module_px}px",
            case.name
        );
    }
}

#[test]
#[ignore = "needs zbarimg (Debian zbar-tools); .ci/run runs it"]
fn long_dynamic_payloads_scan_too() {
    let dir = tempfile::tempdir().unwrap();
    for case in golden_cases()
        .iter()
        .filter(|c| c.amount.is_some() && c.purpose.is_some())
    {
        let path = dir.path().join(format!("{}.png", case.name));
        let mut args = vec![
            "qr",
            "encode",
            "--bin",
            &case.bin,
            "--account",
            &case.account,
            "--service",
            &case.service,
        ];
        args.extend([
            "--amount",
            case.amount.as_deref().unwrap(),
            "--purpose",
            case.purpose.as_deref().unwrap(),
        ]);
        let payload = chopay(&args).stdout_text().trim_end().to_owned();
        args.extend(["--format", "png", "-o", path.to_str().unwrap()]);
        assert_eq!(chopay(&args).code, 0);
        assert_eq!(scan(&path), payload, "{}", case.name);
    }
}

#[tokio::test]
#[ignore = "needs zbarimg (Debian zbar-tools); .ci/run runs it"]
async fn a_stall_qr_served_by_the_api_scans_to_the_stall_account() {
    let app = crate::app::TestApp::spawn().await;
    app.create_market("cho-mo", "ba-vi").await;
    let id = app.create_stall("cho-mo", "A01").await;
    let stall = app
        .get(&format!("/api/v1/stalls/{id}"), Some(&app.admin))
        .await
        .json();
    let png = app
        .get(&format!("/api/v1/stalls/{id}/qr.png"), Some(&app.admin))
        .await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stall.png");
    std::fs::write(&path, &png.body).unwrap();
    let scanned = scan(&path);
    assert_eq!(scanned, stall["qr_payload"].as_str().unwrap());
    let decoded = chopay::domain::vietqr::decode(&scanned).unwrap();
    assert_eq!(
        (decoded.bin.as_deref(), decoded.account.as_deref()),
        (Some("970436"), Some("1234567890"))
    );
}
