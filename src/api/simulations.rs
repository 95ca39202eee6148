//! `POST /v1/simulations`: what a reform would do to revenue and to whom.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use actix_multipart::Multipart;
use actix_web::rt::task::spawn_blocking;
use actix_web::web;
use actix_web::{HttpRequest, HttpResponse};
use futures_util::StreamExt;

use super::body::{content_type, read_body, Blocking, Body};
use super::problem::{ApiError, Problem};
use super::AppState;
use crate::batch::{Upload, UPLOAD_TYPES};
use crate::simulation::intake;
use crate::simulation::kept::KeptPopulation;
use crate::simulation::single_pass::Comparison;
use crate::simulation::{Baseline, Population, Report, Scenario, Spec};
use crate::tariff::{Tariff, TariffSet};
use crate::wire::json::parse_json;
use crate::wire::simulation::{
    inline_population, invalid, ledger_population, LedgerPopulationBody, Simulation,
    SimulationBody, Source,
};

/// A simulation whose population is streamed as a second part (how a large one is sent).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // documents the multipart form; the parts are read as they stream
pub struct SimulationUpload {
    /// The simulation as JSON (a `SimulationBody` without `population`); it must come first.
    /// Shown as an object: schemathesis writes a nested JSON part lossily and then reports
    /// the server's answer to what it did not send.
    #[schema(value_type = Object)]
    simulation: SimulationBody,
    /// The population's records, as a batch's: NDJSON, CSV, Parquet or Arrow IPC (by the
    /// part's content type, or its file name's extension).
    #[schema(value_type = String, format = Binary)]
    population: String,
}

