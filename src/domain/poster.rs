//! Posters at the stall: whether the printed poster still pays the stall's account, and what a
//! sticker scanned at the stall really pays.
//!
//! - [`PosterStatus::of`] is the one definition of a stale poster: one printed before the account
//!   it should pay was (re)linked. The board uses it to send teams back with a new poster.
//! - [`audit`] reads the text a phone's scanner got from the sticker and says, in Vietnamese for
//!   the vendor, whether it pays the stall's linked account ([`Verdict::Ok`]) or someone else's
//!   ([`Verdict::OtherAccount`]: a swapped or overlaid sticker, the fraud this check exists for).
//!   Accounts are compared with [`matching::same_key`], exactly as the ledger matches credits.

use super::matching;
use super::money::Vnd;
use super::stall::PayeeAccount;
use super::vietqr::{self, Scheme};

/// Longest scanned text [`audit`] reads: a VietQR is well under 300 characters.
pub const MAX_SCANNED_CHARS: usize = 512;

/// Where a stall's poster stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PosterStatus {
    /// No account is linked: there is nothing to print.
    None,
    /// An account is linked and no poster was ever printed.
    Missing,
    /// The poster was printed after the account was linked: it pays the right account.
    Current,
    /// The account was (re)linked after the poster was printed: the poster may pay the old one.
    Stale,
}

impl PosterStatus {
    /// Every status, in the order a board works through them.
    pub const ALL: [Self; 4] = [Self::Stale, Self::Missing, Self::Current, Self::None];

    /// The status of a stall: `linked` says whether it has an account, `account_linked_at_ms`
    /// when that account was linked, `poster_printed_at_ms` when its poster was last printed.
    /// A link time at the very millisecond of printing counts as printed after it; an account
    /// without a recorded link time is taken as linked before any poster.
    pub fn of(
        linked: bool,
        account_linked_at_ms: Option<i64>,
        poster_printed_at_ms: Option<i64>,
    ) -> Self {
        let relinked_since = match (account_linked_at_ms, poster_printed_at_ms) {
            (Some(linked_at), Some(printed)) => linked_at > printed,
            _ => false,
        };
        Self::classify(linked, poster_printed_at_ms.is_some(), relinked_since)
    }

    /// The status from the three facts [`PosterStatus::of`] reads off the times: whether an
    /// account is linked, whether a poster was ever printed, and whether the account was linked
    /// after the last print (a board that counts stalls in the database reads these, not times).
    pub fn classify(linked: bool, printed: bool, relinked_since: bool) -> Self {
        match (linked, printed, relinked_since) {
            (false, _, _) => Self::None,
            (true, false, _) => Self::Missing,
            (true, true, true) => Self::Stale,
            (true, true, false) => Self::Current,
        }
    }

    /// `none`, `missing`, `current` or `stale`, as the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Missing => "missing",
            Self::Current => "current",
            Self::Stale => "stale",
        }
    }

    /// Reads a status as the API writes it.
    pub fn parse(text: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == text.trim())
            .ok_or_else(|| {
                format!(
                    "poster_status must be 'none', 'missing', 'current' or 'stale', not '{}'",
                    text.chars().take(40).collect::<String>()
                )
            })
    }
}

/// What the scanned sticker pays, compared with the stall's account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// A VietQR paying exactly the stall's linked account (same BIN, same account number).
    Ok,
    /// A valid VietQR paying another account: the sticker was swapped or covered.
    OtherAccount,
    /// A valid VietQR, but the stall has no account to compare it with.
    NoAccountLinked,
    /// Not a readable NAPAS VietQR transfer code at all.
    NotVietqr,
}

impl Verdict {
    /// `ok`, `other_account`, `no_account_linked` or `not_vietqr`, as the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::OtherAccount => "other_account",
            Self::NoAccountLinked => "no_account_linked",
            Self::NotVietqr => "not_vietqr",
        }
    }
}

/// The account a scanned VietQR pays, as the sticker says it (nothing masked: it is printed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannedPayee {
    /// NAPAS BIN (38.01.00).
    pub bin: String,
    /// The bank's short name, when the directory knows the BIN.
    pub bank: Option<String>,
    /// Account or card number (38.01.01).
    pub account: String,
    /// The name the code carries (tag 59), if any.
    pub holder: Option<String>,
    /// The amount the code asks for, if any (a poster should have none).
    pub amount: Option<Vnd>,
}

