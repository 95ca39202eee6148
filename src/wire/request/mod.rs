//! The bill request as clients send it, and its validation into the engine's types.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

mod reader;

use super::problem::{ApiError, FieldError};
use crate::assessment::{
    Assessment, CementAssessment, CementPlant, EnergyIntensity, ProcessIntensity, SteelGrade,
    SteelProcess,
};
use crate::bill::{BillRequest, Defaulted, Electricity};
use crate::enterprise::{Card, CatalogueClass, Enterprise, Industry};
use crate::measure::water::Water;
use crate::number::Exact;
use crate::period::Period;
use crate::wire::json::parse_json;

/// One enterprise, one period.
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "tariff": "cn-sx-xinzhou",
    "period": { "start": "2020-10-01", "end": "2020-10-31" },
    "enterprise": { "id": "XZ-0001", "name": "忻州某钢铁有限公司", "industry": "steel", "catalogue_class": "restricted" },
    "assessment": { "year": 2019, "steel_processes": [{ "process": "blast_furnace", "intensity": "440" }] },
    "electricity": { "kwh": "1250000", "base_price": "0.4523" }
}))]
pub struct BillRequestBody {
    /// Tariff id; the configured default when absent.
    pub tariff: Option<String>,
    pub period: PeriodBody,
    pub enterprise: EnterpriseBody,
    pub assessment: Option<AssessmentBody>,
    pub electricity: ElectricityBody,
    pub water: Option<WaterBody>,
}

/// Either `start` and `end` (inclusive), or `month` (`YYYY-MM`).
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PeriodBody {
    #[serde(default, deserialize_with = "iso_date")]
    pub start: Option<NaiveDate>,
    #[serde(default, deserialize_with = "iso_date")]
    pub end: Option<NaiveDate>,
    #[schema(example = "2020-10")]
    pub month: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnterpriseBody {
    pub id: String,
    pub name: Option<String>,
    /// Required, unless the enterprise is in the registry (which then fills it, with its
    /// classification on each day of the period and the assessment of the year before).
    pub industry: Option<Industry>,
    /// Defaults to `permitted` (the trace then says `defaulted`).
    pub catalogue_class: Option<CatalogueClass>,
    /// Steel enterprise that missed its capacity-cut deadline: priced as eliminated.
    /// Defaults to false.
    pub capacity_cut_overdue: Option<bool>,
    /// Defaults to `none`.
    pub card: Option<Card>,
}

/// The previous year's assessed figures.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssessmentBody {
    pub year: Option<i32>,
    #[serde(default)]
    pub steel_processes: Vec<ProcessBody>,
    pub cement: Option<CementBody>,
    /// kWh/t of AC electricity per tonne of molten aluminium.
    pub aluminum_kwh_per_t: Option<Exact>,
    pub energy_intensity: Option<IntensityBody>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProcessBody {
    pub process: SteelProcess,
    /// Electric arc furnaces only; `ordinary` unless `special`.
    #[serde(default)]
    pub grade: SteelGrade,
    /// kgce/t; may be negative for converters.
    pub intensity: Exact,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CementBody {
    pub plant: CementPlant,
    #[serde(
        default,
        deserialize_with = "iso_date",
        skip_serializing_if = "Option::is_none"
    )]
    pub commissioned: Option<NaiveDate>,
    /// Comparable comprehensive electricity, kWh/t.
    pub kwh_per_t: Exact,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntensityBody {
    pub value: Exact,
    /// Must be greater than 0.
    pub limit: Exact,
}

#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ElectricityBody {
    /// Production electricity in the period.
    pub kwh: Exact,
    /// yuan/kWh; gives a base-price line when present.
    pub base_price: Option<Exact>,
    /// Electricity from the enterprise's own power plant: added to the quantity of the
    /// electrolytic aluminium tier's line only (default 0).
    pub self_generated_kwh: Option<Exact>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WaterBody {
    pub m3: Exact,
    /// Must be greater than 0.
    pub quota_m3: Option<Exact>,
    /// yuan/m³.
    pub base_price: Option<Exact>,
    pub meets_standard: Option<bool>,
}

/// An optional date, `YYYY-MM-DD` read by hand and anything else by chrono, with chrono's
/// answer and error messages.
fn iso_date<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
    struct Day;
    impl serde::de::Visitor<'_> for Day {
        type Value = NaiveDate;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a formatted date string")
        }

        fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<NaiveDate, E> {
            match crate::period::parse_iso_date(text) {
                Some(day) => Ok(day),
                None => text.parse().map_err(E::custom),
            }
        }
    }
    struct Maybe;
    impl<'de> serde::de::Visitor<'de> for Maybe {
        type Value = Option<NaiveDate>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a formatted date string")
        }

        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_str(Day).map(Some)
        }
    }
    d.deserialize_option(Maybe)
}

