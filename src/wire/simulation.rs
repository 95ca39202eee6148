//! A simulation as clients write it (JSON, or a TOML file for the command line), read into
//! the simulation's own terms.

use std::sync::Arc;

use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::Value as Json;
use utoipa::ToSchema;

use super::json::parse_json;
use super::problem::{unknown_tariff, ApiError, FieldError};
use super::request::BillRequestBody;
use crate::number::Exact;
use crate::registry::{fill, Snapshot};
use crate::simulation::{self, Goal, Metric, Override, Population, Reform, Spec, Sweep};
use crate::tariff::grammar::Raw;
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
    /// The population from the ledger and the registry, in place of `population`.
    pub ledger: Option<LedgerPopulationBody>,
    /// A population kept on the server (`POST /v1/populations`), in place of `population`.
    #[schema(example = "pop-5f0c8e0d4b7a4b0f9f0a3c2b")]
    pub population_id: Option<String>,
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

/// Everyone billed for a month: each enterprise's latest uncorrected ledger bill for a period
/// starting in `month` gives its meter data; its class and assessment come from the
/// registry as it stood at the end of `as_of` (default: now); `industry` and `region` keep
/// only the enterprises the registry says are of them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LedgerPopulationBody {
    #[schema(example = "2020-10")]
    pub month: String,
    pub industry: Option<crate::enterprise::Industry>,
    #[schema(example = "cn-sx-xinzhou")]
    pub region: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub as_of: Option<NaiveDate>,
}

/// A population to keep, from the ledger and the registry (`POST /v1/populations` as JSON).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PopulationSource {
    pub ledger: LedgerPopulationBody,
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

/// An inline population (records naming only their enterprise filled from `registry`), read by the rule a streamed one follows: a record that cannot be
/// read is left out and reported (its position from 1, and what is wrong with it), the rest
/// priced.
pub fn inline_population(
    inline: Vec<BillRequestBody>,
    tariffs: &TariffSet,
    max: u64,
    registry: Option<&Snapshot>,
) -> Result<Population, ApiError> {
    if inline.len() as u64 > max {
        return Err(ApiError::field(
            "/population",
            format!("{} records, over the limit of {max}", inline.len()),
        ));
    }
    let mut population = Population::default();
    for (i, body) in inline.into_iter().enumerate() {
        // Numbered as NDJSON lines are, so `record` means the same whatever the format.
        let record = i as u64 + 1;
        match fill::request(body, registry) {
            Ok(request) => match tariffs.resolve(request.tariff.as_deref()) {
                Some(_) => population.add(record, &request),
                None => population.reject(
                    record,
                    ApiError::field("/tariff", unknown_tariff(tariffs)).one_line(),
                ),
            },
            Err(errors) => population.reject(record, ApiError::Invalid(errors).one_line()),
        }
    }
    Ok(population)
}

/// The population of a month's ledger bills (`requests`: each enterprise's request as
/// issued), filled from `registry` and kept where the registry puts the enterprise in
/// `industry` and `region`. Numbered from 1 in enterprise order; a request that no longer
/// reads is left out and reported.
pub fn ledger_population(
    requests: Vec<(String, String)>,
    registry: &Snapshot,
    wanted: &LedgerPopulationBody,
    tariffs: &TariffSet,
    max: u64,
) -> Result<Population, ApiError> {
    let mut population = Population::default();
    let mut record = 0;
    for (enterprise_id, text) in requests {
        let master = registry
            .history(&enterprise_id)
            .and_then(|h| h.master())
            .map(|m| m.value);
        let kept = master.is_some_and(|m| {
            wanted.industry.is_none_or(|i| i == m.industry)
                && wanted
                    .region
                    .as_ref()
                    .is_none_or(|r| m.region.as_ref() == Some(r))
        });
        if !kept && (wanted.industry.is_some() || wanted.region.is_some()) {
            continue;
        }
        record += 1;
        if record > max {
            return Err(ApiError::field(
                "/ledger",
                format!("more than {max} enterprises, the limit of a simulation"),
            ));
        }
        let request = BillRequestBody::from_json(text.as_bytes())
            .and_then(|body| fill::request(body, Some(registry)).map_err(ApiError::Invalid))
            .and_then(|request| match tariffs.resolve(request.tariff.as_deref()) {
                Some(_) => Ok(request),
                None => Err(ApiError::field("/tariff", unknown_tariff(tariffs))),
            });
        match request {
            Ok(request) => population.add(record, &request),
            Err(error) => {
                population.reject(record, format!("{enterprise_id}: {}", error.one_line()))
            }
        }
    }
    Ok(population)
}

/// A simulation request read into the domain's terms.
pub struct Simulation {
    /// The tariff the reform changes.
    pub target: Arc<Tariff>,
    pub spec: Spec,
    /// Where the population comes from, if the document says.
    pub source: Option<Source>,
}

/// A population as a simulation document names it.
pub enum Source {
    Inline(Vec<BillRequestBody>),
    Ledger(LedgerPopulationBody),
    /// A `population_id`.
    Kept(String),
}

impl Source {
    /// The one way the document gives its population, if any.
    fn of(body: &mut SimulationBody) -> Result<Option<Source>, ApiError> {
        let given = [
            body.population.take().map(Source::Inline),
            body.ledger.take().map(Source::Ledger),
            body.population_id.take().map(Source::Kept),
        ];
        let mut given: Vec<Source> = given.into_iter().flatten().collect();
        match given.len() {
            0 | 1 => Ok(given.pop()),
            _ => Err(ApiError::field(
                "/population",
                "give the population one way: inline, from the `ledger`, or as a kept `population_id`",
            )),
        }
    }
}

impl SimulationBody {
    pub fn into_spec(mut self, tariffs: &TariffSet) -> Result<Simulation, ApiError> {
        let source = Source::of(&mut self)?;
        let target = tariffs
            .resolve(self.tariff.as_deref())
            .ok_or_else(|| ApiError::field("/tariff", unknown_tariff(tariffs)))?
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
            source,
        })
    }
}

/// `value`, or `{"value", "from"}` for a change from a date on; `null` is `"none"`.
fn override_of(key: String, value: Json) -> Result<Override, simulation::Problem> {
    let pointer = simulation::reform::pointer(&key);
    let raw = |value: &Json| Raw::from_json(value).unwrap_or_else(|| Raw::Text("none".into()));
    let map = match &value {
        Json::Object(map) if map.contains_key("value") => map,
        _ => {
            return Ok(Override {
                key,
                value: raw(&value),
                from: None,
            })
        }
    };
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
        value: raw(&map["value"]),
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
            ledger: None,
            population_id: None,
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
