//! For tests of the ledger on a failing disk: a demo database, a credit, and a WAL sync that
//! fails when told to.

use std::collections::HashSet;
use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::Mutex;

use crate::domain::credit::BankCredit;
use crate::domain::money::Vnd;
use crate::service::{catalog, demo};
use crate::store::{DatabaseUrl, Store};

/// The inodes of the WAL files whose next sync fails (tests run in parallel, each on its own).
static FAIL_NEXT: Mutex<Option<HashSet<u64>>> = Mutex::new(None);

/// Makes the next sync of the WAL of the database at `db` fail, as a failing disk's would.
pub(crate) fn fail_next_sync(db: &Path) {
    let inode = std::fs::metadata(super::wal::path_of(db))
        .expect("the WAL exists once the database has been written")
        .ino();
    let mut failing = FAIL_NEXT.lock().unwrap_or_else(|e| e.into_inner());
    failing.get_or_insert_default().insert(inode);
}

/// `File::sync_data`, unless [`fail_next_sync`] was called for this file.
pub(crate) fn failing_disk(file: &File) -> std::io::Result<()> {
    let inode = file.metadata()?.ino();
    let failed = FAIL_NEXT
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_mut()
        .is_some_and(|failing| failing.remove(&inode));
    if failed {
        return Err(std::io::Error::other(
            "injected: the disk failed to write back",
        ));
    }
    file.sync_data()
}

/// A demo database at `db`: its store, the payment channel of Chợ Mơ and that market's id.
pub(crate) async fn demo_store(db: &Path) -> (Store, i64, i64) {
    let url = format!("sqlite://{}", db.display());
    let store = Store::connect(&DatabaseUrl::new(url)).await.unwrap();
    store.migrate().await.unwrap();
    demo::seed(&store).await.unwrap();
    let (channel_id, _) = demo::payment_channel(&store, "cho-mo").await.unwrap();
    let market_id = catalog::market(&store, "cho-mo").await.unwrap().id;
    (store, channel_id, market_id)
}

/// A credit of `dong` to a demo account, as bank transaction `txn`.
pub(crate) fn credit(txn: &str, dong: i64) -> BankCredit {
    BankCredit {
        provider_txn_id: txn.to_owned(),
        amount: Vnd::from_dong(dong).unwrap(),
        account: Some("0000000000".to_owned()),
        bin: Some("970436".to_owned()),
        virtual_account: None,
        description: "chuyen tien".to_owned(),
        counterparty_name: None,
        counterparty_account: None,
        counterparty_bank: None,
        booked_at_ms: None,
        payment_code: None,
    }
}
