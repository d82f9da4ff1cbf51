//! SQLite's way to record a batch: the whole transaction on one blocking thread, over the ledger
//! writer's own `rusqlite` connection, in plain prepared statements, row by row.
//!
//! Through sqlx every statement is a hand-off between the writer's Tokio task and the
//! connection's worker thread, and every row returned is one more; under load the SQLite path spent
//! most of its time waking threads, not in SQLite. Here a batch crosses threads once (there and
//! back); inside, a statement is a call into the SQLite library, prepared once per connection.
//!
//! `BEGIN IMMEDIATE` takes the write lock at once (the other writers wait on the busy timeout), so
//! what the reads found cannot change before the commit; an insert that finds its transaction
//! already recorded is reported as [`StoreError::Race`] anyway.
//!
//! The connection is opened on the pool's file in WAL mode, with the same busy timeout, and
//! without SQLite's foreign-key and `CHECK` constraint checks, which cost 4–10 % of the callback
//! benchmark's throughput each and cannot fail here. Every id this connection writes is a row it
//! read in the same `BEGIN IMMEDIATE` transaction (stall, order) or its channel's (channel,
//! market), and chopay deletes no rows. Every checked value comes from a type that holds the same
//! rule: amounts are [`Vnd`](crate::domain::money::Vnd) (whole, positive, at most the schema's
//! bound), outcomes and order statuses enums, an order's paid total a sum of such amounts. (SQLite
//! builds a small index for each `IN (…)` list of a `CHECK`, anew at every row written.) The pool's
//! connections keep both checks and PostgreSQL its constraints; the test suite, the same on both
//! databases, runs `PRAGMA foreign_key_check` and `PRAGMA integrity_check` (which checks every
//! `CHECK`) on SQLite after every API test.
//!
//! Triggers are off on this connection too. The schema's only ones keep `market_days` from each
//! row of `credit_days` changed (migration 0009), a market-day upsert per stall rollup; here the
//! batch adds to each market's day once, the sum of its stalls' changes
//! ([`Planned::market_days`](super::plan::Planned::market_days)). The connection starts only if
//! the schema's triggers are exactly those ([`TRIGGERS`]), and the books check after every API test
//! compares every market's days with its stalls'.
//!
//! When the pool syncs every commit (`synchronous=FULL`, the service's setting), the ledger's
//! connection commits with `synchronous=NORMAL` and syncs the WAL itself before a batch is
//! answered ([`super::wal`]): the same guarantee, with the fsync off the writer's path. Under a
//! weaker setting (a diagnostic, explicitly allowed) it takes the pool's. Its log is checkpointed
//! mostly by a thread of its own ([`super::checkpoint`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rusqlite::config::DbConfig;
use rusqlite::{
    Connection, OpenFlags, OptionalExtension, Row, TransactionBehavior, params, params_from_iter,
};
use sqlx::SqlitePool;

use super::checkpoint::{self, Checkpointer};
use super::plan::{Batch, Lookups, Written};
use super::sql::{add_to_rollups, credits_insert, rollups_insert};
use super::wal::{self, Durability, SyncFn, Wal};
use crate::store::StoreError;
use crate::store::credits::{
    CreditRow, INSERT_REVIEW, Recorded, columns as credit_columns, from as credit_from,
};
use crate::store::orders::OrderRow;
use crate::store::{SQLITE_BUSY_TIMEOUT, SQLITE_CACHE_KIB};

/// Statements a connection keeps prepared (the ledger uses eight).
const STATEMENTS: usize = 16;

/// `PRAGMA synchronous` values.
const NORMAL: i64 = 1;
pub(super) const FULL: i64 = 2;

/// The ledger writer's connection, and how its commits become durable.
#[derive(Debug)]
pub(super) struct Conn {
    conn: Connection,
    /// The database file.
    path: PathBuf,
    /// Whether this connection syncs the WAL itself (the pool syncs every commit).
    syncs_wal: bool,
    /// How it syncs it.
    sync: SyncFn,
    /// Set while a failed sync has not been made good (the writer's, across connections).
    tainted: Arc<AtomicBool>,
    /// The WAL, opened after the first commit.
    wal: Option<Arc<Wal>>,
    /// The thread that checkpoints the WAL, if it could start.
    checkpointer: Option<Checkpointer>,
}

