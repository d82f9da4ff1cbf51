//! Names of EMVCo MPM and VietQR tags, for people reading a decoded payload.

/// The name of a field by its full path (`"38.01.00"`), or `None` when the tag has no fixed
/// meaning at that place.
pub fn name(path: &str) -> Option<&'static str> {
    let (parent, tag) = path.rsplit_once('.').unwrap_or(("", path));
    let top = parent.split('.').next().unwrap_or("");
    Some(match (parent, tag) {
        ("", "00") => "payload_format_indicator",
        ("", "01") => "point_of_initiation",
        ("", "02" | "03") => "visa",
        ("", "04" | "05") => "mastercard",
        ("", t) if ("26"..="51").contains(&t) => "merchant_account_information",
        ("", "52") => "merchant_category_code",
        ("", "53") => "transaction_currency",
        ("", "54") => "transaction_amount",
        ("", "55") => "tip_or_convenience_indicator",
        ("", "56") => "convenience_fee_fixed",
        ("", "57") => "convenience_fee_percentage",
        ("", "58") => "country_code",
        ("", "59") => "merchant_name",
        ("", "60") => "merchant_city",
        ("", "61") => "postal_code",
        ("", "62") => "additional_data",
        ("", "63") => "crc",
        ("", "64") => "merchant_information_language",
        ("", t) if ("80"..="99").contains(&t) => "unreserved_template",
        (_, "00") if ("26"..="51").contains(&top) && parent.len() == 2 => "guid",
        ("38", "01") => "beneficiary",
        ("38", "02") => "service_code",
        ("38.01", "00") => "acquirer_bin",
        ("38.01", "01") => "account_number",
        ("62", "01") => "bill_number",
        ("62", "02") => "mobile_number",
        ("62", "03") => "store_label",
        ("62", "04") => "loyalty_number",
        ("62", "05") => "reference_label",
        ("62", "06") => "customer_label",
        ("62", "07") => "terminal_label",
        ("62", "08") => "purpose_of_transaction",
        ("62", "09") => "additional_consumer_data_request",
        ("64", "00") => "language_preference",
        ("64", "01") => "merchant_name_alternate",
        ("64", "02") => "merchant_city_alternate",
        _ => return None,
    })
}

/// Whether the value of the field at `path` is always a TLV template. (The NAPAS beneficiary,
/// `01` inside a template whose GUID is NAPAS's, is one too; the decoder knows that from the GUID.)
pub fn is_template(path: &str) -> bool {
    matches!(path, "62" | "64")
        || (path.len() == 2 && (("26"..="51").contains(&path) || ("80"..="99").contains(&path)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietqr_paths_have_names() {
        assert_eq!(name("38"), Some("merchant_account_information"));
        assert_eq!(name("38.00"), Some("guid"));
        assert_eq!(name("26.00"), Some("guid"));
        assert_eq!(name("38.01.01"), Some("account_number"));
        assert_eq!(name("62.08"), Some("purpose_of_transaction"));
        assert_eq!(name("62.99"), None);
        assert!(is_template("38") && is_template("26") && is_template("62"));
        assert!(!is_template("54") && !is_template("62.08"));
    }
}
