//! `chopay qr encode` and `chopay qr decode` through the real binary.

use crate::helpers::{chopay, chopay_with_stdin, golden_cases};

#[test]
fn encode_prints_a_static_code_without_amount_and_a_dynamic_one_with_it() {
    let static_code = chopay(&["qr", "encode", "--bin", "970416", "--account", "257678859"]);
    assert_eq!(static_code.code, 0, "{}", static_code.stderr);
    assert_eq!(
        static_code.stdout_text(),
        "00020101021138530010A0000007270123000697041601092576788590208QRIBFTTA53037045802VN6304AE9F\n"
    );
    let dynamic = chopay(&[
        "qr",
        "encode",
        "--bin",
        "970403",
        "--account",
        "0011012345678",
        "--amount",
        "180.000đ",
        "--bill",
        "NPS6869",
        "--purpose",
        "thanh toan don hang",
    ]);
    assert_eq!(
        dynamic.stdout_text(),
        "00020101021238570010A00000072701270006970403011300110123456780208QRIBFTTA530370454061800005802VN62340107NPS68690819thanh toan don hang63042E2E\n"
    );
}

#[test]
fn encode_finds_the_bank_by_code_or_name_and_folds_vietnamese() {
    let by_code = chopay(&[
        "qr",
        "encode",
        "--bank",
        "VCB",
        "--account",
        "1234567890",
        "--purpose",
        "Tiền chợ Mơ",
    ]);
    let by_name = chopay(&[
        "qr",
        "encode",
        "--bank",
        "vietcombank",
        "--account",
        "1234567890",
        "--purpose",
        "Tien cho Mo",
    ]);
    assert_eq!(by_code.code, 0, "{}", by_code.stderr);
    assert_eq!(by_code.stdout, by_name.stdout);
    assert!(by_code.stdout_text().contains("0006970436"));
    assert!(by_code.stdout_text().contains("0811Tien cho Mo"));
}

#[test]
fn encode_agrees_with_the_golden_cases() {
    for case in golden_cases()
        .iter()
        .filter(|c| c.mcc.is_none() && c.merchant_name.is_none() && c.mobile.is_none())
    {
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
        let options = [
            ("--amount", &case.amount),
            ("--purpose", &case.purpose),
            ("--bill", &case.bill_number),
            ("--reference-label", &case.reference_label),
            ("--store-label", &case.store_label),
            ("--terminal-label", &case.terminal_label),
        ];
        for (flag, value) in &options {
            if let Some(value) = value {
                args.push(flag);
                args.push(value);
            }
        }
        let run = chopay(&args);
        assert_eq!(run.code, 0, "{}: {}", case.name, run.stderr);
        assert_eq!(run.stdout_text().trim_end(), case.payload, "{}", case.name);
    }
}

#[test]
fn bad_fields_are_refused_with_the_field_named_and_exit_code_2() {
    let long = chopay(&[
        "qr",
        "encode",
        "--bin",
        "970436",
        "--account",
        "1",
        "--purpose",
        &"x".repeat(30),
    ]);
    assert_eq!(long.code, 2);
    assert_eq!(
        long.stderr,
        "chopay: 62.08 (purpose): at most 25 characters, got 30 ('xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx')\n"
    );
    let bad_amount = chopay(&[
        "qr",
        "encode",
        "--bin",
        "970436",
        "--account",
        "1",
        "--amount",
        "12,5",
    ]);
    assert_eq!(bad_amount.code, 2);
    assert_eq!(
        bad_amount.stderr,
        "chopay: invalid value '12,5' for '--amount <AMOUNT>': amount must be whole đồng without fractions (got 12.5)\n"
    );
    let no_bank = chopay(&["qr", "encode", "--bank", "nobank", "--account", "1"]);
    assert_eq!(no_bank.code, 2);
    assert!(
        no_bank.stderr.contains("no bank matches 'nobank'"),
        "{}",
        no_bank.stderr
    );
    let no_payee = chopay(&["qr", "encode", "--account", "1"]);
    assert_eq!(no_payee.code, 2);
    assert_eq!(
        no_payee.stderr,
        "chopay: the following required arguments were not provided: <--bin <BIN>|--bank <BANK>>\n"
    );
    let both = chopay(&[
        "qr",
        "encode",
        "--bin",
        "970436",
        "--bank",
        "VCB",
        "--account",
        "1",
    ]);
    assert_eq!(both.code, 2);
    assert_eq!(both.stderr.lines().count(), 1, "{}", both.stderr);
}