/// Collects every problem in one pass so the client fixes them all at once.
#[derive(Default)]
struct Checks(Vec<FieldError>);

impl Checks {
    fn fail(&mut self, pointer: &str, message: impl Into<String>) {
        self.0.push(FieldError::at(pointer, message));
    }

    fn non_negative(&mut self, pointer: &str, value: Exact) -> Decimal {
        if value.0 < Decimal::ZERO {
            self.fail(pointer, format!("must not be negative, found {}", value.0));
        }
        value.0
    }

    fn positive(&mut self, pointer: &str, value: Exact) -> Decimal {
        if value.0 <= Decimal::ZERO {
            self.fail(
                pointer,
                format!("must be greater than 0, found {}", value.0),
            );
        }
        value.0
    }
}

impl BillRequestBody {
    /// Reads a request from JSON: the common shape in one quick pass, anything else (and
    /// every error) through serde.
    pub fn from_json(bytes: &[u8]) -> Result<BillRequestBody, ApiError> {
        match std::str::from_utf8(bytes).ok().and_then(reader::read) {
            Some(body) => Ok(body),
            None => parse_json(bytes),
        }
    }

    /// Validates into the engine's request; `pointer_prefix` places pointers inside a larger
    /// document (e.g. `/population/3`).
    pub fn into_domain(self, pointer_prefix: &str) -> Result<BillRequest, Vec<FieldError>> {
        let mut c = Checks::default();
        let period = period(&mut c, &self.period);
        let e = self.enterprise;
        if let Err(why) = crate::text::identifier(&e.id) {
            c.fail("/enterprise/id", why);
        }
        if let Some(Err(why)) = e.name.as_deref().map(crate::text::free_text) {
            c.fail("/enterprise/name", why);
        }
        if e.industry.is_none() {
            c.fail(
                "/enterprise/industry",
                "missing: give it, or record the enterprise in the registry (PUT /v1/enterprises/{id})",
            );
        }
        let enterprise = Enterprise {
            id: e.id,
            name: e.name,
            industry: e.industry.unwrap_or(Industry::Other),
            catalogue_class: e.catalogue_class.unwrap_or_default(),
            capacity_cut_overdue: e.capacity_cut_overdue.unwrap_or_default(),
            card: e.card.unwrap_or_default(),
        };
        let defaulted = Defaulted {
            catalogue_class: e.catalogue_class.is_none(),
            capacity_cut_overdue: e.capacity_cut_overdue.is_none(),
            card: e.card.is_none(),
        };
        let assessment = assessment(&mut c, self.assessment.unwrap_or_default());
        let electricity = Electricity {
            kwh: c.non_negative("/electricity/kwh", self.electricity.kwh),
            base_price: self
                .electricity
                .base_price
                .map(|p| c.non_negative("/electricity/base_price", p)),
            self_generated_kwh: self
                .electricity
                .self_generated_kwh
                .map(|k| c.non_negative("/electricity/self_generated_kwh", k)),
        };
        let water = self.water.map(|w| Water {
            m3: c.non_negative("/water/m3", w.m3),
            quota_m3: w.quota_m3.map(|q| c.positive("/water/quota_m3", q)),
            base_price: w.base_price.map(|p| c.non_negative("/water/base_price", p)),
            meets_standard: w.meets_standard,
        });
        match (c.0.is_empty(), period) {
            (true, Some(period)) => Ok(BillRequest {
                tariff: self.tariff,
                period,
                enterprise,
                assessment,
                electricity,
                water,
                defaulted,
                from_registry: Vec::new(),
                reclassified: Vec::new(),
                decisions: Vec::new(),
                registry_version: None,
            }),
            _ => Err(c
                .0
                .into_iter()
                .map(|mut e| {
                    e.pointer = e.pointer.map(|p| format!("{pointer_prefix}{p}"));
                    e
                })
                .collect()),
        }
    }
}

impl PeriodBody {
    /// The period, if the body gives a valid one (`into_domain` says what is wrong if not).
    pub fn period(&self) -> Option<Period> {
        period(&mut Checks::default(), self)
    }
}

fn period(c: &mut Checks, body: &PeriodBody) -> Option<Period> {
    match (body.start, body.end, body.month.as_deref()) {
        (None, None, Some(month)) => {
            let p = Period::parse_month(month);
            if p.is_none() {
                c.fail(
                    "/period/month",
                    format!("`{month}` is not a month (YYYY-MM)"),
                );
            }
            p
        }
        (Some(start), Some(end), None) => match Period::new(start, end) {
            Ok(p) => Some(p),
            Err(e) => {
                c.fail("/period/end", format!("{e}: {end} is before {start}"));
                None
            }
        },
        (None, Some(_), None) => {
            c.fail(
                "/period/start",
                "missing: give `start` and `end`, or `month`",
            );
            None
        }
        (Some(_), None, None) => {
            c.fail("/period/end", "missing: give `start` and `end`, or `month`");
            None
        }
        _ => {
            c.fail(
                "/period",
                "give either `start` and `end`, or `month`, not both or neither",
            );
            None
        }
    }
}

