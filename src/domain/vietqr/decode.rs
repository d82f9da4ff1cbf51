//! VietQR decoding: lenient about what is odd but usable, strict about the CRC.
//!
//! Order of checks: the payload must end with `6304` and four hex digits, and the CRC must match
//! (a corrupted code is refused before anything is read from it, with the expected and found
//! values); then the TLV tree is read, with lengths in characters or, failing that, UTF-8 bytes;
//! then the fields are interpreted. Oddities that leave the code payable (a lower-case CRC, an
//! amount on a static code, an unknown BIN, over-long labels) become warnings; a malformed field a
//! payment needs (`38.01`, `54`) is an error naming its path.

use serde::Serialize;

use super::banks::{Bank, directory};
use super::tlv::{LengthUnit, RawField, TlvError, child_path, read_fields};
use super::{Initiation, NAPAS_GUID, Service, VNPAY_GUID, VietQrFields, crc, tags};
use crate::domain::money::Vnd;

/// The payment scheme a payload belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    /// NAPAS VietQR (GUID `A000000727`): any Vietnamese bank app pays it.
    Vietqr,
    /// VNPAY-QR merchant code (GUID `A000000775`).
    Vnpay,
    /// Another EMVCo merchant-presented code (PIX, PromptPay, DuitNow, …).
    Emvco,
}

/// One field of the raw tag tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Field {
    /// The two-digit tag.
    pub tag: String,
    /// The full path, e.g. `38.01.00`.
    pub path: String,
    /// What the tag means at this place, when it has a fixed meaning.
    pub name: Option<&'static str>,
    /// The value as written (for a template, its whole text).
    pub value: String,
    /// The nested fields of a template; empty for plain values.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<Field>,
}

/// What the bank directory knows of a BIN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BankInfo {
    /// The BIN looked up.
    pub bin: String,
    /// Short name; for a BIN shared by several institutions, every name joined with " / ".
    pub short_name: String,
    /// Full Vietnamese name, joined likewise.
    pub name: String,
    /// Every institution registered under the BIN, current names first.
    pub institutions: Vec<Bank>,
}

/// Everything a payload says, with the warnings it deserves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decoded {
    /// The scheme, from the GUID of the merchant account template.
    pub scheme: Scheme,
    /// Tag 01: static or dynamic; `None` when absent or unknown.
    pub point_of_initiation: Option<Initiation>,
    /// Tag 38.01.00.
    pub bin: Option<String>,
    /// The bank behind the BIN, when the directory knows it.
    pub bank: Option<BankInfo>,
    /// Tag 38.01.01.
    pub account: Option<String>,
    /// Tag 38.02.
    pub service: Option<Service>,
    /// Tag 54, when the currency is VND.
    pub amount: Option<Vnd>,
    /// Tag 53.
    pub currency: Option<String>,
    /// Tag 58.
    pub country: Option<String>,
    /// Tag 52.
    pub merchant_category_code: Option<String>,
    /// Tag 59.
    pub merchant_name: Option<String>,
    /// Tag 60.
    pub merchant_city: Option<String>,
    /// Tag 62.01.
    pub bill_number: Option<String>,
    /// Tag 62.02.
    pub mobile: Option<String>,
    /// Tag 62.03.
    pub store_label: Option<String>,
    /// Tag 62.05.
    pub reference_label: Option<String>,
    /// Tag 62.07.
    pub terminal_label: Option<String>,
    /// Tag 62.08.
    pub purpose: Option<String>,
    /// Tag 63 as written.
    pub crc: String,
    /// What is odd about the payload without making it unusable.
    pub warnings: Vec<String>,
    /// The raw tag tree.
    pub fields: Vec<Field>,
}

/// Why a payload cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Nothing to read.
    #[error("empty payload")]
    Empty,
    /// No `6304` + four characters at the end.
    #[error("no CRC: a VietQR payload ends with 6304 and four hex digits")]
    MissingCrc,
    /// The CRC field holds something other than hex digits.
    #[error("CRC '{0}' is not four hex digits")]
    BadCrc(String),
    /// The CRC does not match: the code is corrupted or was edited.
    #[error("wrong CRC: expected {expected}, found {found}")]
    CrcMismatch {
        /// The CRC of the payload as read.
        expected: String,
        /// The CRC written in the payload.
        found: String,
    },
    /// The TLV structure is broken.
    #[error("malformed field {0}")]
    Tlv(#[from] TlvError),
    /// A field a payment needs holds an unusable value.
    #[error("{path} ({name}): {problem}")]
    Field {
        /// Its tag path.
        path: String,
        /// What the field is.
        name: &'static str,
        /// What is wrong.
        problem: String,
    },
}

