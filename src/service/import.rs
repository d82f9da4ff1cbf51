//! Stall spreadsheets in and out: the CSV a market board already keeps.
//!
//! Columns (header required, any order, names case-insensitive, other columns ignored): `code`,
//! `vendor_name`, `goods`, `phone`, `bank` (BIN, code or short name), `account`, `holder`, and
//! optionally `service` (`account`|`card`) and `status` (`active`|`inactive`). Import is all or
//! nothing: every row is checked first, and any bad row means nothing is written and every bad
//! row is reported with its line number. Rows are matched to stalls by code: new codes are
//! created, changed rows updated, identical rows left alone, so importing the same file twice
//! changes nothing. Export writes the same columns back (`bank` as the BIN, which is exact).

use std::collections::HashMap;

use serde::Serialize;

use crate::domain::stall::{StallFields, StallInput, StallStatus};
use crate::domain::vietqr::Service;
use crate::store::markets::MarketRow;
use crate::store::stalls::{self, StallRecord, StallRow};
use crate::store::{Store, now_ms};

use super::ServiceError;

/// The columns chopay reads and writes, in export order.
pub const COLUMNS: [&str; 7] = [
    "code",
    "vendor_name",
    "goods",
    "phone",
    "bank",
    "account",
    "holder",
];
/// The most rows one import takes.
pub const MAX_ROWS: usize = 20_000;

/// One refused row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RowError {
    /// The line in the file (the header is line 1).
    pub line: u64,
    /// The row's stall code, when it has one.
    pub code: Option<String>,
    /// What is wrong.
    pub message: String,
}

/// What an import did (or, in a dry run, would do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    /// Whether this was only a check.
    pub dry_run: bool,
    /// Data rows read.
    pub rows: usize,
    /// Stalls created.
    pub created: usize,
    /// Stalls changed.
    pub updated: usize,
    /// Rows identical to their stall.
    pub unchanged: usize,
    /// Refused rows; when any, nothing was written.
    pub errors: Vec<RowError>,
}

/// Column positions found in the header.
struct Header {
    positions: HashMap<String, usize>,
}

impl Header {
    fn get<'r>(&self, record: &'r csv::StringRecord, name: &str) -> Option<&'r str> {
        self.positions.get(name).and_then(|&i| record.get(i))
    }
}

