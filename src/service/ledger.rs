//! The ledger writer: every authentic delivery goes through here to be matched and recorded.
//!
//! Handlers hand a credit to [`Ledger::record`] and wait for its answer. Writer tasks take all
//! deliveries waiting at that moment (up to [`MAX_BATCH`]) and record them in one transaction with
//! one commit: group commit. A delivery is answered only after its commit is durable, so a 2xx to
//! a bank always means the credit is on disk, and under load one fsync serves many deliveries.
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
const ATTEMPTS: usize = 3;
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

struct Job {
    channel_id: i64,
    market_id: i64,
    credit: BankCredit,
    raw_body: axum::body::Bytes,
    received_at_ms: i64,
    reply: oneshot::Sender<Result<Recorded, String>>,
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
    /// Starts the writer tasks on the current runtime: one for SQLite (a single writer is what
    /// SQLite allows anyway), two for PostgreSQL — measured best on 2 cores (`benches/callbacks.rs`):
    /// one leaves the database idle during each commit; more only make batches smaller.
    pub fn start(store: Store) -> Self {
        let (jobs, receiver) = mpsc::channel(QUEUE);
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        let writers = match store.backend() {
            Backend::Sqlite => 1,
            Backend::Postgres => 2,
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
        match record(&mut writer, &batch).await {
            Ok(recorded) => answer(batch.drain(..), recorded, &events),
            // One bad delivery must not sink the others, and a lost lock race (another server on
            // the same PostgreSQL) must not cost the bank a retry: record them one by one, with
            // a few attempts each.
            Err(_) => {
                for job in batch.drain(..) {
                    let mut outcome = record(&mut writer, std::slice::from_ref(&job)).await;
                    for _ in 1..ATTEMPTS {
                        if outcome.is_ok() {
                            break;
                        }
                        outcome = record(&mut writer, std::slice::from_ref(&job)).await;
                    }
                    match outcome {
                        Ok(recorded) => answer(std::iter::once(job), recorded, &events),
                        Err(message) => {
                            let _ = job.reply.send(Err(message));
                        }
                    }
                }
            }
        }
    }
}

async fn record(writer: &mut ledger::Writer, batch: &[Job]) -> Result<Vec<Recorded>, String> {
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
    writer.record(&inputs, now_ms()).await.map_err(|e| {
        tracing::error!(error = %e, deliveries = batch.len(), "recording credits failed; nothing acknowledged");
        "the ledger could not record this delivery; retry shortly".to_owned()
    })
}

fn answer(
    jobs: impl Iterator<Item = Job>,
    recorded: Vec<Recorded>,
    events: &broadcast::Sender<Arc<CreditEvent>>,
) {
    for (job, result) in jobs.zip(recorded) {
        if let Recorded::New {
            credit,
            order,
            today,
        } = &result
        {
            // No listener is not an error.
            let _ = events.send(Arc::new(CreditEvent {
                credit: (**credit).clone(),
                order: order.clone(),
                today: *today,
            }));
        }
        let _ = job.reply.send(Ok(result));
    }
}