/// The answer to one scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PosterAudit {
    /// What the sticker pays, in one word.
    pub verdict: Verdict,
    /// One or two Vietnamese sentences for the vendor.
    pub message: String,
    /// What the code pays, when it is a VietQR.
    pub found: Option<ScannedPayee>,
    /// The decoder's warnings about the code (odd but payable), in English.
    pub warnings: Vec<String>,
    /// Why the text is not a VietQR, in the decoder's words (English), for whoever helps.
    pub detail: Option<String>,
}

/// Ask to scan again, for codes that cannot be checked.
const SCAN_AGAIN: &str = "Hãy quét lại mã QR dán ở sạp.";

/// Checks a scanned sticker against the stall's linked account (`None` when it has none).
///
/// Text that does not decode, or decodes to another scheme than NAPAS VietQR, is
/// [`Verdict::NotVietqr`]; a VietQR is then [`Verdict::NoAccountLinked`] when the stall has no
/// account, else [`Verdict::Ok`] or [`Verdict::OtherAccount`].
pub fn audit(payee: Option<&PayeeAccount>, scanned: &str) -> PosterAudit {
    let decoded = match vietqr::decode(scanned) {
        Ok(decoded) => decoded,
        Err(error) => {
            return not_vietqr(
                format!(
                    "Nội dung vừa quét không phải mã VietQR chuyển khoản, nên không kiểm tra được. {SCAN_AGAIN}"
                ),
                Vec::new(),
                error.to_string(),
            );
        }
    };
    let found = match (decoded.scheme, decoded.bin, decoded.account) {
        (Scheme::Vietqr, Some(bin), Some(account)) => ScannedPayee {
            bank: decoded.bank.map(|bank| bank.short_name),
            bin,
            account,
            holder: decoded.merchant_name,
            amount: decoded.amount,
        },
        (Scheme::Vnpay, _, _) => {
            return not_vietqr(
                "Đây là mã VNPAY-QR của một cửa hàng, không phải mã VietQR chuyển khoản của sạp. \
                 Nếu mã này dán ở sạp, hãy báo ban quản lý chợ."
                    .to_owned(),
                decoded.warnings,
                "a VNPAY-QR merchant code (GUID A000000775), not a NAPAS VietQR transfer"
                    .to_owned(),
            );
        }
        _ => {
            return not_vietqr(
                format!("Đây không phải mã QR chuyển khoản ngân hàng (VietQR). {SCAN_AGAIN}"),
                decoded.warnings,
                "an EMVCo code without the NAPAS VietQR template (GUID A000000727)".to_owned(),
            );
        }
    };
    let (verdict, message) = match payee {
        None => (
            Verdict::NoAccountLinked,
            format!(
                "Sạp chưa liên kết tài khoản ngân hàng, nên chưa có mã QR của sạp. Mã này chuyển \
                 tiền vào tài khoản {} {}; hãy báo ban quản lý chợ.",
                found.account,
                bank_phrase(&found)
            ),
        ),
        Some(payee) if pays(&found, payee) => (
            Verdict::Ok,
            format!(
                "Mã QR đúng tài khoản của sạp ({} tại {}).{}",
                payee.masked_account(),
                payee.bank_short_name(),
                amount_note(found.amount)
            ),
        ),
        Some(_) => (
            Verdict::OtherAccount,
            format!(
                "Cảnh báo: mã QR này chuyển tiền vào tài khoản khác ({} {}), không phải tài \
                 khoản của sạp. Hãy gỡ mã này và báo ban quản lý chợ.",
                found.account,
                bank_phrase(&found)
            ),
        ),
    };
    PosterAudit {
        verdict,
        message,
        found: Some(found),
        warnings: decoded.warnings,
        detail: None,
    }
}

/// Whether the scanned code pays exactly this account: same BIN, same account number.
fn pays(found: &ScannedPayee, payee: &PayeeAccount) -> bool {
    matching::same_key(&found.bin, &payee.bin) && matching::same_key(&found.account, &payee.account)
}

