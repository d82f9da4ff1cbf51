//! Golden VietQR payloads: the public examples and cases from an independent Python encoder
//! (`tests/golden/vietqr_golden.py`) must come out of chopay byte for byte, and read back.

use chopay::domain::fold::to_ascii;
use chopay::domain::money::Vnd;
use chopay::domain::vietqr::{Scheme, VietQr, VietQrFields, decode};

use crate::helpers::{GoldenCase, golden_cases};

fn fields(case: &GoldenCase) -> VietQrFields {
    VietQrFields {
        bin: case.bin.clone(),
        account: case.account.clone(),
        service: case.service.parse().unwrap(),
        amount: case.amount.as_deref().map(|a| Vnd::parse(a).unwrap()),
        mcc: case.mcc.clone(),
        merchant_name: case.merchant_name.clone(),
        merchant_city: case.merchant_city.clone(),
        bill_number: case.bill_number.clone(),
        mobile: case.mobile.clone(),
        store_label: case.store_label.clone(),
        reference_label: case.reference_label.clone(),
        terminal_label: case.terminal_label.clone(),
        purpose: case.purpose.clone(),
    }
}

#[test]
fn there_are_enough_golden_cases_to_mean_something() {
    let cases = golden_cases();
    assert!(cases.len() >= 24, "{} cases", cases.len());
    assert!(cases.iter().any(|c| c.name.starts_with("public_")));
}

#[test]
fn chopay_encodes_every_golden_case_byte_for_byte() {
    for case in golden_cases() {
        let code = VietQr::new(fields(&case)).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        assert_eq!(code.payload(), case.payload, "{}", case.name);
    }
}

#[test]
fn chopay_reads_every_golden_case_back_to_its_folded_fields() {
    let fold = |text: &Option<String>| text.as_deref().map(to_ascii);
    for case in golden_cases() {
        let d = decode(&case.payload).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        assert_eq!(d.scheme, Scheme::Vietqr, "{}", case.name);
        assert_eq!(d.bin.as_deref(), Some(case.bin.as_str()), "{}", case.name);
        assert!(
            d.bank.is_some(),
            "{}: BIN {} should be in the directory",
            case.name,
            case.bin
        );
        assert_eq!(
            d.account.as_deref(),
            Some(case.account.as_str()),
            "{}",
            case.name
        );
        assert_eq!(
            d.service.map(|s| s.as_str()),
            Some(case.service.as_str()),
            "{}",
            case.name
        );
        assert_eq!(
            d.amount.map(|a| a.to_dong().to_string()),
            case.amount,
            "{}",
            case.name
        );
        assert_eq!(d.merchant_category_code, case.mcc, "{}", case.name);
        assert_eq!(d.merchant_name, fold(&case.merchant_name), "{}", case.name);
        assert_eq!(d.merchant_city, fold(&case.merchant_city), "{}", case.name);
        assert_eq!(d.bill_number, fold(&case.bill_number), "{}", case.name);
        assert_eq!(d.mobile, fold(&case.mobile), "{}", case.name);
        assert_eq!(d.store_label, fold(&case.store_label), "{}", case.name);
        assert_eq!(
            d.reference_label,
            fold(&case.reference_label),
            "{}",
            case.name
        );
        assert_eq!(
            d.terminal_label,
            fold(&case.terminal_label),
            "{}",
            case.name
        );
        assert_eq!(d.purpose, fold(&case.purpose), "{}", case.name);
        let shared_bin = ["970406", "970414", "970449"].contains(&case.bin.as_str());
        assert!(
            d.warnings.is_empty() || shared_bin,
            "{}: {:?}",
            case.name,
            d.warnings
        );
    }
}
