//! `POST /v1/simulations`: what a reform would do to revenue and to whom.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use actix_multipart::Multipart;
use actix_web::rt::task::spawn_blocking;
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use chrono::NaiveDate;
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::Value as Json;
use tokio::sync::mpsc;
use utoipa::ToSchema;

use super::body::{content_type, parse_json, read_body, Body};
use super::problem::{ApiError, FieldError, Problem};
use super::request::BillRequestBody;
use super::AppState;
use crate::batch::{self, Format};
use crate::number::Exact;
use crate::simulation::intake::Intake;
use crate::simulation::{
    self, Goal, Member, Metric, Override, Population, Reform, Report, Scenario, Spec, Sweep,
};
use crate::tariff::{Tariff, TariffSet};

/// A simulation: a reform of one tariff, and what to compute over the population.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "tariff": "cn-sx-xinzhou",
    "reform": { "name": "eliminated steel at 0.80", "parameters": { "electricity.differential.steel.eliminated": "0.80" } },
    "population": [{ "period": { "month": "2020-10" }, "enterprise": { "id": "XZ-1", "industry": "steel", "catalogue_class": "eliminated" }, "electricity": { "kwh": "1000000" } }],
    "top": 10
}))]
pub struct SimulationBody {
    /// The tariff the reform changes; records without `tariff` are priced by it (default:
    /// the configured default). Records naming another loaded tariff keep it on both sides.
    pub tariff: Option<String>,
    pub reform: ReformBody,
    /// The population inline. To stream a large one, send `multipart/form-data` with this
    /// document as the part `simulation` and NDJSON or CSV records as the part `population`.
    pub population: Option<Vec<BillRequestBody>>,
    pub sweep: Option<SweepBody>,
    pub goal: Option<GoalBody>,
    /// How many of the enterprises whose totals change most to list (default 20, at most 1000).
    pub top: Option<usize>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReformBody {
    pub name: String,
    /// Parameter path → new value, as a tariff file writes it (`"0.80"`, `"none"`, a date,
    /// brackets `[{"rate"}, {"above", "rate"}]`, a stepped table), or `{"value", "from"}`
    /// to change it from a date on. One number of a schedule: `<path>.brackets[i].above`,
    /// `<path>.brackets[i].rate`, `<path>.stepped.rate_per_step`. Without `from` the value
    /// replaces every dated value of the parameter.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub parameters: serde_json::Map<String, Json>,
    /// A whole draft tariff file (TOML), used in place of the tariff before `parameters`.
    pub tariff_file: Option<String>,
}

/// One parameter over `from, from + step, … ≤ to`: the revenue curve.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SweepBody {
    /// A parameter path (or one number of a schedule) holding a number.
    pub parameter: String,
    pub from: Exact,
    pub to: Exact,
    pub step: Exact,
    /// The day the varied value takes effect (default: it replaces every dated value).
    pub effective: Option<NaiveDate>,
}

/// The value of one parameter on the grid `lo, lo + step, … ≤ hi` whose change of `metric`
/// over the population comes closest to `target`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GoalBody {
    pub parameter: String,
    /// Yuan to raise (negative: to give back), against the baseline.
    pub target: Exact,
    /// `surcharge` (default) or `total`.
    pub metric: Option<Metric>,
    pub lo: Exact,
    pub hi: Exact,
    /// Grid step (default 0.0001: a hundredth of a fen per kWh).
    pub step: Option<Exact>,
    pub effective: Option<NaiveDate>,
}

/// Default goal-seek resolution; not a policy number, a search setting.
const DEFAULT_GOAL_STEP: rust_decimal::Decimal =
    rust_decimal::Decimal::from_parts(1, 0, 0, false, 4);
const DEFAULT_TOP: usize = 20;
const MAX_TOP: usize = 1_000;

