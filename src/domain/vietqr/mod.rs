//! VietQR: NAPAS's profile of EMVCo QR Code Merchant-Presented Mode.
//!
//! - [`VietQr`] is a payment request that is valid by construction: [`VietQr::new`] folds text to
//!   ASCII and enforces every length limit, naming the field (`62.08 (purpose)`) when one is
//!   exceeded; [`VietQr::payload`] then cannot fail.
//! - [`decode`] reads any EMVCo payload leniently (lower-case CRC, `11` with an amount, lengths in
//!   characters or bytes) but strictly checks the CRC, and names the scheme it sees.
//! - [`banks`] is the embedded NAPAS directory.
//!
//! Layout of a VietQR (see `VIETQR.md` in the design notes): `00` format, `01` initiation
//! (`11` static, `12` dynamic), `38` {`00` GUID `A000000727`, `01` {`00` BIN, `01` account},
//! `02` service}, `52` MCC, `53` `704`, `54` amount, `58` `VN`, `59` name, `60` city,
//! `62` {`01` bill, `02` mobile, `03` store, `05` reference, `07` terminal, `08` purpose},
//! `63` CRC-16/CCITT-FALSE.

pub mod banks;
pub mod crc;
mod decode;
mod encode;
pub mod tags;
pub mod tlv;

pub use decode::{BankInfo, DecodeError, Decoded, Field, Scheme, decode};

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::domain::fold;
use crate::domain::money::Vnd;

/// The NAPAS application identifier in tag 38.00.
pub const NAPAS_GUID: &str = "A000000727";
/// The VNPAY-QR application identifier (tag 26.00 of VNPAY merchant codes).
pub const VNPAY_GUID: &str = "A000000775";

/// Longest value of one nested field (EMVCo: each template is at most 99 characters).
const MAX_TEMPLATE_CHARS: usize = 99;
/// Longest value of one `62` sub-field.
const MAX_ADDITIONAL_CHARS: usize = 25;
/// Longest account or card number in `38.01.01`.
const MAX_ACCOUNT_CHARS: usize = 19;

/// What the payer pays into: a bank account or a card number (tag 38.02).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    /// `QRIBFTTA`: inter-bank fund transfer to an account.
    #[default]
    Account,
    /// `QRIBFTTC`: inter-bank fund transfer to a card.
    Card,
}

impl Service {
    /// The service code written in tag 38.02.
    pub fn code(self) -> &'static str {
        match self {
            Self::Account => "QRIBFTTA",
            Self::Card => "QRIBFTTC",
        }
    }

    /// The service a tag 38.02 code names.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "QRIBFTTA" => Some(Self::Account),
            "QRIBFTTC" => Some(Self::Card),
            _ => None,
        }
    }

    /// `account` or `card`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Account => "account",
            Self::Card => "card",
        }
    }
}

impl FromStr for Service {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "account" => Ok(Self::Account),
            "card" => Ok(Self::Card),
            other => Err(format!(
                "service must be 'account' or 'card', not '{other}'"
            )),
        }
    }
}

/// Tag 01: whether a code is reused (static, printed) or used once (dynamic, per sale).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Initiation {
    /// `11`: reusable; the payer types the amount.
    Static,
    /// `12`: one payment; the amount is in the code.
    Dynamic,
}

/// The fields of a VietQR as a person gives them: text may carry Vietnamese diacritics.
///
/// [`VietQr::new`] checks and folds them; a [`VietQr`] exposes the checked, folded copy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VietQrFields {
    /// Acquirer BIN, 6 digits (tag 38.01.00).
    pub bin: String,
    /// Account or card number, 1–19 letters or digits (tag 38.01.01).
    pub account: String,
    /// Account or card (tag 38.02).
    pub service: Service,
    /// The amount; present makes the code dynamic (tags 54 and 01 = `12`).
    pub amount: Option<Vnd>,
    /// Merchant category code, 4 digits (tag 52); personal codes omit it.
    pub mcc: Option<String>,
    /// Merchant name (tag 59), at most 25 characters after folding.
    pub merchant_name: Option<String>,
    /// Merchant city (tag 60), at most 15 characters after folding.
    pub merchant_city: Option<String>,
    /// Bill number (tag 62.01).
    pub bill_number: Option<String>,
    /// Mobile number (tag 62.02).
    pub mobile: Option<String>,
    /// Store label (tag 62.03).
    pub store_label: Option<String>,
    /// Reference label (tag 62.05).
    pub reference_label: Option<String>,
    /// Terminal label (tag 62.07).
    pub terminal_label: Option<String>,
    /// Purpose of transaction (tag 62.08): bank apps pre-fill the transfer content with it.
    pub purpose: Option<String>,
}

/// A field that cannot go into a VietQR, named by its tag path and its meaning.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path} ({name}): {problem}")]
pub struct FieldError {
    /// The tag path, e.g. `62.08`.
    pub path: &'static str,
    /// What the field is, e.g. `purpose`.
    pub name: &'static str,
    /// What is wrong with it.
    pub problem: String,
}

impl FieldError {
    fn new(path: &'static str, name: &'static str, problem: impl Into<String>) -> Self {
        Self {
            path,
            name,
            problem: problem.into(),
        }
    }
}

