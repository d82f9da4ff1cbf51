//! The ledger writer: every authentic delivery goes through here to be matched and recorded.
//!
//! Handlers hand a credit to [`Ledger::record`] and wait for its answer. Writer tasks take all
//! deliveries waiting at that moment (up to [`MAX_BATCH`]) and record them in one transaction with
//! one commit: group commit. A delivery is answered only after its commit is durable, so a 2xx to
//! a bank always means the credit is on disk, and under load one fsync serves many deliveries. The
//! SQLite writer runs on threads of its own ([`super::ledger_thread`]), where the fsync of one
//! batch overlaps the recording of the next; PostgreSQL's writers are tasks.
//! After each commit, new credits are published to the event hub (vendor screens, boards).

use std::sync::Arc;

use tokio::sync::{Mutex, broadcast, mpsc, oneshot};

use crate::domain::credit::BankCredit;
use crate::store::credits::{CreditRow, DayTotal, Recorded};
use crate::store::ledger::{self, CreditInput};
use crate::store::orders::OrderRow;
use crate::store::{Backend, Store, now_ms};

use super::ServiceError;

/// Most deliveries recorded in one transaction.
pub const MAX_BATCH: usize = 256;
/// Deliveries waiting for a writer before new ones are told to retry.
const QUEUE: usize = 8192;
/// Tries of a delivery whose batch failed, before it is answered 503.
pub(super) const ATTEMPTS: usize = 3;
/// A writer waiting this long for deliveries gives its connections back to the pool.
const IDLE: std::time::Duration = std::time::Duration::from_millis(100);
/// Events kept for slow listeners before they skip ahead.
const EVENT_BUFFER: usize = 1024;

/// A credit just recorded, for listeners.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditEvent {
    /// The ledger row.
    pub credit: CreditRow,
    /// Its order after the credit.
    pub order: Option<OrderRow>,
    /// Its stall's figures for the day after the credit.
    pub today: Option<DayTotal>,
}

/// A delivery waiting for the writer, and where its answer goes.
pub(super) struct Job {
    channel_id: i64,
    market_id: i64,
    credit: BankCredit,
    raw_body: axum::body::Bytes,
    received_at_ms: i64,
    pub(super) reply: oneshot::Sender<Result<Recorded, String>>,
}

/// The way into the ledger, and the hub of what it records. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Ledger {
    jobs: mpsc::Sender<Job>,
    events: broadcast::Sender<Arc<CreditEvent>>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("channel_id", &self.channel_id)
            .finish_non_exhaustive()
    }
}

impl Ledger {
    /// Starts the writers on the current runtime: for SQLite one (a single writer is what SQLite
    /// allows anyway), on threads of its own ([`super::ledger_thread`]); for PostgreSQL two
    /// tasks — measured best on 2 cores (`benches/callbacks.rs`): one leaves the database idle
    /// during each commit; more only make batches smaller.
    pub fn start(store: Store) -> Self {
        let (jobs, receiver, events) = channels();
        let (writers, receiver) = match store.backend() {
            Backend::Sqlite => {
                let writer = ledger::Writer::numbered(store.clone(), 1);
                let runtime = tokio::runtime::Handle::current();
                match super::ledger_thread::start(writer, receiver, events.clone(), runtime) {
                    Ok(()) => return Self { jobs, events },
                    // A writer task then, as for PostgreSQL.
                    Err(receiver) => (1, receiver),
                }
            }
            Backend::Postgres => (2, receiver),
        };
        let receiver = Arc::new(Mutex::new(receiver));
        for number in 1..=writers {
            tokio::spawn(write_loop(
                ledger::Writer::numbered(store.clone(), number),
                Arc::clone(&receiver),
                events.clone(),
            ));
        }
        Self { jobs, events }
    }

    /// A SQLite ledger recording with `writer` (tests of a failing disk).
    #[cfg(test)]
    pub(crate) fn start_sqlite_with(writer: ledger::Writer) -> Self {
        let (jobs, receiver, events) = channels();
        let runtime = tokio::runtime::Handle::current();
        assert!(super::ledger_thread::start(writer, receiver, events.clone(), runtime).is_ok());
        Self { jobs, events }
    }

    /// Records one authentic delivery and answers once it is durable (or failed, with nothing
    /// recorded).
    pub async fn record(
        &self,
        channel_id: i64,
        market_id: i64,
        credit: BankCredit,
        raw_body: axum::body::Bytes,
    ) -> Result<Recorded, ServiceError> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            channel_id,
            market_id,
            credit,
            raw_body,
            received_at_ms: now_ms(),
            reply,
        };
        self.jobs
            .try_send(job)
            .map_err(|_| ServiceError::Unavailable("the ledger is busy; retry shortly".into()))?;
        match answer.await {
            Ok(Ok(recorded)) => Ok(recorded),
            Ok(Err(message)) => Err(ServiceError::Unavailable(message)),
            Err(_) => Err(ServiceError::Unavailable(
                "the ledger is shutting down; retry shortly".into(),
            )),
        }
    }

    /// Listens to credits as they are recorded.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<CreditEvent>> {
        self.events.subscribe()
    }
}

