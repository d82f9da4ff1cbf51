//! Queries on `stalls`.

use crate::domain::stall::{PayeeAccount, StallFields};
use crate::{dispatch, write_transaction};

use super::{Page, Store, StoreError};

/// A stall as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StallRow {
    /// Database id.
    pub id: i64,
    /// Its market.
    pub market_id: i64,
    /// Code within the market, upper case.
    pub code: String,
    /// Vendor name, NFC.
    pub vendor_name: String,
    /// Goods sold.
    pub goods: String,
    /// Vendor phone, national form.
    pub phone: Option<String>,
    /// Payee BIN.
    pub payee_bin: Option<String>,
    /// Payee account or card number.
    pub payee_account: Option<String>,
    /// Payee holder name, ASCII upper case.
    pub payee_name: Option<String>,
    /// `account` or `card`.
    pub payee_service: Option<String>,
    /// When the current account was linked: posters printed before are stale.
    pub account_linked_at_ms: Option<i64>,
    /// `active` or `inactive`.
    pub status: String,
    /// When its poster was last printed.
    pub poster_printed_at_ms: Option<i64>,
    /// The serial of that poster.
    pub poster_serial: Option<String>,
    /// When it was created.
    pub created_at_ms: i64,
    /// When it last changed.
    pub updated_at_ms: i64,
}

impl StallRow {
    /// The linked payee account, as it was checked when stored; `None` when unlinked.
    pub fn payee(&self) -> Option<PayeeAccount> {
        match (&self.payee_bin, &self.payee_account, &self.payee_name) {
            (Some(bin), Some(account), Some(holder)) => Some(PayeeAccount {
                bin: bin.clone(),
                account: account.clone(),
                holder: holder.clone(),
                service: self
                    .payee_service
                    .as_deref()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or_default(),
            }),
            _ => None,
        }
    }
}

macro_rules! columns {
    () => {
        "id, market_id, code, vendor_name, goods, phone, payee_bin, payee_account, payee_name, payee_service, \
         account_linked_at_ms, status, poster_printed_at_ms, poster_serial, created_at_ms, updated_at_ms"
    };
}

/// A stall's writable columns, in stored form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StallRecord {
    /// Code.
    pub code: String,
    /// Vendor name.
    pub vendor_name: String,
    /// Goods.
    pub goods: String,
    /// Phone.
    pub phone: Option<String>,
    /// Payee BIN.
    pub payee_bin: Option<String>,
    /// Payee account.
    pub payee_account: Option<String>,
    /// Payee holder.
    pub payee_name: Option<String>,
    /// Payee service.
    pub payee_service: Option<String>,
    /// When the account was linked.
    pub account_linked_at_ms: Option<i64>,
    /// Status.
    pub status: String,
}

impl StallRecord {
    /// The stored form of `fields`. `previous` is the stall as it was, if any: the link time is
    /// kept while the account stays the same and reset to `now_ms` when it changes.
    pub fn new(fields: &StallFields, previous: Option<&StallRow>, now_ms: i64) -> Self {
        let payee = fields.payee.as_ref();
        let payee_bin = payee.map(|p| p.bin.clone());
        let payee_account = payee.map(|p| p.account.clone());
        let payee_name = payee.map(|p| p.holder.clone());
        let payee_service = payee.map(|p| p.service.as_str().to_owned());
        let same_account = previous.is_some_and(|row| row.payee().as_ref() == payee);
        let account_linked_at_ms = match (payee, previous) {
            (None, _) => None,
            (Some(_), Some(row)) if same_account => row.account_linked_at_ms,
            (Some(_), _) => Some(now_ms),
        };
        Self {
            code: fields.code.as_str().to_owned(),
            vendor_name: fields.vendor_name.clone(),
            goods: fields.goods.clone(),
            phone: fields.phone.clone(),
            payee_bin,
            payee_account,
            payee_name,
            payee_service,
            account_linked_at_ms,
            status: fields.status.as_str().to_owned(),
        }
    }

    /// Whether storing this would change nothing in `row`.
    pub fn matches(&self, row: &StallRow) -> bool {
        self.code == row.code
            && self.vendor_name == row.vendor_name
            && self.goods == row.goods
            && self.phone == row.phone
            && self.payee_bin == row.payee_bin
            && self.payee_account == row.payee_account
            && self.payee_name == row.payee_name
            && self.payee_service == row.payee_service
            && self.status == row.status
    }
}

const INSERT: &str = concat!(
    "INSERT INTO stalls (market_id, code, vendor_name, goods, phone, payee_bin, payee_account, payee_name, ",
    "payee_service, account_linked_at_ms, status, created_at_ms, updated_at_ms) ",
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING ",
    columns!()
);
const UPDATE: &str = concat!(
    "UPDATE stalls SET code = $2, vendor_name = $3, goods = $4, phone = $5, payee_bin = $6, payee_account = $7, ",
    "payee_name = $8, payee_service = $9, account_linked_at_ms = $10, status = $11, updated_at_ms = $12 ",
    "WHERE id = $1 RETURNING ",
    columns!()
);