/// `tại Vietcombank`, or the BIN when the directory does not know it.
fn bank_phrase(found: &ScannedPayee) -> String {
    match &found.bank {
        Some(bank) => format!("tại {bank}"),
        None => format!("tại ngân hàng có mã BIN {}", found.bin),
    }
}

/// A poster's code should let the shopper type the amount; one with an amount fixed is noted.
fn amount_note(amount: Option<Vnd>) -> String {
    amount.map_or_else(String::new, |amount| {
        format!(
            " Lưu ý: mã này có sẵn số tiền {amount}; mã dán ở sạp nên để khách tự nhập số tiền."
        )
    })
}

fn not_vietqr(message: String, warnings: Vec<String>, detail: String) -> PosterAudit {
    PosterAudit {
        verdict: Verdict::NotVietqr,
        message,
        found: None,
        warnings,
        detail: Some(detail),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::vietqr::{Service, VietQr, VietQrFields};
    use proptest::prelude::*;

    fn payee(bin: &str, account: &str) -> PayeeAccount {
        PayeeAccount {
            bin: bin.into(),
            account: account.into(),
            holder: "NGUYEN THI HUONG".into(),
            service: Service::Account,
        }
    }

    fn code(bin: &str, account: &str, amount: Option<i64>) -> String {
        VietQr::new(VietQrFields {
            bin: bin.into(),
            account: account.into(),
            amount: amount.map(|dong| Vnd::from_dong(dong).unwrap()),
            merchant_name: Some("Tran Van Gian".into()),
            ..VietQrFields::default()
        })
        .unwrap()
        .payload()
    }

    #[test]
    fn the_stalls_own_static_code_is_ok() {
        let own = payee("970436", "1234567890");
        let result = audit(Some(&own), &own.static_code().unwrap().payload());
        assert_eq!(result.verdict, Verdict::Ok);
        assert_eq!(
            result.message,
            "Mã QR đúng tài khoản của sạp (•••• 7890 tại Vietcombank)."
        );
        let found = result.found.unwrap();
        assert_eq!(
            (found.bin.as_str(), found.account.as_str()),
            ("970436", "1234567890")
        );
        assert_eq!(found.bank.as_deref(), Some("Vietcombank"));
        assert_eq!((found.holder, found.amount), (None, None));
        assert_eq!(result.detail, None);
    }

    #[test]
    fn a_code_with_an_amount_still_pays_the_stall_but_is_noted() {
        let own = payee("970436", "1234567890");
        let result = audit(Some(&own), &code("970436", "1234567890", Some(50_000)));
        assert_eq!(result.verdict, Verdict::Ok);
        assert!(result.message.contains("50.000đ"), "{}", result.message);
        let found = result.found.unwrap();
        assert_eq!(found.amount, Some(Vnd::from_dong(50_000).unwrap()));
        assert_eq!(found.holder.as_deref(), Some("Tran Van Gian"));
    }

    #[test]
    fn another_account_or_another_bank_is_the_fraud_warning() {
        let own = payee("970436", "1234567890");
        let other = audit(Some(&own), &code("970422", "0352350917", None));
        assert_eq!(other.verdict, Verdict::OtherAccount);
        assert_eq!(
            other.message,
            "Cảnh báo: mã QR này chuyển tiền vào tài khoản khác (0352350917 tại MB Bank), không \
             phải tài khoản của sạp. Hãy gỡ mã này và báo ban quản lý chợ."
        );
        assert_eq!(other.found.unwrap().account, "0352350917");
        let same_number_other_bank = audit(Some(&own), &code("970422", "1234567890", None));
        assert_eq!(same_number_other_bank.verdict, Verdict::OtherAccount);
        assert!(same_number_other_bank.message.contains("MB Bank"));
        let unknown_bin = audit(Some(&own), &code("123456", "1234567891", None));
        assert_eq!(unknown_bin.verdict, Verdict::OtherAccount);
        assert!(
            unknown_bin.message.contains("ngân hàng có mã BIN 123456"),
            "{}",
            unknown_bin.message
        );
        assert!(unknown_bin.warnings.iter().any(|w| w.contains("123456")));
    }

    #[test]
    fn a_stall_without_an_account_is_told_so_with_what_the_code_pays() {
        let result = audit(None, &code("970436", "1234567890", None));
        assert_eq!(result.verdict, Verdict::NoAccountLinked);
        assert!(
            result.message.contains("1234567890 tại Vietcombank"),
            "{}",
            result.message
        );
        assert!(result.found.is_some());
    }

    #[test]
    fn anything_else_is_not_a_vietqr_with_the_reason() {
        let own = payee("970436", "1234567890");
        for text in ["https://example.com/pay", "hello", "   "] {
            let result = audit(Some(&own), text);
            assert_eq!(result.verdict, Verdict::NotVietqr, "{text}");
            assert_eq!(result.found, None);
            assert!(result.detail.is_some());
            assert!(result.message.contains("không phải mã VietQR"));
        }
        let corrupted = own
            .static_code()
            .unwrap()
            .payload()
            .replace("1234567890", "1234567891");
        let result = audit(Some(&own), &corrupted);
        assert_eq!(result.verdict, Verdict::NotVietqr);
        assert!(
            result.detail.unwrap().contains("CRC"),
            "a changed character breaks the CRC"
        );
    }

    #[test]
    fn poster_statuses_follow_link_and_print_times() {
        assert_eq!(PosterStatus::of(false, None, None), PosterStatus::None);
        assert_eq!(PosterStatus::of(false, None, Some(5)), PosterStatus::None);
        assert_eq!(PosterStatus::of(true, Some(5), None), PosterStatus::Missing);
        assert_eq!(
            PosterStatus::of(true, Some(5), Some(5)),
            PosterStatus::Current
        );
        assert_eq!(
            PosterStatus::of(true, Some(5), Some(6)),
            PosterStatus::Current
        );
        assert_eq!(
            PosterStatus::of(true, Some(7), Some(6)),
            PosterStatus::Stale
        );
        assert_eq!(PosterStatus::of(true, None, Some(6)), PosterStatus::Current);
        for status in PosterStatus::ALL {
            assert_eq!(PosterStatus::parse(status.as_str()), Ok(status));
        }
        assert!(PosterStatus::parse("old").is_err());
    }

    proptest! {
        #[test]
        fn stale_exactly_when_linked_after_printing(
            linked in any::<bool>(),
            linked_at in proptest::option::of(any::<i64>()),
            printed_at in proptest::option::of(any::<i64>()),
        ) {
            let status = PosterStatus::of(linked, linked_at, printed_at);
            prop_assert_eq!(status == PosterStatus::None, !linked);
            prop_assert_eq!(status == PosterStatus::Missing, linked && printed_at.is_none());
            let stale = linked && matches!((linked_at, printed_at), (Some(l), Some(p)) if l > p);
            prop_assert_eq!(status == PosterStatus::Stale, stale);
        }

        #[test]
        fn printing_after_linking_makes_current_and_relinking_makes_stale(
            linked_at in 0_i64..1 << 50, print_after in 0_i64..1 << 20, relink_after in 1_i64..1 << 20,
        ) {
            let printed_at = linked_at + print_after;
            prop_assert_eq!(PosterStatus::of(true, Some(linked_at), Some(printed_at)), PosterStatus::Current);
            prop_assert_eq!(
                PosterStatus::of(true, Some(printed_at + relink_after), Some(printed_at)),
                PosterStatus::Stale
            );
        }

        #[test]
        fn a_code_is_ok_exactly_for_its_own_account(
            account in "[0-9]{6,15}", other in "[0-9]{6,15}", amount in proptest::option::of(1_i64..10_000_000),
        ) {
            let own = payee("970436", &account);
            let result = audit(Some(&own), &code("970436", &other, amount));
            let expected = if account == other { Verdict::Ok } else { Verdict::OtherAccount };
            prop_assert_eq!(result.verdict, expected);
            prop_assert_eq!(result.found.map(|f| f.account), Some(other));
        }

        #[test]
        fn arbitrary_text_never_panics_and_never_passes(text in "\\PC{0,200}") {
            let own = payee("970436", "1234567890");
            let result = audit(Some(&own), &text);
            prop_assert_ne!(result.verdict, Verdict::Ok);
        }
    }
}
