//! Stalls: the code painted on the stall, the vendor, and the payee account their QR pays.
//!
//! A stall's account is checked with the VietQR codec's rules (BIN, account or card number) and
//! the NAPAS directory (the BIN must be a bank that receives VietQR payments); the holder name is
//! folded to ASCII upper case, as banks print it.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use super::fold;
use super::text::{self, TextError};
use super::vietqr::banks::{BankLookupError, directory};
use super::vietqr::{FieldError, Service, VietQr, VietQrFields};

/// Longest stall code.
pub const MAX_CODE_CHARS: usize = 16;
/// Longest vendor name.
pub const MAX_VENDOR_NAME_CHARS: usize = 100;
/// Longest description of the goods sold.
pub const MAX_GOODS_CHARS: usize = 120;
/// Longest account holder name.
pub const MAX_HOLDER_CHARS: usize = 50;

/// Why a stall or its account was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StallError {
    /// The stall code.
    #[error("code: '{0}' is not a stall code; use 1-16 letters, digits or hyphens, like A12")]
    Code(String),
    /// A text field.
    #[error(transparent)]
    Text(#[from] TextError),
    /// The phone number.
    #[error(
        "phone: '{0}' is not a Vietnamese phone number (10 or 11 digits starting with 0, or +84)"
    )]
    Phone(String),
    /// The bank.
    #[error("bank: {0}")]
    Bank(#[from] BankLookupError),
    /// A BIN the directory does not know.
    #[error("bank: BIN {0} is not in the NAPAS directory")]
    UnknownBin(String),
    /// The account or card number.
    #[error("account: {0}")]
    Account(FieldError),
    /// The holder name.
    #[error("holder: {0}")]
    Holder(String),
    /// Some account fields given and others not.
    #[error("bank, account and holder go together: give all three to link an account, or none")]
    PartialAccount,
    /// An unknown status.
    #[error("status must be 'active' or 'inactive', not '{0}'")]
    Status(String),
}

/// The code of a stall within its market, upper case: `A12`, `K-03`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct StallCode(String);

impl StallCode {
    /// Checks and upper-cases a stall code.
    pub fn parse(text: &str) -> Result<Self, StallError> {
        let code = text.trim().to_ascii_uppercase();
        let ok = (1..=MAX_CODE_CHARS).contains(&code.len())
            && code
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(Self(code))
        } else {
            Err(StallError::Code(text.chars().take(40).collect()))
        }
    }

    /// The code text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether the stall is trading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StallStatus {
    /// Trading.
    #[default]
    Active,
    /// Closed for now.
    Inactive,
}

impl StallStatus {
    /// `active` or `inactive`, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Inactive => "inactive",
        }
    }

    /// Reads a stored or typed status.
    pub fn parse(text: &str) -> Result<Self, StallError> {
        match text.trim() {
            "active" => Ok(Self::Active),
            "inactive" => Ok(Self::Inactive),
            other => Err(StallError::Status(other.chars().take(40).collect())),
        }
    }
}

/// Normalizes a Vietnamese phone number to its national form: `+84 912 345 678` → `0912345678`.
pub fn parse_phone(text: &str) -> Result<String, StallError> {
    let compact: String = text
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')'))
        .collect();
    let national = match compact
        .strip_prefix("+84")
        .or_else(|| compact.strip_prefix("84").filter(|r| r.len() >= 9))
    {
        Some(rest) => format!("0{rest}"),
        None => compact,
    };
    let ok = national.starts_with('0')
        && (10..=11).contains(&national.len())
        && national.bytes().all(|b| b.is_ascii_digit());
    if ok {
        Ok(national)
    } else {
        Err(StallError::Phone(text.chars().take(40).collect()))
    }
}

/// A payee account a stall's QR pays into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayeeAccount {
    /// The bank's NAPAS BIN.
    pub bin: String,
    /// Account or card number.
    pub account: String,
    /// Holder name, ASCII upper case.
    pub holder: String,
    /// Account or card.
    pub service: Service,
}