/// Binds `$2..=$12` of [`INSERT`] and [`UPDATE`]: the record, then the time.
macro_rules! bind_record {
    ($query:expr, $record:expr, $now_ms:expr) => {
        $query
            .bind(&$record.code)
            .bind(&$record.vendor_name)
            .bind(&$record.goods)
            .bind(&$record.phone)
            .bind(&$record.payee_bin)
            .bind(&$record.payee_account)
            .bind(&$record.payee_name)
            .bind(&$record.payee_service)
            .bind($record.account_linked_at_ms)
            .bind(&$record.status)
            .bind($now_ms)
    };
}

/// What a stall code clashes with.
const DUPLICATE_CODE: &str = "a stall with this code in this market";

/// Creates a stall.
pub async fn insert(
    store: &Store,
    market_id: i64,
    record: &StallRecord,
    now_ms: i64,
) -> Result<StallRow, StoreError> {
    dispatch!(store, pool => bind_record!(sqlx::query_as::<_, StallRow>(INSERT).bind(market_id), record, now_ms)
        .fetch_one(pool)
        .await)
    .map_err(|e| StoreError::or_duplicate(e, DUPLICATE_CODE))
}

/// Replaces a stall's writable columns.
pub async fn update(
    store: &Store,
    id: i64,
    record: &StallRecord,
    now_ms: i64,
) -> Result<StallRow, StoreError> {
    dispatch!(store, pool => bind_record!(sqlx::query_as::<_, StallRow>(UPDATE).bind(id), record, now_ms)
        .fetch_one(pool)
        .await)
    .map_err(|e| StoreError::or_duplicate(e, DUPLICATE_CODE))
}

/// Inserts and updates many stalls of one market in one transaction: all or nothing.
pub async fn apply(
    store: &Store,
    market_id: i64,
    inserts: &[StallRecord],
    updates: &[(i64, StallRecord)],
    now_ms: i64,
) -> Result<(), StoreError> {
    let result: Result<(), sqlx::Error> = write_transaction!(store, tx => {
        for record in inserts {
            bind_record!(sqlx::query(INSERT).bind(market_id), record, now_ms).execute(&mut *tx).await?;
        }
        for (id, record) in updates {
            bind_record!(sqlx::query(UPDATE).bind(*id), record, now_ms).execute(&mut *tx).await?;
        }
        tx.commit().await
    });
    result.map_err(|e| StoreError::or_duplicate(e, DUPLICATE_CODE))
}

/// The stall with this id.
pub async fn by_id(store: &Store, id: i64) -> Result<Option<StallRow>, StoreError> {
    const SQL: &str = concat!("SELECT ", columns!(), " FROM stalls WHERE id = $1");
    Ok(
        dispatch!(store, pool => sqlx::query_as::<_, StallRow>(SQL).bind(id).fetch_optional(pool).await)?,
    )
}

/// The stall with this code in a market.
pub async fn by_code(
    store: &Store,
    market_id: i64,
    code: &str,
) -> Result<Option<StallRow>, StoreError> {
    const SQL: &str = concat!(
        "SELECT ",
        columns!(),
        " FROM stalls WHERE market_id = $1 AND code = $2"
    );
    Ok(
        dispatch!(store, pool => sqlx::query_as::<_, StallRow>(SQL).bind(market_id).bind(code).fetch_optional(pool).await)?,
    )
}

/// A page of a market's stalls in code order (optionally of one status), and the total.
pub async fn list(
    store: &Store,
    market_id: i64,
    status: Option<&str>,
    page: Page,
) -> Result<(Vec<StallRow>, i64), StoreError> {
    const SQL: &str = concat!(
        "SELECT ",
        columns!(),
        " FROM stalls WHERE market_id = $1 AND ($2 = '' OR status = $2) ORDER BY code LIMIT $3 OFFSET $4"
    );
    const COUNT: &str =
        "SELECT COUNT(*) FROM stalls WHERE market_id = $1 AND ($2 = '' OR status = $2)";
    let status = status.unwrap_or("");
    let rows = dispatch!(store, pool => sqlx::query_as::<_, StallRow>(SQL)
        .bind(market_id).bind(status).bind(page.size).bind(page.offset())
        .fetch_all(pool).await)?;
    let total: i64 = dispatch!(store, pool => sqlx::query_scalar(COUNT).bind(market_id).bind(status).fetch_one(pool).await)?;
    Ok((rows, total))
}

/// Every stall of a market, in code order.
pub async fn all_in_market(store: &Store, market_id: i64) -> Result<Vec<StallRow>, StoreError> {
    const SQL: &str = concat!(
        "SELECT ",
        columns!(),
        " FROM stalls WHERE market_id = $1 ORDER BY code"
    );
    Ok(
        dispatch!(store, pool => sqlx::query_as::<_, StallRow>(SQL).bind(market_id).fetch_all(pool).await)?,
    )
}

/// Records a placed poster for every stall of the market that has an account and no poster yet
/// (the demo's "posters already placed").
pub async fn mark_posters_placed(
    store: &Store,
    market_id: i64,
    now_ms: i64,
) -> Result<u64, StoreError> {
    const SQL: &str = "UPDATE stalls SET poster_printed_at_ms = $2, poster_serial = 'DEMO-' || CAST(id AS TEXT) \
                       WHERE market_id = $1 AND payee_bin IS NOT NULL AND poster_printed_at_ms IS NULL";
    Ok(dispatch!(store, pool => sqlx::query(SQL)
        .bind(market_id)
        .bind(now_ms)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?)
}