/// Simulate a reform over a population.
///
/// Prices every enterprise under the tariff and under the reformed tariff (the same engine
/// as `POST /v1/bills`), and answers the baseline, reform and delta totals overall, by
/// industry, by catalogue class and by measure; how many enterprises pay more, less or the
/// same; how many change tier or measure; a histogram of per-enterprise changes; and the
/// enterprises whose bills change most. With `sweep`, the revenue curve over one
/// parameter; with `goal`, the value that raises a given sum. Send JSON with the
/// population inline, or `multipart/form-data` with parts `simulation` (this JSON without
/// `population`) then `population` (NDJSON or CSV as for the batch; a record that cannot
/// be read is left out and reported).
#[utoipa::path(
    post, path = "/v1/simulations",
    tag = "simulations",
    request_body(content = SimulationBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The comparison", body = Report),
        (status = 400, description = "Malformed JSON or multipart", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over the configured limit", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many batches and simulations running; see `Retry-After`", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Neither JSON nor multipart", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown parameter path (with the closest valid ones), a value of the wrong shape, a reform that breaks the tariff's rules, an unreachable goal, an invalid record", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_simulation(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let content_type = content_type(&request).to_ascii_lowercase();
    let permit = state.heavy_permit("simulations")?;
    let tariffs = state.tariffs.current();
    let (target, spec, population) = if content_type.starts_with("multipart/form-data") {
        let body = Body::new(
            &request,
            payload.into_inner(),
            state.limits.body_idle_timeout,
        )?;
        let multipart = Multipart::new(request.headers(), body.into_payload());
        streamed(multipart, &state, &tariffs).await?
    } else if content_type.starts_with("application/json") {
        let limit = state.simulation_limits.body_limit_bytes;
        let body = read_body(&request, payload, limit, &state).await?;
        let body: SimulationBody = parse_json(&body)?;
        let Simulation {
            target,
            spec,
            inline,
        } = body.into_spec(&tariffs)?;
        let inline = inline.ok_or_else(|| {
            ApiError::field("/population", "missing: give the population inline, or stream it as the multipart part `population`")
        })?;
        let population =
            inline_population(inline, &tariffs, state.simulation_limits.max_population)?;
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
        let report = Scenario {
            tariffs: &tariffs,
            baseline: &target,
            population: &population,
            cancel: Some(&cancelled),
        }
        .run(&spec);
        if cancelled.load(Ordering::Relaxed) {
            metrics.simulations_cancelled.inc();
            tracing::info!("simulation stopped: its client went away");
        }
        report
    })
    .await
    .map_err(|_| ApiError::Internal)?
    .map_err(invalid)?;
    drop(cancel);
    Ok(HttpResponse::Ok().json(report))
}

/// Raises its flag when dropped before the work is done.
#[derive(Default)]
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// A multipart simulation: the `simulation` part first, then the `population` part read
/// as it arrives.
async fn streamed(
    mut multipart: Multipart,
    state: &AppState,
    tariffs: &Arc<TariffSet>,
) -> Result<(Arc<Tariff>, Spec, Population), ApiError> {
    let bad = multipart_error;
    let mut field = multipart
        .next()
        .await
        .ok_or(ApiError::EmptyBody)?
        .map_err(bad)?;
    if field.name() != Some("simulation") {
        return Err(ApiError::field(
            "/",
            "the first part must be `simulation` (the JSON document)",
        ));
    }
    let mut json = Vec::new();
    while let Some(chunk) = field.next().await {
        json.extend_from_slice(&chunk.map_err(bad)?);
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
        inline,
    } = body.into_spec(tariffs)?;
    if inline.is_some() {
        return Err(ApiError::field(
            "/population",
            "give the population either inline or as the `population` part, not both",
        ));
    }
    let mut field = multipart
        .next()
        .await
        .ok_or_else(|| ApiError::field("/", "missing the `population` part"))?
        .map_err(bad)?;
    let format = population_format(&field)?;
    let limits = batch::Limits {
        max_line_bytes: state.batch_limits.max_line_bytes,
        max_lines: state.simulation_limits.max_population,
    };
    let (tx, mut rx) = mpsc::channel::<Bytes>(8);
    let tariffs = tariffs.clone();
    let reading = spawn_blocking(move || {
        let mut intake = Intake::new(format, limits, tariffs);
        while let Some(bytes) = rx.blocking_recv() {
            intake.feed(&bytes)?;
        }
        intake.finish()
    });
    while let Some(chunk) = field.next().await {
        if tx.send(chunk.map_err(bad)?).await.is_err() {
            break; // the reader stopped on an error it will report
        }
    }
    drop(tx);
    let population = reading.await.map_err(|_| ApiError::Internal)??;
    Ok((target, spec, population))
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

fn population_format(field: &actix_multipart::Field) -> Result<Format, ApiError> {
    if field.name() != Some("population") {
        return Err(ApiError::field("/", "the second part must be `population`"));
    }
    let by_type = field
        .content_type()
        .and_then(|m| Format::from_content_type(m.essence_str()));
    let by_name = field
        .content_disposition()
        .and_then(|d| d.get_filename())
        .and_then(|name| name.rsplit_once('.'))
        .and_then(|(_, ext)| match ext {
            "csv" => Some(Format::Csv),
            "ndjson" | "jsonl" => Some(Format::Ndjson),
            _ => None,
        });
    by_type.or(by_name).ok_or_else(|| {
        ApiError::UnsupportedMediaType(
            "give the population part the type application/x-ndjson or text/csv (or a .ndjson/.csv file name)".into(),
        )
    })
}

fn inline_population(
    inline: Vec<BillRequestBody>,
    tariffs: &TariffSet,
    max: u64,
) -> Result<Population, ApiError> {
    if inline.len() as u64 > max {
        return Err(ApiError::field(
            "/population",
            format!("{} records, over the limit of {max}", inline.len()),
        ));
    }
    let mut errors = Vec::new();
    let mut members = Vec::with_capacity(inline.len());
    for (i, body) in inline.into_iter().enumerate() {
        let at = format!("/population/{i}");
        match body.into_domain(&at) {
            Ok(request) => match super::tariff_for(tariffs, &request) {
                Ok(_) => members.push(Member {
                    record: i as u64,
                    request,
                }),
                Err(_) => errors.push(FieldError::at(
                    format!("{at}/tariff"),
                    super::unknown_tariff(tariffs),
                )),
            },
            Err(mut e) => errors.append(&mut e),
        }
    }
    if errors.is_empty() {
        Ok(Population {
            members,
            ..Population::default()
        })
    } else {
        Err(ApiError::Invalid(errors))
    }
}

/// A simulation request read into the domain's terms.
pub struct Simulation {
    /// The tariff the reform changes.
    pub target: Arc<Tariff>,
    pub spec: Spec,
    /// The population, if it came inline.
    pub inline: Option<Vec<BillRequestBody>>,
}

impl SimulationBody {
    pub fn into_spec(self, tariffs: &TariffSet) -> Result<Simulation, ApiError> {
        let target = tariffs
            .resolve(self.tariff.as_deref())
            .ok_or_else(|| ApiError::field("/tariff", super::unknown_tariff(tariffs)))?
            .clone();
        let top = self.top.unwrap_or(DEFAULT_TOP);
        if top > MAX_TOP {
            return Err(ApiError::field("/top", format!("at most {MAX_TOP}")));
        }
        let overrides = self
            .reform
            .parameters
            .into_iter()
            .map(|(key, value)| override_of(key, value))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|p| invalid(vec![p]))?;
        let spec = Spec {
            reform: Reform {
                name: self.reform.name,
                draft: self.reform.tariff_file,
                overrides,
            },
            sweep: self.sweep.map(|s| Sweep {
                key: s.parameter,
                from: s.from.0,
                to: s.to.0,
                step: s.step.0,
                effective: s.effective,
            }),
            goal: self.goal.map(|g| Goal {
                key: g.parameter,
                target: g.target.0,
                metric: g.metric.unwrap_or(Metric::Surcharge),
                lo: g.lo.0,
                hi: g.hi.0,
                step: g.step.map_or(DEFAULT_GOAL_STEP, |s| s.0),
                effective: g.effective,
            }),
            top,
        };
        Ok(Simulation {
            target,
            spec,
            inline: self.population,
        })
    }
}

/// `value`, or `{"value", "from"}` for a change from a date on.
fn override_of(key: String, value: Json) -> Result<Override, simulation::Problem> {
    let pointer = simulation::reform::pointer(&key);
    let Json::Object(map) = &value else {
        return Ok(Override {
            key,
            value,
            from: None,
        });
    };
    if !map.contains_key("value") {
        return Ok(Override {
            key,
            value,
            from: None,
        });
    }
    if let Some(other) = map.keys().find(|k| *k != "value" && *k != "from") {
        return Err(simulation::Problem::at(
            format!("{pointer}/{other}"),
            "a dated override has only `value` and `from`",
        ));
    }
    let from = match map.get("from") {
        None => None,
        Some(Json::String(s)) => Some(NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
            simulation::Problem::at(
                format!("{pointer}/from"),
                format!("`{s}` is not a date (YYYY-MM-DD)"),
            )
        })?),
        Some(other) => {
            return Err(simulation::Problem::at(
                format!("{pointer}/from"),
                format!("expected a date (YYYY-MM-DD), found {other}"),
            ))
        }
    };
    Ok(Override {
        key,
        value: map["value"].clone(),
        from,
    })
}