impl PayeeAccount {
    /// Checks an account: `bank` may be a BIN, a bank code or a short name.
    pub fn parse(
        bank: &str,
        account: &str,
        holder: &str,
        service: Service,
    ) -> Result<Self, StallError> {
        let bin = directory().resolve_bin(bank)?;
        if directory().by_bin(&bin).is_empty() {
            return Err(StallError::UnknownBin(bin));
        }
        let account: String = account.chars().filter(|c| !c.is_whitespace()).collect();
        let code = VietQr::new(VietQrFields {
            bin: bin.clone(),
            account,
            service,
            ..VietQrFields::default()
        })
        .map_err(StallError::Account)?;
        // Folding drops characters it cannot write in ASCII: refuse hidden ones first.
        if let Err(TextError::Invisible { code, .. }) = text::refuse_invisible(holder, "holder") {
            return Err(StallError::Holder(format!(
                "contains an invisible or control character (U+{code:04X})"
            )));
        }
        let holder = fold::to_ascii(holder)
            .to_ascii_uppercase()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if holder.is_empty() {
            return Err(StallError::Holder("must not be empty".into()));
        }
        if holder.len() > MAX_HOLDER_CHARS {
            return Err(StallError::Holder(format!(
                "at most {MAX_HOLDER_CHARS} characters, got {}",
                holder.len()
            )));
        }
        if let Some(c) = holder
            .chars()
            .find(|c| !(c.is_ascii_uppercase() || matches!(c, ' ' | '.' | '-' | '\'')))
        {
            return Err(StallError::Holder(format!(
                "only letters, spaces and . - ' are allowed, not '{c}'"
            )));
        }
        Ok(Self {
            bin,
            account: code.fields().account.clone(),
            holder,
            service,
        })
    }

    /// The stall's static VietQR: no amount, so the shopper types it.
    pub fn static_code(&self) -> Result<VietQr, FieldError> {
        VietQr::new(VietQrFields {
            bin: self.bin.clone(),
            account: self.account.clone(),
            service: self.service,
            ..VietQrFields::default()
        })
    }

    /// The short name of the bank (both names for a shared BIN).
    pub fn bank_short_name(&self) -> String {
        directory().short_names(&self.bin)
    }

    /// The account number masked: see [`mask_account`].
    pub fn masked_account(&self) -> String {
        mask_account(&self.account)
    }
}

/// `•••• 5678`: enough to recognise one's own account, not enough to copy it.
pub fn mask_account(account: &str) -> String {
    let chars: Vec<char> = account.chars().collect();
    let tail: String = chars[chars.len().saturating_sub(4)..].iter().collect();
    format!("•••• {tail}")
}

/// The checked fields of a stall.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StallFields {
    /// Code within the market.
    pub code: StallCode,
    /// Vendor's name, NFC.
    pub vendor_name: String,
    /// What the stall sells (may be empty).
    pub goods: String,
    /// Vendor's phone, national form.
    pub phone: Option<String>,
    /// The linked payee account, if any.
    pub payee: Option<PayeeAccount>,
    /// Trading or not.
    pub status: StallStatus,
}

/// A stall as typed in a form or a spreadsheet row: every field text, account fields optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StallInput<'a> {
    /// Stall code.
    pub code: &'a str,
    /// Vendor name.
    pub vendor_name: &'a str,
    /// Goods.
    pub goods: Option<&'a str>,
    /// Phone.
    pub phone: Option<&'a str>,
    /// Bank: BIN, code or short name.
    pub bank: Option<&'a str>,
    /// Account or card number.
    pub account: Option<&'a str>,
    /// Holder name.
    pub holder: Option<&'a str>,
    /// `account` (default) or `card`.
    pub service: Option<Service>,
    /// `active` (default) or `inactive`.
    pub status: Option<StallStatus>,
}

/// A typed value, or `None` when blank.
fn present(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|t| !t.is_empty())
}

impl StallFields {
    /// Checks a stall as typed.
    pub fn parse(input: &StallInput<'_>) -> Result<Self, StallError> {
        let payee = match (
            present(input.bank),
            present(input.account),
            present(input.holder),
        ) {
            (None, None, None) => None,
            (Some(bank), Some(account), Some(holder)) => Some(PayeeAccount::parse(
                bank,
                account,
                holder,
                input.service.unwrap_or_default(),
            )?),
            _ => return Err(StallError::PartialAccount),
        };
        Ok(Self {
            code: StallCode::parse(input.code)?,
            vendor_name: text::clean(input.vendor_name, "vendor_name", MAX_VENDOR_NAME_CHARS)?,
            goods: text::clean_optional(input.goods, "goods", MAX_GOODS_CHARS)?.unwrap_or_default(),
            phone: present(input.phone).map(parse_phone).transpose()?,
            payee,
            status: input.status.unwrap_or_default(),
        })
    }
}

