//! Queries on `markets`.

use crate::dispatch;
use crate::domain::market::{MarketFields, Slug};

use super::Store;
use super::{Page, StoreError};

/// A market as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MarketRow {
    /// Database id.
    pub id: i64,
    /// URL name (*contract*).
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Commune or town.
    pub commune: String,
    /// District name.
    pub district: String,
    /// District slug.
    pub district_slug: String,
    /// Province.
    pub province: String,
    /// Vendor households the board registers, if known.
    pub households_registered: Option<i64>,
    /// When it was created.
    pub created_at_ms: i64,
    /// When it last changed.
    pub updated_at_ms: i64,
}

macro_rules! columns {
    () => {
        "id, slug, name, commune, district, district_slug, province, households_registered, created_at_ms, updated_at_ms"
    };
}

/// Which markets a listing covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MarketFilter {
    /// Every market.
    All,
    /// One market.
    Id(i64),
    /// The markets of one district.
    District(String),
}

/// Creates a market; [`StoreError::Duplicate`] when the slug is taken.
pub async fn insert(
    store: &Store,
    slug: &Slug,
    fields: &MarketFields,
    now_ms: i64,
) -> Result<MarketRow, StoreError> {
    const SQL: &str = concat!(
        "INSERT INTO markets (slug, name, commune, district, district_slug, province, households_registered, ",
        "created_at_ms, updated_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING ",
        columns!()
    );
    dispatch!(store, pool => sqlx::query_as::<_, MarketRow>(SQL)
        .bind(slug.as_str())
        .bind(&fields.name)
        .bind(&fields.commune)
        .bind(&fields.district)
        .bind(fields.district_slug.as_str())
        .bind(&fields.province)
        .bind(fields.households_registered)
        .bind(now_ms)
        .fetch_one(pool)
        .await)
    .map_err(|e| StoreError::or_duplicate(e, "a market with this slug"))
}

/// Replaces a market's fields (the slug stays).
pub async fn update(
    store: &Store,
    id: i64,
    fields: &MarketFields,
    now_ms: i64,
) -> Result<MarketRow, StoreError> {
    const SQL: &str = concat!(
        "UPDATE markets SET name = $2, commune = $3, district = $4, district_slug = $5, province = $6, ",
        "households_registered = $7, updated_at_ms = $8 WHERE id = $1 RETURNING ",
        columns!()
    );
    Ok(dispatch!(store, pool => sqlx::query_as::<_, MarketRow>(SQL)
        .bind(id)
        .bind(&fields.name)
        .bind(&fields.commune)
        .bind(&fields.district)
        .bind(fields.district_slug.as_str())
        .bind(&fields.province)
        .bind(fields.households_registered)
        .bind(now_ms)
        .fetch_one(pool)
        .await)?)
}

/// The market with this slug.
pub async fn by_slug(store: &Store, slug: &str) -> Result<Option<MarketRow>, StoreError> {
    const SQL: &str = concat!("SELECT ", columns!(), " FROM markets WHERE slug = $1");
    Ok(
        dispatch!(store, pool => sqlx::query_as::<_, MarketRow>(SQL).bind(slug).fetch_optional(pool).await)?,
    )
}

/// The market with this id.
pub async fn by_id(store: &Store, id: i64) -> Result<Option<MarketRow>, StoreError> {
    const SQL: &str = concat!("SELECT ", columns!(), " FROM markets WHERE id = $1");
    Ok(
        dispatch!(store, pool => sqlx::query_as::<_, MarketRow>(SQL).bind(id).fetch_optional(pool).await)?,
    )
}

/// A page of markets in slug order, and how many there are in all.
pub async fn list(
    store: &Store,
    filter: &MarketFilter,
    page: Page,
) -> Result<(Vec<MarketRow>, i64), StoreError> {
    // One statement serves all filters: $1 = 0 means all, 1 one id, 2 one district.
    const SQL: &str = concat!(
        "SELECT ",
        columns!(),
        " FROM markets WHERE ($1 = 0 OR ($1 = 1 AND id = $2) OR ($1 = 2 AND district_slug = $3)) ",
        "ORDER BY slug LIMIT $4 OFFSET $5"
    );
    const COUNT: &str = "SELECT COUNT(*) FROM markets WHERE ($1 = 0 OR ($1 = 1 AND id = $2) OR ($1 = 2 AND district_slug = $3))";
    let (kind, id, district): (i64, i64, &str) = match filter {
        MarketFilter::All => (0, 0, ""),
        MarketFilter::Id(id) => (1, *id, ""),
        MarketFilter::District(slug) => (2, 0, slug),
    };
    let rows = dispatch!(store, pool => sqlx::query_as::<_, MarketRow>(SQL)
        .bind(kind).bind(id).bind(district).bind(page.size).bind(page.offset())
        .fetch_all(pool).await)?;
    let total: i64 = dispatch!(store, pool => sqlx::query_scalar(COUNT)
        .bind(kind).bind(id).bind(district).fetch_one(pool).await)?;
    Ok((rows, total))
}

/// Every market of a district, in slug order.
pub async fn in_district(store: &Store, district_slug: &str) -> Result<Vec<MarketRow>, StoreError> {
    const SQL: &str = concat!(
        "SELECT ",
        columns!(),
        " FROM markets WHERE district_slug = $1 ORDER BY slug"
    );
    Ok(dispatch!(store, pool => sqlx::query_as::<_, MarketRow>(SQL)
        .bind(district_slug).fetch_all(pool).await)?)
}
