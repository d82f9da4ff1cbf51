//! Markets and stalls: create, change, look up.

use crate::domain::market::{MarketFields, Slug};
use crate::domain::stall::{StallFields, StallInput};
use crate::store::markets::{self, MarketRow};
use crate::store::stalls::{self, StallRecord, StallRow};
use crate::store::{Store, now_ms};

use super::ServiceError;

/// The market with this slug, or [`ServiceError::NotFound`].
pub async fn market(store: &Store, slug: &str) -> Result<MarketRow, ServiceError> {
    markets::by_slug(store, slug)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("market '{slug}'")))
}

/// The stall with this id, with its market, or [`ServiceError::NotFound`].
pub async fn stall(store: &Store, id: i64) -> Result<(StallRow, MarketRow), ServiceError> {
    let not_found = || ServiceError::NotFound(format!("stall {id}"));
    let stall = stalls::by_id(store, id).await?.ok_or_else(not_found)?;
    let market = markets::by_id(store, stall.market_id)
        .await?
        .ok_or_else(not_found)?;
    Ok((stall, market))
}

/// Creates a market.
pub async fn create_market(
    store: &Store,
    slug: &str,
    fields: &MarketFields,
) -> Result<MarketRow, ServiceError> {
    let slug = Slug::parse(slug).map_err(|e| ServiceError::Invalid(format!("slug: {e}")))?;
    Ok(markets::insert(store, &slug, fields, now_ms()).await?)
}

/// Replaces a market's fields.
pub async fn update_market(
    store: &Store,
    market: &MarketRow,
    fields: &MarketFields,
) -> Result<MarketRow, ServiceError> {
    Ok(markets::update(store, market.id, fields, now_ms()).await?)
}

/// Checks a typed stall.
pub fn check_stall(input: &StallInput<'_>) -> Result<StallFields, ServiceError> {
    StallFields::parse(input).map_err(|e| ServiceError::Invalid(e.to_string()))
}

/// Creates a stall in a market.
pub async fn create_stall(
    store: &Store,
    market: &MarketRow,
    fields: &StallFields,
) -> Result<StallRow, ServiceError> {
    let now = now_ms();
    Ok(stalls::insert(store, market.id, &StallRecord::new(fields, None, now), now).await?)
}

/// Replaces a stall's fields; the account's link time moves only when the account changes.
pub async fn update_stall(
    store: &Store,
    stall: &StallRow,
    fields: &StallFields,
) -> Result<StallRow, ServiceError> {
    let now = now_ms();
    let record = StallRecord::new(fields, Some(stall), now);
    if record.matches(stall) {
        return Ok(stall.clone());
    }
    Ok(stalls::update(store, stall.id, &record, now).await?)
}