/// Simulate a reform over a population.
///
/// Prices every enterprise under the tariff and under the reformed tariff (the same engine
/// as `POST /v1/bills`), and answers the baseline, reform and delta totals overall, by
/// industry, by catalogue class and by measure; how many enterprises pay more, less or the
/// same; how many change tier or measure; a histogram of per-enterprise changes; and the
/// enterprises whose bills change most. With `sweep`, the revenue curve over one
/// parameter; with `goal`, the value that raises a given sum. Send JSON with the
/// population inline, or `multipart/form-data` with parts `simulation` (this JSON without
/// `population`) then `population` (NDJSON or CSV as for the batch). Either way a record
/// that cannot be read is left out and reported under `population.examples` (`record`: its
/// line, counted from 1 inline as in NDJSON), and the rest is priced.
#[utoipa::path(
    post, path = "/v1/simulations",
    tag = "simulations",
    request_body(description = "The simulation as JSON with its population inline, or as multipart: the part `simulation` (the same JSON without `population`) then the part `population`, streamed, NDJSON, CSV, Parquet or Arrow IPC as for a batch", content(
        (SimulationBody = "application/json"),
        (SimulationUpload = "multipart/form-data"),
    )),
    responses(
        (status = 200, description = "The comparison", body = Report),
        (status = 400, description = "Malformed JSON or multipart", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A population from the `ledger` asked for by a key without `reader`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The `population_id` is not kept for this key (never, deleted, let go to make room, or another key's)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over the configured limit", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Every heavy place is taken, or the key holds its share; see `Retry-After`", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Neither JSON nor multipart", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown parameter path (with the closest valid ones), a value of the wrong shape, a reform that breaks the tariff's rules, an unreachable goal", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_simulation(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let content_type = content_type(&request).to_ascii_lowercase();
    let permit = state.heavy_permit(&request, "simulations")?;
    let tariffs = state.tariffs.current();
    let (target, spec, population) = if content_type.starts_with("multipart/form-data") {
        let body = Body::new(&request, payload.into_inner(), &state.limits)?;
        let multipart = Multipart::new(request.headers(), body.into_payload());
        match streamed(multipart, &state, &tariffs).await? {
            Streamed::Held(target, spec, held) => (target, spec, held),
            Streamed::Compared(report, members) => {
                count(&state.metrics, Some(members), false);
                return Ok(HttpResponse::Ok().json(report));
            }
        }
    } else if content_type.starts_with("application/json") {
        let limit = state.simulation_limits.body_limit_bytes;
        let body = read_body(&request, payload, limit, &state).await?;
        let body: SimulationBody = parse_json(&body)?;
        let Simulation {
            target,
            spec,
            source,
        } = body.into_spec(&tariffs)?;
        let max = state.simulation_limits.max_population;
        let population = match source {
            Some(Source::Inline(inline)) => {
                let registry = state.registry_now().await;
                Held::Owned(inline_population(inline, &tariffs, max, registry.as_deref())?)
            }
            Some(Source::Ledger(wanted)) => Held::Owned(from_ledger(&request, &state, &tariffs, &wanted).await?),
            Some(Source::Kept(id)) => Held::Kept(super::populations::kept(&request, &state, &id)?),
            None => return Err(ApiError::field(
                "/population",
                "missing: give the population inline, from the `ledger`, as a kept `population_id`, or stream it as the multipart part `population`",
            )),
        };
        (target, spec, population)
    } else {
        return Err(ApiError::UnsupportedMediaType(format!(
            "`{content_type}` is not a simulation format; send application/json or multipart/form-data"
        )));
    };
    // The work and its permit end together: if the client leaves (or the handler is
    // dropped), the work stops at its next chunk.
    let cancel = CancelOnDrop::default();
    super::connection::watch(&request, &cancel.0);
    let cancelled = cancel.0.clone();
    let metrics = state.metrics.clone();
    let report = web::block(move || {
        let _permit = permit;
        let scenario = Scenario {
            tariffs: &tariffs,
            baseline: &target,
            population: population.population(),
            cancel: Some(&cancelled),
            incremental: true,
        };
        let report = population.run(&scenario, &spec);
        let members = population.population().members.len() as u64;
        let completed = report.as_ref().ok().map(|_| members);
        count(&metrics, completed, cancelled.load(Ordering::Relaxed));
        report
    })
    .await
    .map_err(|_| ApiError::Internal)?
    .map_err(invalid)?;
    drop(cancel);
    Ok(HttpResponse::Ok().json(report))
}

/// Counts a simulation in the metrics: cancelled, completed over so many members, or
/// invalid (`None`: its reform could not be applied).
fn count(metrics: &super::metrics::Metrics, completed: Option<u64>, cancelled: bool) {
    let outcome = match completed {
        _ if cancelled => {
            metrics.simulations_cancelled.inc();
            tracing::info!("simulation stopped: its client went away");
            "cancelled"
        }
        Some(members) => {
            metrics.simulated_enterprises.inc_by(members);
            "completed"
        }
        None => "invalid",
    };
    metrics.simulations.with_label_values(&[outcome]).inc();
}

/// A streamed simulation: compared as its population was read, or its population held
/// for a sweep or a goal (which pass over it again). One per request, moved once: its size
/// does not matter.
#[allow(clippy::large_enum_variant)]
enum Streamed {
    Compared(Report, u64),
    Held(Arc<Tariff>, Spec, Held),
}

/// A simulation's population: its own, or one kept on the server.
enum Held {
    Owned(Population),
    /// Streamed, its baseline priced as it was read.
    Streamed(Population, Baseline),
    Kept(Arc<KeptPopulation>),
}

impl Held {
    fn population(&self) -> &Population {
        match self {
            Held::Owned(population) | Held::Streamed(population, _) => population,
            Held::Kept(kept) => &kept.population,
        }
    }

    /// Runs `spec`; a kept population's baseline is priced only when its tariffs changed
    /// (and is then kept for the next run).
    fn run(
        &self,
        scenario: &Scenario,
        spec: &Spec,
    ) -> Result<Report, Vec<crate::simulation::Problem>> {
        match self {
            Held::Owned(_) => scenario.run(spec),
            Held::Streamed(_, baseline) => {
                scenario.run_on(spec, scenario.reformed(&spec.reform)?, baseline)
            }
            Held::Kept(kept) => {
                let reformed = scenario.reformed(&spec.reform)?;
                scenario.run_on(spec, reformed, &kept.baseline_for(scenario))
            }
        }
    }
}

/// Raises its flag when dropped before the work is done.
#[derive(Default)]
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// The population of a month's ledger bills on the registry as of a day. It shows every
/// enterprise's bills and classes: only a key that may read the ledger and the registry
/// (`reader`, or `admin`) may ask for it.
pub async fn from_ledger(
    request: &HttpRequest,
    state: &AppState,
    tariffs: &TariffSet,
    wanted: &LedgerPopulationBody,
) -> Result<Population, ApiError> {
    super::caller::also_needs(
        request,
        state,
        crate::access::Role::Reader,
        "a population from the ledger shows each enterprise's bills and classes, which the role `reader` reads",
    )?;
    let month = crate::period::Period::parse_month(&wanted.month)
        .ok_or_else(|| ApiError::field("/ledger/month", "a month, YYYY-MM"))?;
    let requests =
        crate::ledger::store::latest_requests(&state.database, month.start(), month.end()).await?;
    let registry = state.registry.current(&state.database).await?;
    let registry = match wanted.as_of {
        Some(day) => Arc::new(registry.as_of(day)),
        None => registry,
    };
    let max = state.simulation_limits.max_population;
    ledger_population(requests, &registry, wanted, tariffs, max)
}

/// A multipart simulation: the `simulation` part first, then the `population` part read
/// as it arrives: compared as it is read, unless a sweep or goal needs it kept.
async fn streamed(
    mut multipart: Multipart,
    state: &AppState,
    tariffs: &Arc<TariffSet>,
) -> Result<Streamed, ApiError> {
    let mut field = multipart
        .next()
        .await
        .ok_or(ApiError::EmptyBody)?
        .map_err(multipart_error)?;
    if field.name() != Some("simulation") {
        return Err(ApiError::field(
            "/",
            "the first part must be `simulation` (the JSON document)",
        ));
    }
    let mut json = Vec::new();
    while let Some(chunk) = field.next().await {
        json.extend_from_slice(&chunk.map_err(multipart_error)?);
        if json.len() > state.limits.body_limit_bytes {
            return Err(ApiError::PayloadTooLarge {
                limit: state.limits.body_limit_bytes,
            });
        }
    }
    drop(field); // the next part is read only once this one is let go
    let body: SimulationBody = parse_json(&json)?;
    let Simulation {
        target,
        spec,
        source,
    } = body.into_spec(tariffs)?;
    if source.is_some() {
        return Err(ApiError::field(
            "/population",
            "give the population one way: inline, from the `ledger`, as a kept `population_id`, or as the `population` part",
        ));
    }
    let field = multipart
        .next()
        .await
        .ok_or_else(|| ApiError::field("/", "missing the `population` part"))?
        .map_err(multipart_error)?;
    let upload = population_format(&field)?;
    let limits = state.population_limits();
    let input = Blocking::pump(field.map(|piece| piece.map_err(multipart_error)));
    let (tariffs, registry) = (tariffs.clone(), state.registry_now().await);
    if spec.in_one_pass() {
        let source = intake::Source {
            format: upload.records(),
            tariffs,
            registry,
        };
        let comparison = Comparison::new(source, target, &spec).map_err(|problems| {
            count(&state.metrics, None, false);
            invalid(problems)
        })?;
        let compare = move || comparison.run(&spec.reform, (upload, limits), input);
        let (report, members) = spawn_blocking(compare)
            .await
            .map_err(|_| ApiError::Internal)??;
        return Ok(Streamed::Compared(report, members));
    }
    let priced_under = Some(target.clone());
    let read = move || intake::read(upload, limits, tariffs, registry, priced_under, input);
    let (population, baseline) = spawn_blocking(read)
        .await
        .map_err(|_| ApiError::Internal)??;
    let held = match baseline {
        Some(baseline) => Held::Streamed(population, baseline),
        None => Held::Owned(population),
    };
    Ok(Streamed::Held(target, spec, held))
}

/// A multipart body that could not be read: 408 when the client went quiet, else 400.
fn multipart_error(error: actix_multipart::MultipartError) -> ApiError {
    use actix_multipart::MultipartError;
    match &error {
        MultipartError::Payload(actix_web::error::PayloadError::Io(e))
            if e.kind() == std::io::ErrorKind::TimedOut =>
        {
            ApiError::RequestTimeout(e.to_string())
        }
        _ => ApiError::BadRequest(error.to_string()),
    }
}

fn population_format(field: &actix_multipart::Field) -> Result<Upload, ApiError> {
    if field.name() != Some("population") {
        return Err(ApiError::field("/", "the second part must be `population`"));
    }
    let by_type = field
        .content_type()
        .and_then(|m| Upload::from_content_type(m.essence_str()));
    let by_name = field
        .content_disposition()
        .and_then(|d| d.get_filename())
        .and_then(Upload::from_file_name);
    by_type.or(by_name).ok_or_else(|| {
        ApiError::UnsupportedMediaType(
            format!("give the population part the type {UPLOAD_TYPES} (or a .ndjson, .csv, .parquet or .arrow file name)"),
        )
    })
}