/// Opens the ledger's connection on the pool's database file, as durable as the pool.
pub(super) async fn open(
    pool: &SqlitePool,
    sync: SyncFn,
    tainted: Arc<AtomicBool>,
) -> Result<Conn, StoreError> {
    let options = pool.connect_options();
    let path = options.get_filename().to_owned();
    let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
        .fetch_one(pool)
        .await?;
    tokio::task::spawn_blocking(move || -> Result<Conn, StoreError> {
        let conn = connect(&path)?;
        let syncs_wal = synchronous >= FULL;
        conn.set_prepared_statement_cache_capacity(STATEMENTS);
        conn.pragma_update(
            None,
            "synchronous",
            if syncs_wal { NORMAL } else { synchronous },
        )?;
        // Neither can fail on this connection: see the module's documentation.
        conn.pragma_update(None, "foreign_keys", false)?;
        conn.pragma_update(None, "ignore_check_constraints", true)?;
        without_triggers(&conn)?;
        conn.pragma_update(None, "cache_size", SQLITE_CACHE_KIB)?;
        conn.pragma_update(None, "wal_autocheckpoint", checkpoint::WRITER_PAGES)?;
        let journal: String = conn.pragma_query_value(None, "journal_mode", |row| row.get(0))?;
        if !journal.eq_ignore_ascii_case("wal") {
            return Err(StoreError::NotDurable(format!(
                "the ledger's SQLite connection found journal_mode={journal}, not WAL"
            )));
        }
        let checkpointer = Checkpointer::start(&path);
        Ok(Conn {
            conn,
            path,
            syncs_wal,
            sync,
            checkpointer,
            tainted,
            wal: None,
        })
    })
    .await
    .map_err(|e| StoreError::WriterGone(e.to_string()))?
}

/// The triggers of the schema, all on `credit_days` (migrations 0009, 0010): each keeps
/// `market_days`, which this connection writes itself, once per market and day of a batch.
const TRIGGERS: [&str; 4] = [
    "credit_days_deleted",
    "credit_days_inserted",
    "credit_days_moved",
    "credit_days_updated",
];

/// Turns the schema's triggers off on `conn`, once sure they are the ones it writes for
/// ([`TRIGGERS`]): a trigger added later must be written for here too, and until then the ledger
/// does not start.
fn without_triggers(conn: &Connection) -> Result<(), StoreError> {
    let mut found =
        conn.prepare("SELECT name FROM sqlite_schema WHERE type = 'trigger' ORDER BY name")?;
    let names = found
        .query_map([], |row| row.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    if names != TRIGGERS {
        return Err(StoreError::Schema(format!(
            "the ledger's SQLite connection writes what the triggers {TRIGGERS:?} would; the schema has {names:?}"
        )));
    }
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER, false)?;
    Ok(())
}

/// A connection of the ledger's own on the database file at `path` (read-write, never creating
/// it), with the pool's busy timeout: the writer's, and its checkpoint thread's.
pub(super) fn connect(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(SQLITE_BUSY_TIMEOUT)?;
    Ok(conn)
}

/// Records `batch` in one transaction and tells when it is durable; nothing is written unless all
/// of it is. After a failed sync of the WAL, first checkpoints it ([`wal::recover`]).
pub(super) fn record(
    ledger: &mut Conn,
    batch: &Batch<'_>,
    now_ms: i64,
) -> Result<(Vec<Recorded>, Durability), StoreError> {
    if ledger.tainted.load(Ordering::Acquire) {
        // Its checkpoint must not find the thread's running.
        let _alone = ledger.checkpointer.as_ref().map(Checkpointer::hold);
        wal::recover(&ledger.conn, &ledger.tainted)?;
    }
    let results = transact(&mut ledger.conn, batch, now_ms)?;
    if let Some(checkpointer) = &mut ledger.checkpointer {
        checkpointer.committed();
    }
    if !ledger.syncs_wal {
        return Ok((results, Durability::at_commit()));
    }
    let wal = match &ledger.wal {
        Some(wal) => Arc::clone(wal),
        None => {
            let wal = Arc::new(
                Wal::open(&ledger.path, ledger.sync, Arc::clone(&ledger.tainted))
                    .map_err(|e| StoreError::WalSync(format!("cannot open the WAL: {e}")))?,
            );
            ledger.wal = Some(Arc::clone(&wal));
            wal
        }
    };
    Ok((results, Durability::after_sync(wal)))
}

