//! VietQR benchmarks (criterion): payload encode and decode, payload → SVG, payload → PNG, at the
//! settings the README compares against peers: error correction M, 8 px per module, quiet zone 4,
//! for a 121-character dynamic payload (QR version 5). The `qrcode` crate's own path is measured
//! beside ours as the baseline.
//!
//! Run: `cargo bench --bench vietqr`. Figures go in the README's Performance section.

// A benchmark whose setup is wrong must stop, not measure something else.
#![allow(clippy::panic)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};

use chopay::domain::money::Vnd;
use chopay::domain::vietqr::{VietQr, VietQrFields, decode};
use chopay::qr::{EcLevel, Layout, QrMatrix, png, svg};

fn dynamic_code() -> VietQr {
    let fields = VietQrFields {
        bin: "970436".into(),
        account: "1234567890".into(),
        amount: Vnd::from_dong(50_000).ok(),
        purpose: Some("Tien cho Mo 1".into()),
        ..VietQrFields::default()
    };
    match VietQr::new(fields) {
        Ok(code) => code,
        Err(error) => panic!("benchmark fields are valid: {error}"),
    }
}

fn benches(c: &mut Criterion) {
    let code = dynamic_code();
    let payload = code.payload();
    assert_eq!(
        payload.len(),
        121,
        "the comparison payload is 121 characters"
    );
    let layout = Layout {
        module_px: 8,
        quiet_zone: 4,
    };
    let matrix = QrMatrix::encode(payload.as_bytes(), EcLevel::M).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(matrix.version(), 5, "same QR version as the peers");

    c.bench_function("encode_payload", |b| b.iter(|| black_box(&code).payload()));
    c.bench_function("decode_payload", |b| b.iter(|| decode(black_box(&payload))));
    c.bench_function("parse_amount", |b| {
        b.iter(|| Vnd::parse(black_box("1.250.000đ")))
    });
    c.bench_function("payload_to_svg", |b| {
        b.iter(|| {
            let matrix = QrMatrix::encode(black_box(payload.as_bytes()), EcLevel::M)
                .unwrap_or_else(|e| panic!("{e}"));
            svg::render(&matrix, layout)
        })
    });
    c.bench_function("payload_to_png", |b| {
        b.iter(|| {
            let matrix = QrMatrix::encode(black_box(payload.as_bytes()), EcLevel::M)
                .unwrap_or_else(|e| panic!("{e}"));
            png::render(&matrix, layout).unwrap_or_else(|e| panic!("{e}"))
        })
    });
    c.bench_function("payload_and_svg", |b| {
        b.iter(|| {
            let payload = black_box(&code).payload();
            let matrix =
                QrMatrix::encode(payload.as_bytes(), EcLevel::M).unwrap_or_else(|e| panic!("{e}"));
            svg::render(&matrix, layout)
        })
    });
    c.bench_function("payload_and_png", |b| {
        b.iter(|| {
            let payload = black_box(&code).payload();
            let matrix =
                QrMatrix::encode(payload.as_bytes(), EcLevel::M).unwrap_or_else(|e| panic!("{e}"));
            png::render(&matrix, layout).unwrap_or_else(|e| panic!("{e}"))
        })
    });
    c.bench_function("matrix_only", |b| {
        b.iter(|| QrMatrix::encode(black_box(payload.as_bytes()), EcLevel::M))
    });
    c.bench_function("svg_from_matrix", |b| {
        b.iter(|| svg::render(black_box(&matrix), layout))
    });
    c.bench_function("png_from_matrix", |b| {
        b.iter(|| png::render(black_box(&matrix), layout))
    });
    c.bench_function("baseline_qrcode_crate_svg", |b| {
        b.iter(|| {
            let code = qrcode::QrCode::with_error_correction_level(
                black_box(payload.as_bytes()),
                qrcode::EcLevel::M,
            )
            .unwrap_or_else(|e| panic!("{e}"));
            code.render::<qrcode::render::svg::Color>()
                .module_dimensions(8, 8)
                .quiet_zone(true)
                .build()
        })
    });
}

criterion_group!(vietqr, benches);
criterion_main!(vietqr);
