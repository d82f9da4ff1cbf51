//! Printing posters: one stall's, or a whole market's in one PDF (stall-code order, stalls
//! without a linked account listed instead of printed). Each print gets a short serial and is
//! recorded on the stall.

use crate::domain::day::Day;
use crate::posters::{self, PosterContent, PosterSize};
use crate::store::markets::{self, MarketRow};
use crate::store::stalls::{self, StallRow};
use crate::store::{Store, now_ms};

use super::ServiceError;

/// Characters of poster serials: Crockford base 32 (no I, L, O, U).
const SERIAL_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One page per stall.
    Pdf,
    /// One stall at 300 dpi.
    Png,
}

/// Posters made and not yet recorded: [`Print::record`] once they are delivered (written to a
/// file, sent), so a print that never reached anyone does not count as placed.
#[derive(Debug)]
pub struct Print {
    /// The file: a PDF (one page per printed stall) or a PNG.
    pub bytes: Vec<u8>,
    /// The stalls printed, in page order: (id, code, serial).
    pub printed: Vec<(i64, String, String)>,
    /// The stalls left out because no account is linked: (code, vendor).
    pub skipped: Vec<(String, String)>,
    at_ms: i64,
}

impl Print {
    /// Records each printed poster's serial and time on its stall.
    pub async fn record(&self, store: &Store) -> Result<(), ServiceError> {
        let records: Vec<(i64, String)> = self
            .printed
            .iter()
            .map(|(id, _, serial)| (*id, serial.clone()))
            .collect();
        crate::store::posters::record_printed(store, &records, self.at_ms).await?;
        Ok(())
    }
}

pub use crate::domain::stall::code_order;

fn serial(stall: &StallRow) -> Result<String, ServiceError> {
    let mut random = [0_u8; 4];
    getrandom::fill(&mut random)
        .map_err(|e| ServiceError::Unavailable(format!("no randomness: {e}")))?;
    let tail: String = random
        .iter()
        .map(|b| {
            char::from(
                SERIAL_ALPHABET
                    .get(usize::from(b % 32))
                    .copied()
                    .unwrap_or(b'0'),
            )
        })
        .collect();
    Ok(format!("{}-{tail}", stall.code))
}

fn print_date(now_ms: i64) -> String {
    let number = Day::of_ms(now_ms).number();
    format!(
        "In ngày {:02}/{:02}/{}",
        number % 100,
        number / 100 % 100,
        number / 10_000
    )
}

/// The poster of `stall` with serial `serial`, or `None` when it has no linked account.
pub fn content(
    market: &MarketRow,
    stall: &StallRow,
    serial: &str,
    now_ms: i64,
) -> Option<PosterContent> {
    let payee = stall.payee()?;
    let code = payee.static_code().ok()?;
    Some(PosterContent {
        market: market.name.clone(),
        stall_code: stall.code.clone(),
        vendor: stall.vendor_name.clone(),
        bank: payee.bank_short_name(),
        holder: payee.holder.clone(),
        account: payee.masked_account(),
        serial: format!("Số tem: {serial}"),
        printed: print_date(now_ms),
        payload: code.payload(),
    })
}

async fn market_of(store: &Store, stall: &StallRow) -> Result<MarketRow, ServiceError> {
    markets::by_id(store, stall.market_id)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("market {}", stall.market_id)))
}

/// Makes one stall's poster.
pub async fn stall_poster(
    store: &Store,
    stall: &StallRow,
    size: PosterSize,
    format: Format,
) -> Result<Print, ServiceError> {
    let market = market_of(store, stall).await?;
    let now = now_ms();
    let serial = serial(stall)?;
    let content = content(&market, stall, &serial, now).ok_or_else(|| {
        ServiceError::Conflict(format!(
            "stall {} has no linked bank account, so no poster",
            stall.code
        ))
    })?;
    let bytes = tokio::task::spawn_blocking(move || match format {
        Format::Pdf => posters::pdf(size, [&content], || {}),
        Format::Png => posters::png(size, &content),
    })
    .await
    .map_err(|e| ServiceError::Unavailable(format!("the renderer stopped: {e}")))?
    .map_err(|e| ServiceError::Invalid(e.to_string()))?;
    Ok(Print {
        bytes,
        printed: vec![(stall.id, stall.code.clone(), serial)],
        skipped: Vec::new(),
        at_ms: now,
    })
}

/// Makes every poster of a market (or the stall `only`, by code) in one PDF;
/// `progress(done, total)` after each page.
pub async fn market_posters(
    store: &Store,
    market: &MarketRow,
    only: Option<&str>,
    size: PosterSize,
    progress: impl FnMut(usize, usize) + Send + 'static,
) -> Result<Print, ServiceError> {
    let mut all = stalls::all_in_market(store, market.id).await?;
    if let Some(code) = only {
        all.retain(|s| s.code.eq_ignore_ascii_case(code));
        if all.is_empty() {
            return Err(ServiceError::NotFound(format!(
                "stall {code} in market {}",
                market.slug
            )));
        }
    }
    all.sort_by(|a, b| code_order(&a.code, &b.code));
    let now = now_ms();
    let mut contents = Vec::new();
    let mut printed = Vec::new();
    let mut skipped = Vec::new();
    for stall in &all {
        let serial = serial(stall)?;
        match content(market, stall, &serial, now) {
            Some(content) => {
                contents.push(content);
                printed.push((stall.id, stall.code.clone(), serial));
            }
            None => skipped.push((stall.code.clone(), stall.vendor_name.clone())),
        }
    }
    let pdf = if contents.is_empty() {
        Vec::new()
    } else {
        let total = contents.len();
        let mut progress = progress;
        let mut done = 0;
        tokio::task::spawn_blocking(move || {
            posters::pdf(size, &contents, || {
                done += 1;
                progress(done, total);
            })
        })
        .await
        .map_err(|e| ServiceError::Unavailable(format!("the renderer stopped: {e}")))?
        .map_err(|e| ServiceError::Invalid(e.to_string()))?
    };
    Ok(Print {
        bytes: pdf,
        printed,
        skipped,
        at_ms: now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_print_date_is_the_vietnam_day() {
        // 2026-11-23 17:30 UTC is 24/11 in Vietnam.
        assert_eq!(print_date(1_795_455_000_000), "In ngày 24/11/2026");
    }
}