fn field_error(path: &str, name: &'static str, problem: impl Into<String>) -> DecodeError {
    DecodeError::Field {
        path: path.to_owned(),
        name,
        problem: problem.into(),
    }
}

/// Reads a payload. See the module documentation for what is lenient and what is strict.
pub fn decode(payload: &str) -> Result<Decoded, DecodeError> {
    let mut warnings = Vec::new();
    let text = payload.trim();
    if text.len() != payload.len() {
        warnings.push("white space around the payload was ignored".to_owned());
    }
    if text.is_empty() {
        return Err(DecodeError::Empty);
    }
    let crc = check_crc(text, &mut warnings)?;
    let (raw, unit) = read_root(text, &mut warnings)?;
    let mut broken = Vec::new();
    let fields = build_tree(&raw, "", unit, &mut broken);
    Interpreter {
        fields: &fields,
        broken: &broken,
        warnings,
    }
    .run(crc.to_owned())
}

/// Reads the top-level fields, in characters or, failing that, UTF-8 bytes. A reading only counts
/// when it ends with the CRC field that [`check_crc`] found: otherwise a byte-counted payload
/// could be misread in characters with the CRC swallowed by the field before it.
fn read_root<'a>(
    text: &'a str,
    warnings: &mut Vec<String>,
) -> Result<(Vec<RawField<'a>>, LengthUnit), DecodeError> {
    let ends_with_crc = |raw: &[RawField<'_>]| {
        raw.last()
            .is_some_and(|f| f.tag == "63" && f.value.len() == 4)
    };
    let crc_not_last = || TlvError {
        path: "63".to_owned(),
        problem: "the CRC is not the last field: the lengths before it do not add up".to_owned(),
    };
    let in_chars = read_fields(text, LengthUnit::Chars, "");
    if let Ok(raw) = &in_chars
        && ends_with_crc(raw)
    {
        return Ok((in_chars.unwrap_or_default(), LengthUnit::Chars));
    }
    if !text.is_ascii()
        && let Ok(raw) = read_fields(text, LengthUnit::Bytes, "")
        && ends_with_crc(&raw)
    {
        warnings.push("lengths count UTF-8 bytes, not characters".to_owned());
        return Ok((raw, LengthUnit::Bytes));
    }
    Err(in_chars.err().unwrap_or_else(crc_not_last).into())
}

/// Checks tag 63 and returns the CRC as written.
fn check_crc<'a>(text: &'a str, warnings: &mut Vec<String>) -> Result<&'a str, DecodeError> {
    let mut from_end = text.char_indices().rev().map(|(index, _)| index);
    let (Some(crc_start), Some(tag_start)) = (from_end.nth(3), from_end.nth(3)) else {
        return Err(DecodeError::MissingCrc);
    };
    if text.get(tag_start..crc_start) != Some("6304") {
        return Err(DecodeError::MissingCrc);
    }
    let found = &text[crc_start..];
    if !found.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(DecodeError::BadCrc(found.to_owned()));
    }
    let expected_bytes = crc::to_hex(crc::checksum(&text.as_bytes()[..crc_start]));
    let expected = String::from_utf8_lossy(&expected_bytes).into_owned();
    if !found.eq_ignore_ascii_case(&expected) {
        return Err(DecodeError::CrcMismatch {
            expected,
            found: found.to_owned(),
        });
    }
    if found != expected {
        warnings.push(format!(
            "CRC written in lower case ('{found}'); encoders should write '{expected}'"
        ));
    }
    Ok(found)
}

