//! Printed posters: each print records the stall's poster serial and time (the board's
//! "equipped" counts stalls with a linked account and a poster printed since it was linked).

use crate::write_transaction;

use super::{Store, StoreError};

/// Records that the poster `serial` of each `(stall id, serial)` was printed at `now_ms`: all of
/// them or none.
pub async fn record_printed(
    store: &Store,
    printed: &[(i64, String)],
    now_ms: i64,
) -> Result<(), StoreError> {
    const SQL: &str =
        "UPDATE stalls SET poster_printed_at_ms = $2, poster_serial = $3 WHERE id = $1";
    write_transaction!(store, tx => {
        for (stall_id, serial) in printed {
            sqlx::query(SQL)
                .bind(stall_id)
                .bind(now_ms)
                .bind(serial)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    })
}
