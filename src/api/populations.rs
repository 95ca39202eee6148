//! `/v1/populations`: populations kept on the server, so that a meeting's many what-ifs
//! read the enterprises once (`POST /v1/simulations` with `population_id`).

use std::sync::Arc;

use actix_web::http::header;
use actix_web::rt::task::spawn_blocking;
use actix_web::web;
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use xxhash_rust::xxh3::Xxh3;

use super::batch::ColumnarFile;
use super::body::{content_type, read_body, Blocking, Body};
use super::caller::Looker;
use super::problem::{ApiError, Problem};
use super::routes::Caller;
use super::AppState;
use crate::batch::{Upload, UPLOAD_TYPES};
use crate::simulation::kept::{KeptPopulation, Lookup};
use crate::simulation::{intake, Baseline, Excluded, Population, Scenario};
use crate::tariff::{Tariff, TariffSet};
use crate::wire::json::parse_object;
use crate::wire::simulation::PopulationSource;

/// A kept population: what it holds and where it came from.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeptPopulationView {
    #[schema(example = "pop-5f0c8e0d4b7a4b0f9f0a3c2b")]
    pub population_id: String,
    /// Enterprises kept (records read and checked).
    pub records: usize,
    /// Records left out (they could not be read, or name an unknown tariff).
    pub excluded: u64,
    /// The first few records left out, with why.
    pub excluded_examples: Vec<Excluded>,
    /// Over what was read (and the registry state records were filled from): the same
    /// digest is the same population.
    #[schema(example = "xxh3:5f0c8e0d4b7a4b0f9f0a3c2b1d0e9f8a")]
    pub digest: String,
    /// Memory it holds, counted against `simulation.kept_populations_bytes`.
    pub bytes: usize,
    pub created_at: DateTime<Utc>,
    /// The key name that sent it.
    pub created_by: String,
}

impl KeptPopulationView {
    fn of(kept: &KeptPopulation) -> KeptPopulationView {
        KeptPopulationView {
            population_id: kept.id.clone(),
            records: kept.population.members.len(),
            excluded: kept.population.rejected,
            excluded_examples: kept.population.rejected_examples.clone(),
            digest: kept.digest.clone(),
            bytes: kept.bytes,
            created_at: kept.created_at,
            created_by: kept.created_by.clone(),
        }
    }
}

/// Every kept population, most recently used first.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeptPopulations {
    pub populations: Vec<KeptPopulationView>,
    /// Bytes they hold together, and the budget: past it the least recently used go.
    pub bytes: usize,
    pub budget_bytes: usize,
}