/// A VietQR payment request in which every field is valid and ASCII.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VietQr(VietQrFields);

impl VietQr {
    /// Checks and folds `fields` into a request that encodes without error.
    pub fn new(fields: VietQrFields) -> Result<Self, FieldError> {
        let VietQrFields {
            bin,
            account,
            service,
            amount,
            mcc,
            merchant_name,
            merchant_city,
            bill_number,
            mobile,
            store_label,
            reference_label,
            terminal_label,
            purpose,
        } = fields;
        let bin = bin.trim().to_owned();
        if bin.len() != 6 || !bin.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FieldError::new(
                "38.01.00",
                "bin",
                format!("must be 6 digits, got '{bin}'"),
            ));
        }
        let account = account.trim().to_owned();
        check_account(&account, service)?;
        if let Some(mcc) = &mcc
            && (mcc.len() != 4 || !mcc.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(FieldError::new(
                "52",
                "merchant category code",
                format!("must be 4 digits, got '{mcc}'"),
            ));
        }
        let checked = Self(VietQrFields {
            bin,
            account,
            service,
            amount,
            mcc,
            merchant_name: fold_text(merchant_name, "59", "merchant name", 25)?,
            merchant_city: fold_text(merchant_city, "60", "merchant city", 15)?,
            bill_number: fold_text(bill_number, "62.01", "bill number", MAX_ADDITIONAL_CHARS)?,
            mobile: fold_text(mobile, "62.02", "mobile number", MAX_ADDITIONAL_CHARS)?,
            store_label: fold_text(store_label, "62.03", "store label", MAX_ADDITIONAL_CHARS)?,
            reference_label: fold_text(
                reference_label,
                "62.05",
                "reference label",
                MAX_ADDITIONAL_CHARS,
            )?,
            terminal_label: fold_text(
                terminal_label,
                "62.07",
                "terminal label",
                MAX_ADDITIONAL_CHARS,
            )?,
            purpose: fold_text(purpose, "62.08", "purpose", MAX_ADDITIONAL_CHARS)?,
        });
        let additional = checked.additional_data_len();
        if additional > MAX_TEMPLATE_CHARS {
            return Err(FieldError::new(
                "62",
                "additional data",
                format!(
                    "its sub-fields take {additional} characters; at most {MAX_TEMPLATE_CHARS} fit"
                ),
            ));
        }
        Ok(checked)
    }

    /// The checked fields, text folded to ASCII.
    pub fn fields(&self) -> &VietQrFields {
        &self.0
    }

    /// Static (`11`) without an amount, dynamic (`12`) with one.
    pub fn initiation(&self) -> Initiation {
        if self.0.amount.is_some() {
            Initiation::Dynamic
        } else {
            Initiation::Static
        }
    }

    /// The `62` sub-fields present, in tag order.
    fn additional_fields(&self) -> [(&'static str, Option<&str>); 6] {
        let f = &self.0;
        [
            ("01", f.bill_number.as_deref()),
            ("02", f.mobile.as_deref()),
            ("03", f.store_label.as_deref()),
            ("05", f.reference_label.as_deref()),
            ("07", f.terminal_label.as_deref()),
            ("08", f.purpose.as_deref()),
        ]
    }

    /// Length of the value of tag 62 (0 when absent).
    fn additional_data_len(&self) -> usize {
        self.additional_fields()
            .iter()
            .filter_map(|(_, v)| *v)
            .map(|v| 4 + v.len())
            .sum()
    }
}

fn check_account(account: &str, service: Service) -> Result<(), FieldError> {
    let error = |problem: String| FieldError::new("38.01.01", "account", problem);
    if account.is_empty() {
        return Err(error("must not be empty".to_owned()));
    }
    let length = account.chars().count();
    if length > MAX_ACCOUNT_CHARS {
        return Err(error(format!(
            "at most {MAX_ACCOUNT_CHARS} characters, got {length}"
        )));
    }
    match service {
        Service::Account if !account.bytes().all(|b| b.is_ascii_alphanumeric()) => {
            Err(error(format!("only letters and digits, got '{account}'")))
        }
        Service::Card if !account.bytes().all(|b| b.is_ascii_digit()) => Err(error(format!(
            "a card number has only digits, got '{account}'"
        ))),
        _ => Ok(()),
    }
}

fn fold_text(
    text: Option<String>,
    path: &'static str,
    name: &'static str,
    max_chars: usize,
) -> Result<Option<String>, FieldError> {
    let Some(text) = text else { return Ok(None) };
    let folded = fold::to_ascii(&text).trim().to_owned();
    if folded.is_empty() {
        return Err(FieldError::new(
            path,
            name,
            "must not be empty (after folding to ASCII)",
        ));
    }
    if folded.len() > max_chars {
        return Err(FieldError::new(
            path,
            name,
            format!(
                "at most {max_chars} characters, got {} ('{folded}')",
                folded.len()
            ),
        ));
    }
    Ok(Some(folded))
}

impl fmt::Display for VietQr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.payload())
    }
}

#[cfg(test)]
mod tests;