/// Records `batch` in one `BEGIN IMMEDIATE` transaction.
fn transact(
    conn: &mut Connection,
    batch: &Batch<'_>,
    now_ms: i64,
) -> Result<Vec<Recorded>, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let lookups = read(&tx, batch)?;
    let planned = batch.plan(&lookups);

    let mut written = Written::default();
    {
        let mut insert = tx.prepare_cached(INSERT_CREDIT)?;
        for (item, decision, day) in batch.new_credits(&planned) {
            let credit = item.credit;
            let inserted = insert.execute(params![
                item.channel_id,
                item.market_id,
                credit.provider_txn_id,
                credit.amount.to_dong(),
                credit.account,
                credit.bin,
                credit.virtual_account,
                credit.description,
                credit.counterparty_name,
                credit.counterparty_account,
                credit.counterparty_bank,
                credit.booked_at_ms,
                item.received_at_ms,
                day.number(),
                decision.stall_id,
                decision.order_id,
                decision.outcome.as_str(),
                decision.note,
                item.raw_body,
            ])?;
            if inserted != 1 {
                return Err(StoreError::Race(
                    "another writer recorded one of these transactions meanwhile",
                ));
            }
            written.ids.insert(
                (item.channel_id, credit.provider_txn_id.clone()),
                tx.last_insert_rowid(),
            );
        }
    }
    {
        let mut update = tx.prepare_cached(UPDATE_ORDER)?;
        for change in &planned.orders {
            let changed = update.execute(params![
                change.paid_dong,
                change.status.as_str(),
                now_ms,
                change.before.id,
                change.before.paid_dong,
                change.before.status,
            ])?;
            if changed != 1 {
                return Err(StoreError::Race("an order changed while it was locked"));
            }
        }
    }
    {
        let mut add = tx.prepare_cached(ADD_ROLLUP)?;
        for (&(market_id, stall_id, day), delta) in &planned.rollups {
            let key = [market_id, stall_id, day];
            let (stall_id, day, credits, amount_dong) = add.query_row(
                params_from_iter(key.into_iter().chain(delta.sums())),
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
            )?;
            written.total(stall_id, day, credits, amount_dong);
        }
        let mut add = tx.prepare_cached(ADD_MARKET_DAY)?;
        for ((market_id, day), delta) in planned.market_days() {
            add.execute(params_from_iter(
                [market_id, day].into_iter().chain(delta.sums()),
            ))?;
        }
    }
    let results = batch.answers(&planned, &written, now_ms)?;

    // Deliveries that contradict a recorded transaction are kept for review.
    for (result, item) in results.iter().zip(batch.items) {
        if let Recorded::Conflict(original) = result {
            let reason = format!(
                "transaction {} was recorded as {}đ (credit {}); this delivery says {}đ",
                original.provider_txn_id,
                original.amount_dong,
                original.id,
                item.credit.amount.to_dong()
            );
            tx.prepare_cached(INSERT_REVIEW)?.execute(params![
                item.channel_id,
                item.market_id,
                "conflict",
                reason,
                item.credit.provider_txn_id,
                item.raw_body,
                item.received_at_ms,
            ])?;
        }
    }
    tx.commit()?;
    Ok(results)
}

/// What the batch is decided on: its transactions recorded before, the orders its references
/// name, and the stalls of its receiving accounts.
fn read(tx: &Connection, batch: &Batch<'_>) -> Result<Lookups, StoreError> {
    let mut lookups = Lookups::default();
    let mut recorded = tx.prepare_cached(RECORDED)?;
    for (channel, txns) in batch.txn_ids() {
        for txn in txns {
            if let Some(row) = recorded
                .query_row(params![channel, txn], credit_row)
                .optional()?
            {
                lookups.existing.insert((channel, txn.to_owned()), row);
            }
        }
    }
    let mut order = tx.prepare_cached(ORDER)?;
    for reference in batch.references() {
        if let Some(row) = order.query_row([reference], order_row).optional()? {
            lookups.orders.insert(row.reference.clone(), row);
        }
    }
    let mut stalls = tx.prepare_cached(STALLS)?;
    for (market, accounts) in batch.accounts() {
        for account in accounts {
            let found = stalls.query_map(params![market, account], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })?;
            for stall in found {
                lookups.stalls.entry(market).or_default().push(stall?);
            }
        }
    }
    Ok(lookups)
}

