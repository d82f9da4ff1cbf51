//! The SQLite ledger writer on threads of its own: one records batches, one syncs the
//! write-ahead log and answers.
//!
//! Measured under load (`benches/callbacks.rs`), a writer Tokio task handing each batch to a
//! blocking thread and back spent a quarter of its cycle on the hops, and answering through one
//! more blocking thread doubled the wait for the fsync. Here the writer thread calls SQLite
//! directly and hands each committed batch to the sync thread, which fsyncs the WAL once for every
//! batch waiting and then answers them: while the disk syncs one group, the writer records the
//! next (group commit with the fsync off the writer's path). Nothing is acknowledged before its
//! commit is on disk; after a failed fsync every waiting batch is refused (503, to be retried).

use std::sync::mpsc::{Receiver, SendError, SyncSender};
use std::sync::{Arc, Mutex};

use tokio::runtime::Handle;
use tokio::sync::{broadcast, mpsc};

use super::ledger::{
    ATTEMPTS, CreditEvent, Job, MAX_BATCH, NOT_SYNCED, answer, event_of, failed, inputs, refuse,
};
use crate::store::ledger::{self, Durability};
use crate::store::now_ms;

/// Batches committed and waiting for their sync, at most, before the writer waits too.
const SYNCING: usize = 64;

/// A batch committed, waiting for its commit to be durable before it is answered.
struct Syncing {
    jobs: Vec<Job>,
    committed: ledger::Committed,
}

/// Starts the writer and sync threads on the jobs of `receiver`; `runtime` runs what is async
/// (opening the connection). Gives `receiver` back if the system cannot start a
/// thread.
pub(super) fn start(
    writer: ledger::Writer,
    receiver: mpsc::Receiver<Job>,
    events: broadcast::Sender<Arc<CreditEvent>>,
    runtime: Handle,
) -> Result<(), mpsc::Receiver<Job>> {
    let (syncing, to_sync) = std::sync::mpsc::sync_channel(SYNCING);
    let answering = events.clone();
    let spawned = std::thread::Builder::new()
        .name("chopay-wal-sync".into())
        .spawn(move || sync_loop(&to_sync, &answering));
    if let Err(error) = spawned {
        tracing::error!(%error, "cannot start the ledger's sync thread");
        return Err(receiver);
    }
    // Taken by the writer thread once it runs; taken back if it cannot start.
    let slot = Arc::new(Mutex::new(Some(receiver)));
    let taken = Arc::clone(&slot);
    let spawned = std::thread::Builder::new()
        .name("chopay-ledger".into())
        .spawn(move || {
            let receiver = taken.lock().ok().and_then(|mut slot| slot.take());
            if let Some(receiver) = receiver {
                write_loop(writer, receiver, &syncing, &events, &runtime);
            }
        });
    match spawned {
        Ok(_) => Ok(()),
        Err(error) => {
            tracing::error!(%error, "cannot start the ledger's writer thread");
            let receiver = slot.lock().ok().and_then(|mut slot| slot.take());
            receiver.map_or(Ok(()), Err)
        }
    }
}

fn write_loop(
    mut writer: ledger::Writer,
    mut receiver: mpsc::Receiver<Job>,
    syncing: &SyncSender<Syncing>,
    events: &broadcast::Sender<Arc<CreditEvent>>,
    runtime: &Handle,
) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    // Its connection stays open while the service runs: it is not the pool's, so closing the pool
    // never waits for it, and it closes when the last sender of jobs is gone.
    while receiver.blocking_recv_many(&mut batch, MAX_BATCH) > 0 {
        match commit(&mut writer, &batch, runtime) {
            Ok(committed) => {
                let jobs = std::mem::replace(&mut batch, Vec::with_capacity(MAX_BATCH));
                hand_on(syncing, jobs, committed, events);
            }
            // One bad delivery must not sink the others: record them one by one, with a few
            // attempts each.
            Err(_) => {
                for job in batch.drain(..) {
                    let mut outcome = commit(&mut writer, std::slice::from_ref(&job), runtime);
                    for _ in 1..ATTEMPTS {
                        if outcome.is_ok() {
                            break;
                        }
                        outcome = commit(&mut writer, std::slice::from_ref(&job), runtime);
                    }
                    match outcome {
                        Ok(committed) => hand_on(syncing, vec![job], committed, events),
                        Err(message) => {
                            let _ = job.reply.send(Err(message));
                        }
                    }
                }
            }
        }
    }
}