#[test]
fn a_card_code_can_name_its_bank() {
    let run = chopay(&[
        "qr",
        "encode",
        "--bank",
        "sacombank",
        "--service",
        "card",
        "--account",
        "9704031101234567",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout_text(),
        "00020101021138600010A00000072701300006970403011697040311012345670208QRIBFTTC53037045802VN63044F52\n"
    );
    let letters = chopay(&[
        "qr",
        "encode",
        "--bank",
        "sacombank",
        "--service",
        "card",
        "--account",
        "VQR1",
    ]);
    assert_eq!(
        letters.stderr,
        "chopay: 38.01.01 (account): a card number has only digits, got 'VQR1'\n"
    );
}

#[test]
fn help_goes_to_standard_output() {
    let run = chopay(&["qr", "encode", "--help"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout_text().contains("--reference-label"));
}

#[test]
fn decode_prints_every_field_as_json() {
    let run = chopay(&[
        "qr",
        "decode",
        "00020101021238570010A00000072701270006970403011300110123456780208QRIBFTTA530370454061800005802VN62340107NPS68690819thanh toan don hang63042E2E",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    for key in [
        "scheme",
        "point_of_initiation",
        "bin",
        "bank",
        "account",
        "service",
        "amount",
        "currency",
        "country",
        "purpose",
        "bill_number",
        "reference_label",
        "store_label",
        "terminal_label",
        "merchant_name",
        "merchant_city",
        "crc",
        "warnings",
        "fields",
    ] {
        assert!(json.get(key).is_some(), "missing {key}");
    }
    assert_eq!(json["scheme"], "vietqr");
    assert_eq!(json["point_of_initiation"], "dynamic");
    assert_eq!(json["bin"], "970403");
    assert_eq!(json["bank"]["short_name"], "Sacombank");
    assert_eq!(json["account"], "0011012345678");
    assert_eq!(json["service"], "account");
    assert_eq!(json["amount"], "180000");
    assert_eq!(json["currency"], "704");
    assert_eq!(json["country"], "VN");
    assert_eq!(json["purpose"], "thanh toan don hang");
    assert_eq!(json["bill_number"], "NPS6869");
    assert_eq!(json["crc"], "2E2E");
    assert_eq!(json["warnings"], serde_json::json!([]));
    assert_eq!(
        json["fields"][2]["fields"][1]["fields"][0]["path"],
        "38.01.00"
    );
    assert_eq!(
        json["fields"][2]["fields"][1]["fields"][0]["value"],
        "970403"
    );
}

#[test]
fn decode_reads_standard_input_and_reports_warnings() {
    let run = chopay_with_stdin(
        &["qr", "decode", "-"],
        "00020101021138540010A00000072701240006970422011003523509170208QRIBFTTA53037045802VN630479db\n",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(json["account"], "0352350917");
    assert_eq!(json["amount"], serde_json::Value::Null);
    assert_eq!(json["point_of_initiation"], "static");
    assert_eq!(
        json["warnings"][0],
        "CRC written in lower case ('79db'); encoders should write '79DB'"
    );
}

#[test]
fn a_broken_code_gets_one_line_naming_the_problem_and_exit_code_2() {
    for (payload, message) in [
        (
            "00020101021138540010A00000072701240006970422011003523509170208QRIBFTTA53037045802VN630479dc",
            "chopay: invalid QR payload: wrong CRC: expected 79DB, found 79dc\n",
        ),
        (
            "hello",
            "chopay: invalid QR payload: no CRC: a VietQR payload ends with 6304 and four hex digits\n",
        ),
        ("", "chopay: invalid QR payload: empty payload\n"),
    ] {
        let run = chopay(&["qr", "decode", payload]);
        assert_eq!(run.code, 2, "{payload}");
        assert_eq!(run.stderr, message);
        assert!(run.stdout.is_empty());
    }
}

#[test]
fn images_are_written_to_the_named_file() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("code.svg");
    let png = dir.path().join("code.png");
    for (format, path) in [("svg", &svg), ("png", &png)] {
        let run = chopay(&[
            "qr",
            "encode",
            "--bin",
            "970436",
            "--account",
            "1234567890",
            "--format",
            format,
            "-o",
            path.to_str().unwrap(),
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(run.stdout.is_empty());
    }
    let svg_text = std::fs::read_to_string(&svg).unwrap();
    assert!(svg_text.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    let image = image::open(&png).unwrap();
    // A 93-character static code is version 4 (33 modules); plus 2 × 4 quiet modules, 8 px each.
    assert_eq!((image.width(), image.height()), (328, 328));
}