/// A credit recorded before, by channel and transaction id.
const RECORDED: &str = concat!(
    "SELECT ",
    credit_columns!(),
    credit_from!(),
    "WHERE c.channel_id = ?1 AND c.provider_txn_id = ?2"
);

/// An order by its reference, columns in [`order_row`]'s order.
const ORDER: &str = "SELECT id, stall_id, market_id, reference, amount_dong, note, status, paid_dong, payee_bin, \
     payee_account, payload, idempotency_key, request_sha256, created_at_ms, expires_at_ms, updated_at_ms \
     FROM orders WHERE reference = ?1";

/// The stalls of a market paid into an account: id, BIN, account.
const STALLS: &str = "SELECT id, payee_bin, payee_account FROM stalls \
     WHERE market_id = ?1 AND payee_account = ?2 AND payee_bin IS NOT NULL";

/// A new credit (its transaction must not be recorded yet).
const INSERT_CREDIT: &str = concat!(
    credits_insert!(),
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19) \
     ON CONFLICT (channel_id, provider_txn_id) DO NOTHING"
);

/// An order's new total, only if it still has the total and status it was read with.
const UPDATE_ORDER: &str = "UPDATE orders SET paid_dong = ?1, status = ?2, updated_at_ms = ?3 \
     WHERE id = ?4 AND paid_dong = ?5 AND status = ?6";

/// Adds to a stall's day rollup and answers its totals after.
const ADD_ROLLUP: &str = concat!(
    rollups_insert!(),
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    add_to_rollups!()
);

/// Adds to a market's day what its stalls' rollups got (triggers are off on this connection).
const ADD_MARKET_DAY: &str = "INSERT INTO market_days (market_id, day, credits, amount_dong, dynamic_credits, \
     dynamic_amount_dong, static_credits, static_amount_dong, unmatched_credits, unmatched_amount_dong) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
     ON CONFLICT (market_id, day, shard) DO UPDATE SET credits = credits + excluded.credits, \
     amount_dong = amount_dong + excluded.amount_dong, \
     dynamic_credits = dynamic_credits + excluded.dynamic_credits, \
     dynamic_amount_dong = dynamic_amount_dong + excluded.dynamic_amount_dong, \
     static_credits = static_credits + excluded.static_credits, \
     static_amount_dong = static_amount_dong + excluded.static_amount_dong, \
     unmatched_credits = unmatched_credits + excluded.unmatched_credits, \
     unmatched_amount_dong = unmatched_amount_dong + excluded.unmatched_amount_dong";

fn credit_row(row: &Row<'_>) -> rusqlite::Result<CreditRow> {
    Ok(CreditRow {
        id: row.get(0)?,
        channel_id: row.get(1)?,
        market_id: row.get(2)?,
        provider_txn_id: row.get(3)?,
        amount_dong: row.get(4)?,
        account: row.get(5)?,
        bin: row.get(6)?,
        virtual_account: row.get(7)?,
        description: row.get(8)?,
        counterparty_name: row.get(9)?,
        counterparty_account: row.get(10)?,
        counterparty_bank: row.get(11)?,
        booked_at_ms: row.get(12)?,
        received_at_ms: row.get(13)?,
        day: row.get(14)?,
        stall_id: row.get(15)?,
        order_id: row.get(16)?,
        outcome: row.get(17)?,
        note: row.get(18)?,
        assigned_stall_id: row.get(19)?,
    })
}

fn order_row(row: &Row<'_>) -> rusqlite::Result<OrderRow> {
    Ok(OrderRow {
        id: row.get(0)?,
        stall_id: row.get(1)?,
        market_id: row.get(2)?,
        reference: row.get(3)?,
        amount_dong: row.get(4)?,
        note: row.get(5)?,
        status: row.get(6)?,
        paid_dong: row.get(7)?,
        payee_bin: row.get(8)?,
        payee_account: row.get(9)?,
        payload: row.get(10)?,
        idempotency_key: row.get(11)?,
        request_sha256: row.get(12)?,
        created_at_ms: row.get(13)?,
        expires_at_ms: row.get(14)?,
        updated_at_ms: row.get(15)?,
    })
}
