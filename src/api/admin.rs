//! `POST /v1/admin/reload`: new tariffs without a restart.

use actix_web::{web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use super::problem::{ApiError, FieldError, Problem};
use super::AppState;
use crate::tariff::LoadError;

#[derive(Debug, Serialize, ToSchema)]
pub struct Reloaded {
    /// The tariffs now serving, each with the digest every bill it prices names.
    pub tariffs: Vec<LoadedTariff>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoadedTariff {
    pub id: String,
    pub version: String,
    pub digest: String,
}

/// Loads the tariff directory again, validates the whole set off to the side, and swaps it
/// in at once; a request already running finishes with the set it started with. Broken
/// files leave the old set serving, and the answer lists every problem.
pub fn reload(state: &AppState) -> Result<Reloaded, ApiError> {
    let reloaded = state.tariffs.reload();
    let outcome = if reloaded.is_ok() { "ok" } else { "refused" };
    state.metrics.reloads.with_label_values(&[outcome]).inc();
    match reloaded {
        Ok(set) => {
            let tariffs: Vec<LoadedTariff> = set
                .iter()
                .map(|t| LoadedTariff {
                    id: t.id().to_string(),
                    version: t.meta.version.clone(),
                    digest: t.digest.clone(),
                })
                .collect();
            for t in &tariffs {
                tracing::info!(tariff = %t.id, version = %t.version, digest = %t.digest, "tariff reloaded");
            }
            Ok(Reloaded { tariffs })
        }
        Err(error) => {
            tracing::error!(%error, "tariff reload refused; the loaded set keeps serving");
            let problems = match error {
                LoadError::Invalid(problems) => problems
                    .iter()
                    .map(|p| FieldError::note(p.to_string()))
                    .collect(),
                other => vec![FieldError::note(other.to_string())],
            };
            Err(ApiError::ReloadFailed(problems))
        }
    }
}

/// Reload the tariffs from disk (role `admin`; SIGHUP does the same).
#[utoipa::path(
    post, path = "/v1/admin/reload",
    tag = "operations",
    responses(
        (status = 200, description = "The new set is serving", body = Reloaded),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The files are invalid; the old set keeps serving", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn reload_tariffs(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let reloaded = web::block(move || reload(&state))
        .await
        .map_err(|_| ApiError::Internal)??;
    Ok(HttpResponse::Ok().json(reloaded))
}