fn assessment(c: &mut Checks, body: AssessmentBody) -> Assessment {
    let steel_processes = body
        .steel_processes
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let pointer = format!("/assessment/steel_processes/{i}/intensity");
            // Converters recover energy: their intensity may be negative.
            let intensity = if p.process == SteelProcess::Converter {
                p.intensity.0
            } else {
                c.non_negative(&pointer, p.intensity)
            };
            if p.grade == SteelGrade::Special && p.process != SteelProcess::ElectricArcFurnace {
                c.fail(
                    &format!("/assessment/steel_processes/{i}/grade"),
                    "only an electric_arc_furnace has a grade",
                );
            }
            ProcessIntensity {
                process: p.process,
                grade: p.grade,
                intensity,
            }
        })
        .collect();
    let cement = body.cement.map(|cb| CementAssessment {
        plant: cb.plant,
        commissioned: cb.commissioned,
        kwh_per_t: c.non_negative("/assessment/cement/kwh_per_t", cb.kwh_per_t),
    });
    let energy_intensity = body.energy_intensity.map(|i| EnergyIntensity {
        value: c.non_negative("/assessment/energy_intensity/value", i.value),
        limit: c.positive("/assessment/energy_intensity/limit", i.limit),
    });
    Assessment {
        year: body.year,
        steel_processes,
        cement,
        aluminum_kwh_per_t: body
            .aluminum_kwh_per_t
            .map(|a| c.non_negative("/assessment/aluminum_kwh_per_t", a)),
        energy_intensity,
    }
}

/// A request as the JSON a client would send: the inverse of [`BillRequestBody::into_domain`],
/// for generated populations.
pub fn request_json(r: &BillRequest) -> serde_json::Value {
    use serde_json::{json, Map, Value};
    let mut body = Map::new();
    if let Some(t) = &r.tariff {
        body.insert("tariff".into(), json!(t));
    }
    body.insert(
        "period".into(),
        json!({ "start": r.period.start(), "end": r.period.end() }),
    );
    let e = &r.enterprise;
    let mut enterprise =
        json!({ "id": e.id, "industry": e.industry, "catalogue_class": e.catalogue_class });
    if let Some(name) = &e.name {
        enterprise["name"] = json!(name);
    }
    if e.capacity_cut_overdue {
        enterprise["capacity_cut_overdue"] = json!(true);
    }
    if e.card != Card::None {
        enterprise["card"] = json!(e.card);
    }
    body.insert("enterprise".into(), enterprise);
    let a = &r.assessment;
    let mut assessment = Map::new();
    if let Some(year) = a.year {
        assessment.insert("year".into(), json!(year));
    }
    if !a.steel_processes.is_empty() {
        let processes: Vec<Value> = a
            .steel_processes
            .iter()
            .map(|p| match p.grade {
                SteelGrade::Special => json!({ "process": p.process, "grade": "special", "intensity": p.intensity.to_string() }),
                SteelGrade::Ordinary => json!({ "process": p.process, "intensity": p.intensity.to_string() }),
            })
            .collect();
        assessment.insert("steel_processes".into(), Value::Array(processes));
    }
    if let Some(c) = &a.cement {
        let mut cement = json!({ "plant": c.plant, "kwh_per_t": c.kwh_per_t.to_string() });
        if let Some(d) = c.commissioned {
            cement["commissioned"] = json!(d);
        }
        assessment.insert("cement".into(), cement);
    }
    if let Some(x) = a.aluminum_kwh_per_t {
        assessment.insert("aluminum_kwh_per_t".into(), json!(x.to_string()));
    }
    if let Some(i) = &a.energy_intensity {
        assessment.insert(
            "energy_intensity".into(),
            json!({ "value": i.value.to_string(), "limit": i.limit.to_string() }),
        );
    }
    if !assessment.is_empty() {
        body.insert("assessment".into(), Value::Object(assessment));
    }
    let mut electricity = json!({ "kwh": r.electricity.kwh.to_string() });
    if let Some(p) = r.electricity.base_price {
        electricity["base_price"] = json!(p.to_string());
    }
    if let Some(k) = r.electricity.self_generated_kwh {
        electricity["self_generated_kwh"] = json!(k.to_string());
    }
    body.insert("electricity".into(), electricity);
    if let Some(w) = &r.water {
        let mut water = json!({ "m3": w.m3.to_string() });
        if let Some(q) = w.quota_m3 {
            water["quota_m3"] = json!(q.to_string());
        }
        if let Some(p) = w.base_price {
            water["base_price"] = json!(p.to_string());
        }
        if let Some(m) = w.meets_standard {
            water["meets_standard"] = json!(m);
        }
        body.insert("water".into(), water);
    }
    Value::Object(body)
}