pub fn invalid(problems: Vec<simulation::Problem>) -> ApiError {
    ApiError::Invalid(
        problems
            .into_iter()
            .map(|p| FieldError::at(p.pointer, p.message))
            .collect(),
    )
}

/// A simulation written as TOML (the command line's `--reform` file): the same document as
/// the JSON body, or a whole draft tariff file (it has a `[tariff]` table), which becomes
/// the reform of the loaded tariff with its id. `tariff` overrides the file's.
pub fn body_from_toml(
    text: &str,
    tariff: Option<String>,
    tariffs: &TariffSet,
) -> Result<SimulationBody, String> {
    let value: toml::Value = toml::from_str(text).map_err(|e| e.message().to_string())?;
    if let Some(toml::Value::Table(meta)) = value.get("tariff") {
        let id = meta
            .get("id")
            .and_then(toml::Value::as_str)
            .unwrap_or("draft");
        let loaded = tariffs.get(id).map(|_| id.to_string());
        return Ok(SimulationBody {
            tariff: tariff.or(loaded),
            reform: ReformBody {
                name: id.to_string(),
                parameters: serde_json::Map::new(),
                tariff_file: Some(text.to_string()),
            },
            population: None,
            sweep: None,
            goal: None,
            top: None,
        });
    }
    let json = serde_json::to_vec(&toml_to_json(value)?).map_err(|e| e.to_string())?;
    let mut body: SimulationBody = parse_json(&json).map_err(|e| e.to_string())?;
    body.tariff = tariff.or(body.tariff);
    Ok(body)
}

/// TOML as the JSON body would hold it; floats are refused as in tariff files.
fn toml_to_json(value: toml::Value) -> Result<Json, String> {
    Ok(match value {
        toml::Value::String(s) => Json::String(s),
        toml::Value::Integer(i) => Json::from(i),
        toml::Value::Float(f) => {
            return Err(format!(
                "write {f} as a string (\"{f}\") so it is read exactly"
            ))
        }
        toml::Value::Boolean(b) => Json::Bool(b),
        toml::Value::Datetime(d) => Json::String(d.to_string()),
        toml::Value::Array(items) => Json::Array(
            items
                .into_iter()
                .map(toml_to_json)
                .collect::<Result<_, _>>()?,
        ),
        toml::Value::Table(table) => Json::Object(
            table
                .into_iter()
                .map(|(k, v)| toml_to_json(v).map(|v| (k, v)))
                .collect::<Result<_, _>>()?,
        ),
    })
}