fn commit(
    writer: &mut ledger::Writer,
    batch: &[Job],
    runtime: &Handle,
) -> Result<ledger::Committed, String> {
    writer
        .commit_blocking(runtime, &inputs(batch), now_ms())
        .map_err(|e| failed(&e, batch.len()))
}

/// Answers a committed batch now if its commit is already durable, or has the sync thread answer
/// it once it is (the writer waits only when [`SYNCING`] batches are waiting).
fn hand_on(
    syncing: &SyncSender<Syncing>,
    jobs: Vec<Job>,
    committed: ledger::Committed,
    events: &broadcast::Sender<Arc<CreditEvent>>,
) {
    if committed.durability.is_at_commit() {
        return answer(jobs.into_iter(), committed.recorded, events);
    }
    // Blocks while the sync thread has SYNCING batches waiting; fails only once it has ended.
    if let Err(SendError(batch)) = syncing.send(Syncing { jobs, committed }) {
        refuse(batch.jobs, "the ledger is shutting down; retry shortly");
    }
}

/// Syncs every batch waiting with one fsync, then answers them all; if the sync fails, none.
///
/// Credits refused that way are in the ledger all the same (the banks' retries find them): they
/// are announced once a later sync succeeds, which proves them durable (a failed sync lets no
/// other succeed until the log has been checkpointed; see [`ledger::Durability`]).
fn sync_loop(batches: &Receiver<Syncing>, events: &broadcast::Sender<Arc<CreditEvent>>) {
    let mut waiting: Vec<Syncing> = Vec::with_capacity(SYNCING);
    let mut unannounced: Vec<Arc<CreditEvent>> = Vec::new();
    while let Ok(first) = batches.recv() {
        waiting.push(first);
        waiting.extend(batches.try_iter());
        match Durability::sync_all(waiting.iter().map(|b| &b.committed.durability)) {
            Ok(()) => {
                for event in unannounced.drain(..) {
                    let _ = events.send(event);
                }
                for batch in waiting.drain(..) {
                    answer(batch.jobs.into_iter(), batch.committed.recorded, events);
                }
            }
            Err(error) => {
                let deliveries: usize = waiting.iter().map(|b| b.jobs.len()).sum();
                tracing::error!(%error, deliveries, "credits committed but not synced to disk; nothing acknowledged");
                for batch in waiting.drain(..) {
                    unannounced.extend(batch.committed.recorded.iter().filter_map(event_of));
                    refuse(batch.jobs, NOT_SYNCED);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::service::ServiceError;
    use crate::service::ledger::Ledger;
    use crate::store::credits::Recorded;
    use crate::store::ledger::testing::{credit, demo_store, fail_next_sync, failing_disk};
    use crate::store::{Store, ledger};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_delivery_whose_fsync_fails_is_refused_and_its_retry_is_acknowledged_once() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("ledger.db");
        let (store, channel_id, market_id) = demo_store(&db).await;
        let ledger =
            Ledger::start_sqlite_with(ledger::Writer::syncing_with(store.clone(), failing_disk));
        let credit = credit("FT-SYNC-1", 50_000);
        let mut events = ledger.subscribe();
        let record = || ledger.record(channel_id, market_id, credit.clone(), "{}".into());

        fail_next_sync(&db);
        match record().await {
            Err(ServiceError::Unavailable(message)) => {
                assert!(message.contains("could not sync"), "{message}");
            }
            other => panic!("a failed fsync must not be acknowledged: {other:?}"),
        }
        assert!(
            events.try_recv().is_err(),
            "nothing is announced before it is durable"
        );

        // The bank retries: the credit was committed, so the retry finds it, once, and the vendor
        // hears of it now that it is durable.
        assert!(matches!(record().await, Ok(Recorded::Duplicate(_))));
        let announced = tokio::time::timeout(std::time::Duration::from_secs(10), events.recv())
            .await
            .expect("the credit is announced once durable")
            .unwrap();
        assert_eq!(announced.credit.provider_txn_id, "FT-SYNC-1");
        let Store::Sqlite(pool) = &store else {
            unreachable!()
        };
        let rows: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM credits WHERE provider_txn_id = 'FT-SYNC-1'")
                .fetch_one(pool)
                .await
                .unwrap();
        assert_eq!(rows, 1);
        assert!(
            crate::store::books::check(&store, None)
                .await
                .unwrap()
                .balanced()
        );
    }
}