/// Keep a population for simulations.
///
/// The body is a population as a streamed simulation takes it: NDJSON or CSV records (the
/// batch's layouts, optionally compressed) or a Parquet or Arrow IPC file of the CSV
/// layout's columns, read and checked once; a record that cannot be
/// read is left out and reported. Or JSON `{"ledger": {"month", "industry"?, "region"?,
/// "as_of"?}}`: everyone billed that month, classified by the registry as of a day. Answers
/// `201` with its `Location` and `population_id`; the same population sent again answers
/// `200` with the one kept. Kept populations share a memory budget: when a new one does not
/// fit, the least recently used are let go (asking for one then answers `404`, saying so).
#[utoipa::path(
    post, path = "/v1/populations",
    tag = "simulations",
    request_body(description = "NDJSON or CSV records, a Parquet or Arrow IPC file of the CSV layout's columns, or JSON naming the ledger's month", content(
        (String = "application/x-ndjson"),
        (String = "text/csv"),
        (ColumnarFile = "application/vnd.apache.parquet"),
        (ColumnarFile = "application/vnd.apache.arrow.file"),
        (ColumnarFile = "application/vnd.apache.arrow.stream"),
        (PopulationSource = "application/json"),
    )),
    params(
        ("Content-Encoding" = Option<String>, Header, description = "`gzip` or `deflate` for a compressed body"),
    ),
    responses(
        (status = 201, description = "Kept", body = KeptPopulationView,
            headers(("Location" = String, description = "`/v1/populations/{population_id}`"))),
        (status = 200, description = "The same population was kept already", body = KeptPopulationView),
        (status = 400, description = "An empty body, or malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "A Parquet or Arrow file over `batch.max_file_bytes`", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not NDJSON, CSV, Parquet, Arrow IPC or JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad CSV header, more records than `simulation.max_population`, a population larger than the key's or the server's memory budget, a Parquet or Arrow file that cannot be read within its limits", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Every heavy place is taken, or the key holds its share; see `Retry-After`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is unavailable (a population from the ledger)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn keep_population(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    super::query::Query::parse(&request, &[])?.finish()?;
    let permit = state.heavy_permit(&request, "simulations")?;
    let tariffs = state.tariffs.current();
    let target = tariffs.resolve(None).cloned().ok_or(ApiError::Internal)?;
    let essence = content_type(&request).to_ascii_lowercase();
    let (population, baseline, digest) = if essence.starts_with("application/json") {
        let (population, digest) = from_ledger(&request, payload, &state, &tariffs).await?;
        (population, None, digest)
    } else {
        let target = target.clone();
        streamed(&request, payload, &state, &essence, &tariffs, target).await?
    };
    // Its baseline under the default tariff (priced as it was read, when streamed): the
    // first what-if is fast too.
    let creator = Caller::name(&request);
    let kept = spawn_blocking(move || {
        let _permit = permit;
        let baseline = baseline.unwrap_or_else(|| {
            Baseline::price(&Scenario {
                tariffs: &tariffs,
                baseline: &target,
                population: &population,
                cancel: None,
                incremental: true,
            })
        });
        KeptPopulation::new(population, baseline, digest, creator)
    })
    .await
    .map_err(|_| ApiError::Internal)?;
    let keeping = state
        .populations
        .keep(kept)
        .map_err(|over| ApiError::field("/", over.to_string()))?;
    state
        .metrics
        .populations_evicted
        .inc_by(keeping.evicted as u64);
    gauge_kept_bytes(&state);
    let view = KeptPopulationView::of(&keeping.population);
    Ok(match keeping.new {
        true => HttpResponse::Created()
            .insert_header((
                header::LOCATION,
                format!("/v1/populations/{}", view.population_id),
            ))
            .json(view),
        false => HttpResponse::Ok().json(view),
    })
}

/// Everyone billed in a month (`{"ledger": {…}}`), and its digest: of the request, the
/// registry's and the ledger's size (both only grow).
async fn from_ledger(
    request: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
    tariffs: &TariffSet,
) -> Result<(Population, u128), ApiError> {
    let body = read_body(request, payload, state.limits.body_limit_bytes, state).await?;
    let source: PopulationSource = parse_object(&body)?;
    let population =
        super::simulations::from_ledger(request, state, tariffs, &source.ledger).await?;
    let registry = state.registry.current(&state.database).await?;
    let bills = crate::ledger::store::count(&state.database).await?;
    let mut digest = Xxh3::new();
    digest.update(&body);
    digest.update(&registry.changes.to_le_bytes());
    digest.update(&bills.to_le_bytes());
    Ok((population, digest.digest128()))
}

/// NDJSON or CSV records read as they arrive, their baseline under `target` priced as they
/// are read; the digest is of the bytes (and the registry's size, records by reference
/// being filled from it).
async fn streamed(
    request: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
    essence: &str,
    tariffs: &Arc<TariffSet>,
    target: Arc<Tariff>,
) -> Result<(Population, Option<Baseline>, u128), ApiError> {
    let upload = Upload::from_content_type(essence).ok_or_else(|| {
        ApiError::UnsupportedMediaType(format!(
            "`{essence}` is not a population format; send {UPLOAD_TYPES}, or application/json"
        ))
    })?;
    let body = Body::new(request, payload.into_inner(), &state.limits)?;
    let input = Blocking::pump(body);
    let registry = state.registry_now().await;
    let limits = state.population_limits();
    let tariffs = tariffs.clone();
    spawn_blocking(move || {
        let mut digest = Xxh3::new();
        if let Some(registry) = &registry {
            digest.update(&registry.changes.to_le_bytes());
        }
        let input = input.inspect(|piece| {
            if let Ok(bytes) = piece {
                digest.update(bytes);
            }
        });
        let (population, baseline) =
            intake::read(upload, limits, tariffs, registry, Some(target), input)?;
        Ok((population, baseline, digest.digest128()))
    })
    .await
    .map_err(|_| ApiError::Internal)?
}

/// The kept populations.
#[utoipa::path(
    get, path = "/v1/populations",
    tag = "simulations",
    responses((status = 200, description = "The caller's kept populations (an admin's: every key's), most recently used first", body = KeptPopulations)),
)]
pub async fn list_populations(request: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let looker = Looker::of(&request, &state);
    let (populations, bytes) = state.populations.list(looker.viewer());
    HttpResponse::Ok().json(KeptPopulations {
        populations: populations
            .iter()
            .map(|p| KeptPopulationView::of(p))
            .collect(),
        bytes,
        budget_bytes: match looker.viewer().admin {
            true => state.populations.budget(),
            false => state.populations.per_key(),
        },
    })
}