fn build_tree(
    raw: &[RawField<'_>],
    parent: &str,
    unit: LengthUnit,
    broken: &mut Vec<TlvError>,
) -> Vec<Field> {
    raw.iter()
        .map(|field| {
            let path = child_path(parent, field.tag);
            let mut children = if tags::is_template(&path) {
                read_template(field.value, &path, unit, broken)
            } else {
                Vec::new()
            };
            // Under the NAPAS GUID, 01 is itself a template (BIN and account), whatever the tag.
            let napas = children
                .iter()
                .any(|c| c.tag == "00" && c.value.eq_ignore_ascii_case(NAPAS_GUID));
            if napas && ("26"..="51").contains(&path.as_str()) {
                for child in children.iter_mut().filter(|c| c.tag == "01") {
                    child.fields = read_template(&child.value, &child.path, unit, broken);
                }
            }
            Field {
                tag: field.tag.to_owned(),
                name: tags::name(&path),
                path,
                value: field.value.to_owned(),
                fields: children,
            }
        })
        .collect()
}

/// The fields of a template, or none (with the reason recorded in `broken`).
fn read_template(
    value: &str,
    path: &str,
    unit: LengthUnit,
    broken: &mut Vec<TlvError>,
) -> Vec<Field> {
    match read_fields(value, unit, path) {
        Ok(nested) => build_tree(&nested, path, unit, broken),
        Err(error) => {
            broken.push(error);
            Vec::new()
        }
    }
}

fn find<'f>(fields: &'f [Field], tag: &str) -> Option<&'f Field> {
    fields.iter().find(|f| f.tag == tag)
}

fn value_of(fields: &[Field], tag: &str) -> Option<String> {
    find(fields, tag).map(|f| f.value.clone())
}

/// Turns the tag tree into the decoded fields, collecting warnings.
struct Interpreter<'a> {
    fields: &'a [Field],
    broken: &'a [TlvError],
    warnings: Vec<String>,
}

impl<'a> Interpreter<'a> {
    fn warn(&mut self, warning: impl Into<String>) {
        self.warnings.push(warning.into());
    }