/// Stall codes in the order people read them: `A2` before `A10`, numbers before letters.
pub fn code_order(a: &str, b: &str) -> Ordering {
    fn key(code: &str) -> Vec<(bool, String, u64)> {
        let mut parts = Vec::new();
        let mut rest = code;
        while let Some(first) = rest.chars().next() {
            let digit = first.is_ascii_digit();
            let end = rest
                .find(|c: char| c.is_ascii_digit() != digit)
                .unwrap_or(rest.len());
            let (part, tail) = rest.split_at(end);
            let number = if digit {
                part.parse().unwrap_or(u64::MAX)
            } else {
                0
            };
            parts.push((digit, part.to_uppercase(), number));
            rest = tail;
        }
        parts
    }
    let (ka, kb) = (key(a), key(b));
    for (pa, pb) in ka.iter().zip(&kb) {
        let order = match (pa.0, pb.0) {
            (true, true) => pa.2.cmp(&pb.2).then_with(|| pa.1.cmp(&pb.1)),
            (false, false) => pa.1.cmp(&pb.1),
            // Numbers before letters.
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    ka.len().cmp(&kb.len()).then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stall_codes_sort_as_people_read_them() {
        let mut codes = vec!["A10", "B1", "A2", "a3", "A1", "10", "2", "A2b", "A2a"];
        codes.sort_by(|a, b| code_order(a, b));
        assert_eq!(
            codes,
            vec!["2", "10", "A1", "A2", "A2a", "A2b", "a3", "A10", "B1"]
        );
    }

    fn input<'a>() -> StallInput<'a> {
        StallInput {
            code: " a12 ",
            vendor_name: "Nguyễn Thị Hương",
            goods: Some("Rau củ"),
            phone: Some("+84 912 345 678"),
            bank: Some("VCB"),
            account: Some("1234 5678 90"),
            holder: Some("Nguyễn Thị Hương"),
            ..StallInput::default()
        }
    }

    #[test]
    fn a_stall_is_normalized_as_banks_and_boards_expect() {
        let stall = StallFields::parse(&input()).unwrap();
        assert_eq!(stall.code.as_str(), "A12");
        assert_eq!(stall.phone.as_deref(), Some("0912345678"));
        let payee = stall.payee.unwrap();
        assert_eq!(
            (payee.bin.as_str(), payee.account.as_str()),
            ("970436", "1234567890")
        );
        assert_eq!(payee.holder, "NGUYEN THI HUONG");
        assert_eq!(payee.bank_short_name(), "Vietcombank");
        assert_eq!(payee.masked_account(), "•••• 7890");
        assert_eq!(mask_account("12"), "•••• 12");
        assert_eq!(
            payee.static_code().unwrap().payload(),
            "00020101021138540010A00000072701240006970436011012345678900208QRIBFTTA53037045802VN6304BE57"
        );
    }

    #[test]
    fn account_fields_go_together() {
        let partial = StallInput {
            holder: None,
            ..input()
        };
        assert_eq!(
            StallFields::parse(&partial),
            Err(StallError::PartialAccount)
        );
        let none = StallInput {
            bank: None,
            account: Some(" "),
            holder: None,
            ..input()
        };
        assert_eq!(StallFields::parse(&none).unwrap().payee, None);
    }

    #[test]
    fn bad_accounts_say_which_field() {
        let unknown_bank = StallInput {
            bank: Some("nobank"),
            ..input()
        };
        assert!(
            StallFields::parse(&unknown_bank)
                .unwrap_err()
                .to_string()
                .starts_with("bank: no bank matches")
        );
        let unknown_bin = StallInput {
            bank: Some("123456"),
            ..input()
        };
        assert_eq!(
            StallFields::parse(&unknown_bin),
            Err(StallError::UnknownBin("123456".into()))
        );
        let long_account = StallInput {
            account: Some("12345678901234567890"),
            ..input()
        };
        assert_eq!(
            StallFields::parse(&long_account).unwrap_err().to_string(),
            "account: 38.01.01 (account): at most 19 characters, got 20"
        );
        let bad_phone = StallInput {
            phone: Some("12345"),
            ..input()
        };
        assert!(matches!(
            StallFields::parse(&bad_phone),
            Err(StallError::Phone(_))
        ));
        let bad_code = StallInput {
            code: "A 12",
            ..input()
        };
        assert!(matches!(
            StallFields::parse(&bad_code),
            Err(StallError::Code(_))
        ));
        let bad_holder = StallInput {
            holder: Some("Hương 😀 1"),
            ..input()
        };
        assert!(matches!(
            StallFields::parse(&bad_holder),
            Err(StallError::Holder(_))
        ));
    }
}
