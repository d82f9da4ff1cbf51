//! `POST /api/v1/stalls/{id}/poster-audit`: does the sticker on the stall pay the stall?
//!
//! The vendor (or a board's team, or an admin) scans the QR sticker at the stall and sends the
//! text the scanner read; the answer says whether it pays the stall's linked account. Nothing is
//! stored: the request only reads, so everyone who may read the stall may send it. Text that is
//! not a VietQR is still a 200 (`not_vietqr`: the vendor scanned something else); only a
//! malformed request, an empty text or one over [`MAX_SCANNED_CHARS`] is an error.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath, Caller};
use super::{AppState, visible_stall};
use crate::domain::poster::{self, MAX_SCANNED_CHARS, PosterAudit};

/// What a scanner read from the sticker.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PosterAuditRequest {
    /// The scanned text, exactly as read (at most 512 characters).
    pub payload: String,
}

/// The account the stall's poster should pay.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExpectedPayee {
    /// NAPAS BIN.
    pub bin: String,
    /// Bank short name.
    pub bank: String,
    /// The account number masked (`•••• 7890`).
    pub account_masked: String,
}

/// The account the scanned code pays, as the sticker says it.
#[derive(Debug, Serialize, ToSchema)]
pub struct FoundPayee {
    /// NAPAS BIN.
    pub bin: String,
    /// Bank short name; `null` when the BIN is not in the NAPAS directory.
    pub bank: Option<String>,
    /// Account or card number, in full: it is what the sticker says.
    pub account: String,
    /// The name the code carries (tag 59), if any.
    pub holder: Option<String>,
    /// The amount the code asks for, whole đồng as a string, if any.
    pub amount: Option<String>,
}

/// The audit of one scan.
#[derive(Debug, Serialize, ToSchema)]
pub struct PosterAuditOut {
    /// `ok`, `other_account`, `no_account_linked` or `not_vietqr`.
    pub verdict: &'static str,
    /// The verdict for the vendor, in Vietnamese.
    pub message: String,
    /// The stall's linked account; `null` when none is linked.
    pub expected: Option<ExpectedPayee>,
    /// What the code pays; `null` when it is not a VietQR.
    pub found: Option<FoundPayee>,
    /// The decoder's warnings about the code (English).
    pub warnings: Vec<String>,
    /// For `not_vietqr`, why, in the decoder's words (English).
    pub detail: Option<String>,
}

/// Check a scanned sticker against the stall's linked account.
#[utoipa::path(post, path = "/api/v1/stalls/{id}/poster-audit", tag = "stalls",
    params(("id" = i64, Path, description = "Stall id")), request_body = PosterAuditRequest, security(("bearer" = [])),
    responses((status = 200, body = PosterAuditOut, description = "the verdict, also when the text is not a VietQR"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody, description = "empty or over 512 characters")))]
pub async fn audit_poster(
    State(state): State<AppState>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<PosterAuditRequest>,
) -> Result<axum::Json<PosterAuditOut>, ApiError> {
    let (stall, _) = visible_stall(&state, &caller, id).await?;
    let length = body.payload.chars().count();
    if length > MAX_SCANNED_CHARS {
        return Err(ApiError::invalid(format!(
            "payload: at most {MAX_SCANNED_CHARS} characters, got {length}"
        )));
    }
    if body.payload.trim().is_empty() {
        return Err(ApiError::invalid(
            "payload: empty; send the text the scanner read from the QR code",
        ));
    }
    let payee = stall.payee();
    let expected = payee.as_ref().map(|p| ExpectedPayee {
        bin: p.bin.clone(),
        bank: p.bank_short_name(),
        account_masked: p.masked_account(),
    });
    let audit = poster::audit(payee.as_ref(), &body.payload);
    Ok(axum::Json(audit_out(audit, expected)))
}

fn audit_out(audit: PosterAudit, expected: Option<ExpectedPayee>) -> PosterAuditOut {
    PosterAuditOut {
        verdict: audit.verdict.as_str(),
        message: audit.message,
        expected,
        found: audit.found.map(|found| FoundPayee {
            bin: found.bin,
            bank: found.bank,
            account: found.account,
            holder: found.holder,
            amount: found.amount.map(|amount| amount.to_dong().to_string()),
        }),
        warnings: audit.warnings,
        detail: audit.detail,
    }
}