    /// The TLV error inside the template at `path`, if reading it failed.
    fn broken_under(&self, path: &str) -> Option<&'a TlvError> {
        self.broken
            .iter()
            .find(|e| e.path == path || e.path.starts_with(&format!("{path}.")))
    }

    fn run(mut self, crc: String) -> Result<Decoded, DecodeError> {
        self.check_order();
        match self.fields.first() {
            Some(first) if first.tag == "00" => {
                if first.value != "01" {
                    self.warn(format!(
                        "payload format indicator is '{}', expected '01'",
                        first.value
                    ));
                }
            }
            _ => {
                return Err(field_error(
                    "00",
                    "payload_format_indicator",
                    "must come first, with value 01",
                ));
            }
        }
        if self
            .fields
            .iter()
            .all(|f| !("02"..="51").contains(&f.tag.as_str()))
        {
            self.warn("no merchant account information (tags 02-51): nothing says who is paid");
        }
        let point_of_initiation = match find(self.fields, "01").map(|f| f.value.as_str()) {
            Some("11") => Some(Initiation::Static),
            Some("12") => Some(Initiation::Dynamic),
            Some(other) => {
                self.warn(format!(
                    "point of initiation '{other}' is neither 11 (static) nor 12 (dynamic)"
                ));
                None
            }
            None => {
                self.warn("no point of initiation (tag 01): static or dynamic is not said");
                None
            }
        };

        let (scheme, template) = self.scheme();
        let (bin, account, service) = match (scheme, template) {
            (Scheme::Vietqr, Some(template)) => self.napas_account(template)?,
            _ => (None, None, None),
        };
        let bank = bin.as_deref().and_then(|bin| self.bank(bin));

        let currency = value_of(self.fields, "53");
        match currency.as_deref() {
            Some("704") => {}
            Some(other) => self.warn(format!("currency '{other}' is not VND (704)")),
            None if scheme == Scheme::Vietqr => {
                self.warn("no currency (tag 53); VietQR requires 704")
            }
            None => {}
        }
        let amount = match find(self.fields, "54") {
            Some(field) if matches!(currency.as_deref(), Some("704") | None) => {
                Some(self.amount(&field.value)?)
            }
            Some(field) => {
                self.warn(format!(
                    "amount '{}' is not in VND and is not read as one",
                    field.value
                ));
                None
            }
            None => None,
        };
        match (point_of_initiation, amount) {
            (Some(Initiation::Static), Some(_)) => {
                self.warn("a static code (01 = 11) carries an amount; bank apps may pre-fill it")
            }
            (Some(Initiation::Dynamic), None) => {
                self.warn("a dynamic code (01 = 12) without an amount")
            }
            _ => {}
        }
        let country = value_of(self.fields, "58");
        if let Some(country) = country.as_deref().filter(|c| *c != "VN") {
            self.warn(format!("country '{country}' is not VN"));
        }
        let merchant_name = self.text("59", 25);
        let merchant_city = self.text("60", 15);

        // The payee template's problems were errors above; any other broken template is kept as
        // text with a warning.
        let payee_path = template
            .map(|t| t.path.as_str())
            .filter(|_| scheme == Scheme::Vietqr);
        for error in self.broken {
            let top = error.path.split('.').next().unwrap_or("");
            if Some(top) == payee_path {
                continue;
            }
            let kept = if top == "62" {
                "additional data ignored"
            } else {
                "kept as text"
            };
            self.warn(format!("malformed field {error}; {kept}"));
        }
        let additional = find(self.fields, "62")
            .map(|f| f.fields.as_slice())
            .unwrap_or_default();
        let mut sub = |tag: &str| -> Option<String> {
            let field = find(additional, tag)?;
            self.check_text(&field.path, &field.value, 25);
            Some(field.value.clone())
        };
        let (bill_number, mobile, store_label) = (sub("01"), sub("02"), sub("03"));
        let (reference_label, terminal_label, purpose) = (sub("05"), sub("07"), sub("08"));

        Ok(Decoded {
            scheme,
            point_of_initiation,
            bin,
            bank,
            account,
            service,
            amount,
            currency,
            country,
            merchant_category_code: value_of(self.fields, "52"),
            merchant_name,
            merchant_city,
            bill_number,
            mobile,
            store_label,
            reference_label,
            terminal_label,
            purpose,
            crc,
            warnings: self.warnings,
            fields: self.fields.to_vec(),
        })
    }

    fn check_order(&mut self) {
        let tags: Vec<&str> = self.fields.iter().map(|f| f.tag.as_str()).collect();
        for pair in tags.windows(2) {
            if let [before, after] = pair {
                if before == after {
                    self.warn(format!(
                        "tag {before} appears more than once; the first is used"
                    ));
                } else if before > after && *after != "63" {
                    self.warn(format!(
                        "tag {after} comes after tag {before}; tags should ascend"
                    ));
                }
            }
        }
    }

    /// The scheme, and the merchant account template that names it.
    fn scheme(&mut self) -> (Scheme, Option<&'a Field>) {
        let templates = self
            .fields
            .iter()
            .filter(|f| ("26"..="51").contains(&f.tag.as_str()));
        let mut fallback = None;
        for template in templates {
            let guid = find(&template.fields, "00").map(|g| g.value.to_ascii_uppercase());
            match guid.as_deref() {
                Some(NAPAS_GUID) => {
                    if template.tag != "38" {
                        self.warn(format!(
                            "the NAPAS template is under tag {}, not 38",
                            template.tag
                        ));
                    }
                    return (Scheme::Vietqr, Some(template));
                }
                Some(VNPAY_GUID) => fallback = fallback.or(Some(template)),
                _ => {}
            }
            if template.tag == "38" && self.broken_under("38").is_some() {
                return (Scheme::Vietqr, Some(template));
            }
        }
        match fallback {
            Some(template) => (Scheme::Vnpay, Some(template)),
            None => (Scheme::Emvco, None),
        }
    }

    /// Reads BIN, account and service from the NAPAS template.
    #[allow(clippy::type_complexity)]
    fn napas_account(
        &mut self,
        template: &Field,
    ) -> Result<(Option<String>, Option<String>, Option<Service>), DecodeError> {
        if let Some(error) = self.broken_under(&template.path) {
            return Err(error.clone().into());
        }
        let beneficiary_path = child_path(&template.path, "01");
        let beneficiary = find(&template.fields, "01").ok_or_else(|| {
            field_error(
                &beneficiary_path,
                "beneficiary",
                "missing: no BIN and account",
            )
        })?;
        let bin = find(&beneficiary.fields, "00").ok_or_else(|| {
            field_error(&format!("{beneficiary_path}.00"), "acquirer_bin", "missing")
        })?;
        if bin.value.len() != 6 || !bin.value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(field_error(
                &bin.path,
                "acquirer_bin",
                format!("must be 6 digits, got '{}'", bin.value),
            ));
        }
        let account = find(&beneficiary.fields, "01").ok_or_else(|| {
            field_error(
                &format!("{beneficiary_path}.01"),
                "account_number",
                "missing",
            )
        })?;
        if account.value.chars().count() > 19
            || !account.value.chars().all(|c| c.is_ascii_alphanumeric())
        {
            self.warn(format!(
                "{} account number '{}' is not 1-19 letters or digits",
                account.path, account.value
            ));
        }
        let service = match find(&template.fields, "02").map(|f| f.value.as_str()) {
            Some(code) => {
                let service = Service::from_code(code);
                if service.is_none() {
                    self.warn(format!(
                        "unknown service code '{code}' (expected QRIBFTTA or QRIBFTTC)"
                    ));
                }
                service
            }
            None => {
                self.warn("no service code (38.02); bank apps assume a transfer to an account");
                None
            }
        };
        Ok((
            Some(bin.value.clone()),
            Some(account.value.clone()),
            service,
        ))
    }

    fn bank(&mut self, bin: &str) -> Option<BankInfo> {
        let banks = directory().by_bin(bin);
        if banks.is_empty() {
            self.warn(format!("BIN {bin} is not in the NAPAS directory"));
            return None;
        }
        let join = |part: fn(&Bank) -> &str| {
            banks
                .iter()
                .map(|b| part(b))
                .collect::<Vec<_>>()
                .join(" / ")
        };
        let info = BankInfo {
            bin: bin.to_owned(),
            short_name: join(|b| &b.short_name),
            name: join(|b| &b.name),
            institutions: banks.iter().map(|b| (*b).clone()).collect(),
        };
        if banks.len() > 1 {
            self.warn(format!(
                "BIN {bin} is shared by {}",
                join(|b| &b.short_name)
            ));
        }
        Some(info)
    }

    /// Tag 54: whole đồng; `1000.0` is accepted with a warning, `1000.5` is not.
    fn amount(&mut self, value: &str) -> Result<Vnd, DecodeError> {
        let error = |problem: String| field_error("54", "transaction_amount", problem);
        let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
        if whole.is_empty()
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || !fraction.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(error(format!("'{value}' is not a number")));
        }
        if fraction.bytes().any(|b| b != b'0') {
            return Err(error(format!("'{value}' has a fraction of a đồng")));
        }
        if value.contains('.') {
            self.warn(format!(
                "amount '{value}' has a decimal point; some bank apps reject it"
            ));
        }
        if whole.len() > 1 && whole.starts_with('0') {
            self.warn(format!("amount '{value}' has leading zeros"));
        }
        let digits = whole.trim_start_matches('0');
        if digits.len() > 13 {
            return Err(error(format!("'{value}' is more than 9.999.999.999.999đ")));
        }
        let dong: i64 = digits.parse().unwrap_or(0);
        Vnd::from_dong(dong).map_err(|e| error(e.to_string()))
    }

    fn text(&mut self, tag: &str, max_chars: usize) -> Option<String> {
        let value = value_of(self.fields, tag)?;
        self.check_text(tag, &value, max_chars);
        Some(value)
    }

    fn check_text(&mut self, path: &str, value: &str, max_chars: usize) {
        let name = tags::name(path).unwrap_or("field");
        if !value.is_ascii() {
            self.warn(format!(
                "{path} ({name}) has non-ASCII characters; some bank apps fail on them"
            ));
        }
        let length = value.chars().count();
        if length > max_chars {
            self.warn(format!(
                "{path} ({name}) is {length} characters; the limit is {max_chars}"
            ));
        }
    }
}

impl Decoded {
    /// The fields as an encoder input, for re-encoding what was read.
    pub fn to_fields(&self) -> VietQrFields {
        VietQrFields {
            bin: self.bin.clone().unwrap_or_default(),
            account: self.account.clone().unwrap_or_default(),
            service: self.service.unwrap_or_default(),
            amount: self.amount,
            mcc: self.merchant_category_code.clone(),
            merchant_name: self.merchant_name.clone(),
            merchant_city: self.merchant_city.clone(),
            bill_number: self.bill_number.clone(),
            mobile: self.mobile.clone(),
            store_label: self.store_label.clone(),
            reference_label: self.reference_label.clone(),
            terminal_label: self.terminal_label.clone(),
            purpose: self.purpose.clone(),
        }
    }
}