/// Checks a CSV file against a market's stalls and, unless `dry_run` or any row is bad, writes
/// the changes in one transaction.
pub async fn import_stalls(
    store: &Store,
    market: &MarketRow,
    csv_bytes: &[u8],
    dry_run: bool,
) -> Result<ImportReport, ServiceError> {
    let text = std::str::from_utf8(csv_bytes).map_err(|e| {
        let line = csv_bytes[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1;
        ServiceError::Invalid(format!(
            "the file is not UTF-8 text (line {line}); save it as \"CSV UTF-8\""
        ))
    })?;
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes());
    let header = read_header(&mut reader)?;

    let existing: HashMap<String, StallRow> = stalls::all_in_market(store, market.id)
        .await?
        .into_iter()
        .map(|row| (row.code.clone(), row))
        .collect();
    let now = now_ms();
    let mut report = ImportReport {
        dry_run,
        rows: 0,
        created: 0,
        updated: 0,
        unchanged: 0,
        errors: Vec::new(),
    };
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut inserts = Vec::new();
    let mut updates = Vec::new();
    for result in reader.records() {
        // Blank lines (spreadsheets leave them at the end) are not rows.
        if result
            .as_ref()
            .is_ok_and(|record| record.iter().all(str::is_empty))
        {
            continue;
        }
        report.rows += 1;
        if report.rows > MAX_ROWS {
            return Err(ServiceError::Invalid(format!(
                "at most {MAX_ROWS} rows per import"
            )));
        }
        let record = match result {
            Ok(record) => record,
            Err(error) => {
                let line = error.position().map_or(0, |p| p.line());
                report.errors.push(RowError {
                    line,
                    code: None,
                    message: format!("unreadable row: {error}"),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let code = header.get(&record, "code").map(str::to_ascii_uppercase);
        let fields = match parse_row(&header, &record) {
            Ok(fields) => fields,
            Err(message) => {
                report.errors.push(RowError {
                    line,
                    code,
                    message,
                });
                continue;
            }
        };
        let code = fields.code.as_str().to_owned();
        if let Some(first) = seen.insert(code.clone(), line) {
            report.errors.push(RowError {
                line,
                code: Some(code),
                message: format!("the same code is on line {first}"),
            });
            continue;
        }
        let previous = existing.get(&code);
        let mut fields = fields;
        if let (Some(row), None) = (
            previous,
            header.get(&record, "status").filter(|s| !s.is_empty()),
        ) {
            // No status in the file: keep the stall's own.
            fields.status = StallStatus::parse(&row.status).unwrap_or_default();
        }
        let stored = StallRecord::new(&fields, previous, now);
        match previous {
            Some(row) if stored.matches(row) => report.unchanged += 1,
            Some(row) => updates.push((row.id, stored)),
            None => inserts.push(stored),
        }
    }
    report.created = inserts.len();
    report.updated = updates.len();
    if report.errors.is_empty() && !dry_run && !(inserts.is_empty() && updates.is_empty()) {
        stalls::apply(store, market.id, &inserts, &updates, now).await?;
    }
    Ok(report)
}

fn read_header(reader: &mut csv::Reader<&[u8]>) -> Result<Header, ServiceError> {
    let names = reader
        .headers()
        .map_err(|e| ServiceError::Invalid(format!("cannot read the header line: {e}")))?;
    let positions: HashMap<String, usize> = names
        .iter()
        .enumerate()
        .map(|(i, name)| (name.trim().to_ascii_lowercase(), i))
        .collect();
    let missing: Vec<&str> = ["code", "vendor_name"]
        .into_iter()
        .filter(|c| !positions.contains_key(*c))
        .collect();
    if !missing.is_empty() {
        return Err(ServiceError::Invalid(format!(
            "the header (line 1) lacks {}; expected columns: {}",
            missing.join(", "),
            COLUMNS.join(", ")
        )));
    }
    Ok(Header { positions })
}

fn parse_row(header: &Header, record: &csv::StringRecord) -> Result<StallFields, String> {
    let get = |name: &str| header.get(record, name).filter(|v| !v.is_empty());
    let service = match get("service") {
        Some(text) => Some(text.parse::<Service>()?),
        None => None,
    };
    let status = match get("status") {
        Some(text) => Some(StallStatus::parse(text).map_err(|e| e.to_string())?),
        None => None,
    };
    let input = StallInput {
        code: get("code").unwrap_or(""),
        vendor_name: get("vendor_name").unwrap_or(""),
        goods: get("goods"),
        phone: get("phone"),
        bank: get("bank"),
        account: get("account"),
        holder: get("holder"),
        service,
        status,
    };
    StallFields::parse(&input).map_err(|e| e.to_string())
}

/// A market's stalls as CSV, in code order, with the import columns.
pub fn export_stalls(stalls: &[StallRow]) -> Result<String, ServiceError> {
    let optional = |value: &Option<String>| value.clone().unwrap_or_default();
    write_csv(stalls.iter().map(|stall| {
        [
            stall.code.clone(),
            stall.vendor_name.clone(),
            stall.goods.clone(),
            optional(&stall.phone),
            optional(&stall.payee_bin),
            optional(&stall.payee_account),
            optional(&stall.payee_name),
        ]
    }))
}

/// Writes rows of the import columns as CSV text, header first.
pub fn write_csv(rows: impl Iterator<Item = [String; 7]>) -> Result<String, ServiceError> {
    let failed =
        |e: &dyn std::fmt::Display| ServiceError::Invalid(format!("cannot write CSV: {e}"));
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(COLUMNS).map_err(|e| failed(&e))?;
    for row in rows {
        writer.write_record(row).map_err(|e| failed(&e))?;
    }
    let bytes = writer.into_inner().map_err(|e| failed(&e))?;
    String::from_utf8(bytes).map_err(|e| failed(&e))
}
