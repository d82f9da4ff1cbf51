//! Bearer tokens: made once and shown once, stored as SHA-256 digests, checked on each request,
//! revoked by id (a revoked token fails its very next request).

use crate::domain::access::{Principal, Role, Scope, token_hash, token_text};
use crate::store::tokens::{self, NewToken, TokenRow};
use crate::store::{Store, now_ms};

use super::ServiceError;
use super::catalog;

/// What a new token reaches.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TokenRequest {
    /// `admin`, `board` or `vendor`.
    pub role: String,
    /// A board's market, by slug (or, with `stall`, the market of a stall given by code).
    pub market: Option<String>,
    /// A board's district, by slug.
    pub district: Option<String>,
    /// A vendor's stall: its id, or its code when `market` is given.
    pub stall: Option<String>,
    /// What the token is for.
    pub label: String,
}

/// A token just made: its id, its text (shown once) and what it reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    /// Its id, to list or revoke it by.
    pub id: i64,
    /// The bearer token; only its digest is stored.
    pub token: String,
    /// Its role and scope.
    pub principal: Principal,
}

/// Longest token label.
pub const MAX_LABEL_CHARS: usize = 100;

/// Makes a token and stores its digest.
pub async fn create(store: &Store, request: &TokenRequest) -> Result<IssuedToken, ServiceError> {
    let role = Role::parse(&request.role).ok_or_else(|| {
        ServiceError::Invalid(format!(
            "role must be admin, board or vendor, not '{}'",
            request.role
        ))
    })?;
    let label = crate::domain::text::clean_optional(Some(&request.label), "label", MAX_LABEL_CHARS)
        .map_err(|e| ServiceError::Invalid(e.to_string()))?
        .unwrap_or_default();
    let invalid = |message: &str| ServiceError::Invalid(message.to_owned());
    let scope = match (role, &request.market, &request.district, &request.stall) {
        (Role::Admin, None, None, None) => Scope::All,
        (Role::Admin, ..) => {
            return Err(invalid(
                "an admin token has no --market, --district or --stall",
            ));
        }
        (Role::Board, Some(slug), None, None) => {
            Scope::Market(catalog::market(store, slug).await?.id)
        }
        (Role::Board, None, Some(district), None) => Scope::District(district.clone()),
        (Role::Board, ..) => {
            return Err(invalid(
                "a board token needs exactly one of --market or --district",
            ));
        }
        (Role::Vendor, market, None, Some(stall)) => {
            Scope::Stall(resolve_stall(store, market.as_deref(), stall).await?)
        }
        (Role::Vendor, ..) => {
            return Err(invalid(
                "a vendor token needs --stall ID (or --market SLUG --stall CODE)",
            ));
        }
    };
    let mut random = [0_u8; 32];
    getrandom::fill(&mut random)
        .map_err(|e| ServiceError::Unavailable(format!("no randomness available: {e}")))?;
    let token = token_text(&random);
    let digest = token_hash(&token);
    let (market_id, district_slug, stall_id) = match &scope {
        Scope::All => (None, None, None),
        Scope::Market(id) => (Some(*id), None, None),
        Scope::District(slug) => (None, Some(slug.as_str()), None),
        Scope::Stall(id) => (None, None, Some(*id)),
    };
    let new = NewToken {
        token_sha256: &digest,
        role: role.as_str(),
        market_id,
        district_slug,
        stall_id,
        label: &label,
    };
    let id = tokens::insert(store, &new, now_ms()).await?;
    Ok(IssuedToken {
        id,
        token,
        principal: Principal { role, scope },
    })
}

async fn resolve_stall(
    store: &Store,
    market: Option<&str>,
    stall: &str,
) -> Result<i64, ServiceError> {
    match (market, stall.parse::<i64>()) {
        (None, Ok(id)) => Ok(catalog::stall(store, id).await?.0.id),
        (Some(slug), _) => {
            let market = catalog::market(store, slug).await?;
            let code = stall.trim().to_ascii_uppercase();
            crate::store::stalls::by_code(store, market.id, &code)
                .await?
                .map(|s| s.id)
                .ok_or_else(|| ServiceError::NotFound(format!("stall {code} in market '{slug}'")))
        }
        (None, Err(_)) => Err(ServiceError::Invalid(format!(
            "stall '{stall}' is not an id; give --market too to use a code"
        ))),
    }
}

/// Every token made, revoked ones included (never a token's text or digest).
pub async fn list(store: &Store) -> Result<Vec<TokenRow>, ServiceError> {
    Ok(tokens::all(store).await?)
}

/// Revokes a token by id: from its next request on it is refused as unknown. Revoking a revoked
/// token changes nothing.
pub async fn revoke(store: &Store, id: i64) -> Result<TokenRow, ServiceError> {
    tokens::revoke(store, id, now_ms())
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("token {id}")))
}

/// [`revoke`] on a caller's behalf. A caller cannot revoke the token it is calling with (409):
/// an admin would lock themselves out, and with the last admin token the API would have none.
/// Another admin token can, and so can `chopay token revoke` on the server.
pub async fn revoke_for(
    store: &Store,
    id: i64,
    caller: &Session,
) -> Result<TokenRow, ServiceError> {
    if caller.token_id == id {
        return Err(ServiceError::Conflict(format!(
            "token {id} is the one making this request; revoke it with another admin token, \
             or with `chopay token revoke {id}` on the server"
        )));
    }
    revoke(store, id).await
}

/// A working token: who it stands for, and its digest, to ask later whether it still works.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The caller.
    pub principal: Principal,
    /// The token's id.
    pub token_id: i64,
    digest: String,
}

impl Session {
    /// Whether the token still works (it has not been revoked since).
    pub async fn still_valid(&self, store: &Store) -> Result<bool, ServiceError> {
        Ok(tokens::by_digest(store, &self.digest).await?.is_some())
    }

    /// Completes once the token is found revoked: checked every `every`, and whenever
    /// `revocations` changes (this process revoked a token). An event stream ends on it.
    pub async fn revoked(
        self,
        store: Store,
        every: std::time::Duration,
        mut revocations: tokio::sync::watch::Receiver<u64>,
    ) {
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                changed = revocations.changed() => if changed.is_err() {
                    // No more news from this process: the clock alone from now on.
                    tick.tick().await;
                },
            }
            if matches!(self.still_valid(&store).await, Ok(false)) {
                return;
            }
        }
    }
}

/// The caller a bearer token stands for, or `None` when it is unknown or revoked.
pub async fn authenticate(store: &Store, token: &str) -> Result<Option<Principal>, ServiceError> {
    Ok(session(store, token).await?.map(|s| s.principal))
}

/// The session of a bearer token, or `None` when it is unknown or revoked.
pub async fn session(store: &Store, token: &str) -> Result<Option<Session>, ServiceError> {
    let digest = token_hash(token);
    let Some(row) = tokens::by_digest(store, &digest).await? else {
        return Ok(None);
    };
    let role = Role::parse(&row.role);
    let scope = match (role, row.market_id, row.district_slug, row.stall_id) {
        (Some(Role::Admin), ..) => Scope::All,
        (Some(Role::Board), Some(id), _, _) => Scope::Market(id),
        (Some(Role::Board), None, Some(slug), _) => Scope::District(slug),
        (Some(Role::Vendor), _, _, Some(id)) => Scope::Stall(id),
        _ => return Ok(None),
    };
    Ok(role.map(|role| Session {
        principal: Principal { role, scope },
        token_id: row.id,
        digest,
    }))
}
