//! Printed posters: each print records the stall's poster serial and time (the board's
//! "equipped" counts stalls with a linked account and a poster printed since it was linked).

use crate::dispatch;

use super::{Store, StoreError};

/// Records that the poster `serial` of each `(stall id, serial)` was printed at `now_ms`.
pub async fn record_printed(
    store: &Store,
    printed: &[(i64, String)],
    now_ms: i64,
) -> Result<(), StoreError> {
    const SQL: &str =
        "UPDATE stalls SET poster_printed_at_ms = $2, poster_serial = $3 WHERE id = $1";
    for (stall_id, serial) in printed {
        dispatch!(store, pool => sqlx::query(SQL)
            .bind(stall_id)
            .bind(now_ms)
            .bind(serial)
            .execute(pool)
            .await
            .map(|_| ()))?;
    }
    Ok(())
}