/// One kept population.
#[utoipa::path(
    get, path = "/v1/populations/{population_id}",
    tag = "simulations",
    params(("population_id" = String, Path, description = "As `POST /v1/populations` answered it", example = "pop-5f0c8e0d4b7a4b0f9f0a3c2b")),
    responses(
        (status = 200, description = "The population", body = KeptPopulationView),
        (status = 404, description = "Not kept for this key: never, deleted, let go to make room, or another key's", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_population(
    request: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let kept = kept(&request, &state, &path)?;
    Ok(HttpResponse::Ok().json(KeptPopulationView::of(&kept)))
}

/// Let a kept population go.
#[utoipa::path(
    delete, path = "/v1/populations/{population_id}",
    tag = "simulations",
    params(("population_id" = String, Path, description = "As `POST /v1/populations` answered it", example = "pop-5f0c8e0d4b7a4b0f9f0a3c2b")),
    responses(
        (status = 204, description = "Let go"),
        (status = 404, description = "Not kept for this key", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete_population(
    request: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let looker = Looker::of(&request, &state);
    match state.populations.remove(&path, looker.viewer()) {
        Lookup::Kept(_) => {
            gauge_kept_bytes(&state);
            Ok(HttpResponse::NoContent().finish())
        }
        gone => Err(not_kept(&state, &path, gone)),
    }
}

fn gauge_kept_bytes(state: &AppState) {
    let bytes = state.populations.used();
    state.metrics.populations_kept_bytes.set(bytes as i64);
}

/// The kept population `id`, if the caller may see it, or a 404 saying whether it was let
/// go to make room.
pub fn kept(
    request: &HttpRequest,
    state: &AppState,
    id: &str,
) -> Result<Arc<KeptPopulation>, ApiError> {
    let looker = Looker::of(request, state);
    match state.populations.get(id, looker.viewer()) {
        Lookup::Kept(kept) => Ok(kept),
        gone => Err(not_kept(state, id, gone)),
    }
}

fn not_kept(state: &AppState, id: &str, lookup: Lookup) -> ApiError {
    match lookup {
        Lookup::Evicted => ApiError::NotFound(format!(
            "population `{id}` was let go to make room for your newer ones (one key's kept populations share {} bytes); send it again",
            state.populations.per_key()
        )),
        _ => ApiError::NotFound(format!(
            "no population `{id}` is kept (send one to POST /v1/populations)"
        )),
    }
}
