//! The NAPAS bank directory, embedded at build time.
//!
//! `banks.json` beside this file is the list of institutions with a NAPAS BIN (62 entries, as
//! published by the vietnam-qr-pay project). Look-ups are case- and diacritic-insensitive and take
//! a BIN, a code (`VCB`), a short name (`Vietcombank`), the full Vietnamese name or a keyword
//! (`ngoaithuong`). Three BINs are shared by two names (970406, 970414, 970449): every name is
//! returned, never a guess.

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::domain::fold::search_key;

/// One institution in the directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bank {
    /// The 6-digit acquirer BIN used in VietQR tag 38.01.00 (empty for the one bank without).
    pub bin: String,
    /// The short code banks use among themselves (`VCB`, `CTG`).
    pub code: String,
    /// The name people know (`Vietcombank`).
    pub short_name: String,
    /// The full Vietnamese name.
    pub name: String,
    /// SWIFT/BIC, where it has one.
    pub swift: Option<String>,
    /// Whether the bank app can pay VietQR codes: 1 send and receive, 0 receive only, -1 none.
    pub vietqr_status: i8,
    /// Whether the name has been replaced (after a merger or a rename).
    pub deprecated: bool,
    /// Other words people search the bank by.
    #[serde(default, skip_serializing)]
    pub keywords: Vec<String>,
    /// The directory's own lower-case key (`vietcombank`).
    #[serde(default, skip_serializing)]
    pub key: Option<String>,
}

/// Why a bank query did not resolve to exactly one BIN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BankLookupError {
    /// No institution matches.
    #[error("no bank matches '{0}'; give a 6-digit BIN or a code such as VCB, BIDV, MBB")]
    Unknown(String),
    /// Several institutions with different BINs match.
    #[error("'{query}' matches several banks: {candidates}; give the BIN or the code")]
    Ambiguous {
        /// What was asked.
        query: String,
        /// The matches, as `SHORT NAME (CODE, BIN)` joined by commas.
        candidates: String,
    },
    /// The institution has no BIN, so it cannot receive VietQR payments.
    #[error("{0} has no NAPAS BIN and cannot receive VietQR payments")]
    NoBin(String),
}

/// The whole directory, parsed once.
#[derive(Debug)]
pub struct BankDirectory {
    banks: Vec<Bank>,
    /// `search_key` of every name a bank answers to, beside the bank's index.
    keys: Vec<(String, usize)>,
}

static DIRECTORY: LazyLock<BankDirectory> = LazyLock::new(|| {
    #[derive(Deserialize)]
    struct File {
        banks: Vec<Bank>,
    }
    // The file is part of the source tree and checked by a test; an unreadable file would leave
    // the directory empty rather than take the process down.
    let banks = serde_json::from_str::<File>(include_str!("banks.json"))
        .map(|f| f.banks)
        .unwrap_or_default();
    BankDirectory::new(banks)
});

/// The embedded NAPAS directory.
pub fn directory() -> &'static BankDirectory {
    &DIRECTORY
}

impl BankDirectory {
    fn new(banks: Vec<Bank>) -> Self {
        let mut keys = Vec::new();
        for (index, bank) in banks.iter().enumerate() {
            let names = [&bank.bin, &bank.code, &bank.short_name, &bank.name]
                .into_iter()
                .chain(bank.key.iter())
                .chain(bank.keywords.iter());
            for name in names {
                let key = search_key(name);
                if !key.is_empty() {
                    keys.push((key, index));
                }
            }
        }
        Self { banks, keys }
    }

    /// Every institution, in directory order.
    pub fn all(&self) -> &[Bank] {
        &self.banks
    }

    /// The institutions registered under `bin`, current names first; empty when unknown.
    pub fn by_bin(&self, bin: &str) -> Vec<&Bank> {
        if bin.is_empty() {
            return Vec::new();
        }
        let mut found: Vec<&Bank> = self.banks.iter().filter(|b| b.bin == bin).collect();
        found.sort_by_key(|b| (b.deprecated, -b.vietqr_status));
        found
    }

    /// The short names under `bin` joined with " / " (`Vikki Bank / DongA Bank` for a shared
    /// BIN); empty when unknown.
    pub fn short_names(&self, bin: &str) -> String {
        self.by_bin(bin)
            .iter()
            .map(|b| b.short_name.as_str())
            .collect::<Vec<_>>()
            .join(" / ")
    }