/// The queue of deliveries to the writers, and the event hub.
fn channels() -> (
    mpsc::Sender<Job>,
    mpsc::Receiver<Job>,
    broadcast::Sender<Arc<CreditEvent>>,
) {
    let (jobs, receiver) = mpsc::channel(QUEUE);
    let (events, _) = broadcast::channel(EVENT_BUFFER);
    (jobs, receiver, events)
}

/// A writer task (PostgreSQL): records each batch waiting and answers it once it is durable.
async fn write_loop(
    mut writer: ledger::Writer,
    receiver: Arc<Mutex<mpsc::Receiver<Job>>>,
    events: broadcast::Sender<Arc<CreditEvent>>,
) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    loop {
        let next = async { receiver.lock().await.recv_many(&mut batch, MAX_BATCH).await };
        let received = match tokio::time::timeout(IDLE, next).await {
            Ok(received) => received,
            Err(_) => {
                writer.release().await;
                receiver.lock().await.recv_many(&mut batch, MAX_BATCH).await
            }
        };
        if received == 0 {
            return;
        }
        match commit(&mut writer, &batch).await {
            Ok(committed) => {
                let jobs = std::mem::replace(&mut batch, Vec::with_capacity(MAX_BATCH));
                answer_durable(jobs, committed, &events).await;
            }
            // One bad delivery must not sink the others, and a lost lock race (another server on
            // the same PostgreSQL) must not cost the bank a retry: record them one by one, with
            // a few attempts each.
            Err(_) => {
                for job in batch.drain(..) {
                    let mut outcome = commit(&mut writer, std::slice::from_ref(&job)).await;
                    for _ in 1..ATTEMPTS {
                        if outcome.is_ok() {
                            break;
                        }
                        outcome = commit(&mut writer, std::slice::from_ref(&job)).await;
                    }
                    match outcome {
                        Ok(committed) => answer_durable(vec![job], committed, &events).await,
                        Err(message) => {
                            let _ = job.reply.send(Err(message));
                        }
                    }
                }
            }
        }
    }
}

/// Answers a committed batch once its commit is durable (at once on PostgreSQL).
async fn answer_durable(
    jobs: Vec<Job>,
    committed: ledger::Committed,
    events: &broadcast::Sender<Arc<CreditEvent>>,
) {
    match committed.durability.wait().await {
        Ok(()) => answer(jobs.into_iter(), committed.recorded, events),
        Err(error) => {
            tracing::error!(%error, deliveries = jobs.len(), "credits committed but not synced to disk; nothing acknowledged");
            refuse(jobs, NOT_SYNCED);
        }
    }
}

pub(super) fn refuse(jobs: Vec<Job>, message: &str) {
    for job in jobs {
        let _ = job.reply.send(Err(message.to_owned()));
    }
}

async fn commit(writer: &mut ledger::Writer, batch: &[Job]) -> Result<ledger::Committed, String> {
    writer
        .commit(&inputs(batch), now_ms())
        .await
        .map_err(|e| failed(&e, batch.len()))
}

/// What a delivery whose batch failed is told (it is retried first; see [`ATTEMPTS`]).
pub(super) fn failed(error: &crate::store::StoreError, deliveries: usize) -> String {
    tracing::error!(%error, deliveries, "recording credits failed; nothing acknowledged");
    "the ledger could not record this delivery; retry shortly".to_owned()
}

/// What a delivery committed but not synced to disk is told.
pub(super) const NOT_SYNCED: &str =
    "the ledger could not sync this delivery to disk; retry shortly";

/// The batch as the store takes it.
pub(super) fn inputs(batch: &[Job]) -> Vec<CreditInput<'_>> {
    let inputs: Vec<CreditInput<'_>> = batch
        .iter()
        .map(|job| CreditInput {
            channel_id: job.channel_id,
            market_id: job.market_id,
            credit: &job.credit,
            raw_body: &job.raw_body,
            received_at_ms: job.received_at_ms,
        })
        .collect();
    inputs
}

pub(super) fn answer(
    jobs: impl Iterator<Item = Job>,
    recorded: Vec<Recorded>,
    events: &broadcast::Sender<Arc<CreditEvent>>,
) {
    for (job, result) in jobs.zip(recorded) {
        if let Some(event) = event_of(&result) {
            // No listener is not an error.
            let _ = events.send(event);
        }
        let _ = job.reply.send(Ok(result));
    }
}

/// What listeners are told of a delivery: a new credit, or nothing.
pub(super) fn event_of(result: &Recorded) -> Option<Arc<CreditEvent>> {
    match result {
        Recorded::New {
            credit,
            order,
            today,
        } => Some(Arc::new(CreditEvent {
            credit: (**credit).clone(),
            order: order.clone(),
            today: *today,
        })),
        Recorded::Duplicate(_) | Recorded::Conflict(_) => None,
    }
}