    /// Every institution answering to `query` (BIN, code, short name, full name or keyword),
    /// ignoring case, spaces, punctuation and diacritics. Exact matches win; otherwise names that
    /// start with the query.
    pub fn lookup(&self, query: &str) -> Vec<&Bank> {
        let wanted = search_key(query);
        if wanted.is_empty() {
            return Vec::new();
        }
        let exact = self.collect(|key| key == wanted);
        if !exact.is_empty() {
            return exact;
        }
        if wanted.len() < 3 {
            return Vec::new();
        }
        self.collect(|key| key.starts_with(&wanted))
    }

    fn collect(&self, accept: impl Fn(&str) -> bool) -> Vec<&Bank> {
        let mut indices: Vec<usize> = self
            .keys
            .iter()
            .filter(|(key, _)| accept(key))
            .map(|(_, i)| *i)
            .collect();
        indices.sort_unstable();
        indices.dedup();
        let mut found: Vec<&Bank> = indices
            .into_iter()
            .filter_map(|i| self.banks.get(i))
            .collect();
        found.sort_by_key(|b| (b.deprecated, -b.vietqr_status));
        found
    }

    /// The one BIN `query` names: a BIN, or a code or name that matches institutions sharing a
    /// single BIN.
    pub fn resolve_bin(&self, query: &str) -> Result<String, BankLookupError> {
        let trimmed = query.trim();
        if trimmed.len() == 6 && trimmed.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(trimmed.to_owned());
        }
        let found = self.lookup(trimmed);
        let Some(first) = found.first() else {
            return Err(BankLookupError::Unknown(trimmed.to_owned()));
        };
        if found.iter().any(|b| b.bin != first.bin) {
            let candidates = found
                .iter()
                .map(|b| format!("{} ({}, {})", b.short_name, b.code, b.bin))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(BankLookupError::Ambiguous {
                query: trimmed.to_owned(),
                candidates,
            });
        }
        if first.bin.is_empty() {
            return Err(BankLookupError::NoBin(first.short_name.clone()));
        }
        Ok(first.bin.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn short_names(banks: &[&Bank]) -> Vec<String> {
        banks.iter().map(|b| b.short_name.clone()).collect()
    }

    #[test]
    fn the_embedded_directory_holds_all_62_institutions() {
        assert_eq!(directory().all().len(), 62);
        assert!(
            directory()
                .all()
                .iter()
                .all(|b| b.bin.is_empty() || b.bin.len() == 6)
        );
    }

    #[test]
    fn banks_are_found_by_bin_code_short_name_full_name_or_keyword() {
        let d = directory();
        assert_eq!(short_names(&d.lookup("970436")), ["Vietcombank"]);
        assert_eq!(short_names(&d.lookup("vcb")), ["Vietcombank"]);
        assert_eq!(short_names(&d.lookup("VIETCOMBANK")), ["Vietcombank"]);
        assert_eq!(short_names(&d.lookup("Ngân hàng TMCP Á Châu")), ["ACB"]);
        assert_eq!(short_names(&d.lookup("ngan hang tmcp a chau")), ["ACB"]);
        assert_eq!(short_names(&d.lookup("nongnghiep")), ["Agribank"]);
        assert_eq!(short_names(&d.lookup("MB Bank")), ["MB Bank"]);
        assert_eq!(short_names(&d.lookup("momo")), ["MoMo"]);
    }

    #[test]
    fn shared_bins_return_every_name() {
        let d = directory();
        assert_eq!(
            short_names(&d.by_bin("970406")),
            ["Vikki Bank", "DongA Bank"]
        );
        assert_eq!(
            short_names(&d.by_bin("970449")),
            ["LPBank", "LienVietPostBank"]
        );
        assert_eq!(short_names(&d.by_bin("970414")), ["MBV", "Ocean Bank"]);
        assert_eq!(d.resolve_bin("LPB"), Ok("970449".to_owned()));
    }

    #[test]
    fn ambiguous_and_unknown_queries_say_so() {
        let d = directory();
        assert!(matches!(
            d.resolve_bin("congnghiep"),
            Err(BankLookupError::Ambiguous { .. })
        ));
        assert_eq!(
            d.resolve_bin("nobank"),
            Err(BankLookupError::Unknown("nobank".into()))
        );
        assert_eq!(
            d.resolve_bin("BIDC"),
            Err(BankLookupError::NoBin("BIDC".into()))
        );
        assert!(d.by_bin("123456").is_empty());
        assert!(d.by_bin("").is_empty());
    }
}
