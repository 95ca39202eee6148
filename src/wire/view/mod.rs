//! The bill as clients read it: every decimal a string, money with exactly two decimals.

mod json;

pub use json::bare_decimal;

use std::borrow::Cow;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::value::RawValue;
use utoipa::ToSchema;

use crate::bill::explain::{explain, explain_adder};
use crate::bill::trace::{inputs, Origin};
use crate::bill::{Bill, BillId, BillRequest, LineItem, Totals, Trace, Warning};
use crate::measure::{Measure, NotApplicable};
use crate::period::Period;
use crate::tariff::{EntryRef, Tariff};

/// Borrows from the request and the tariff, so writing a bill copies no text.
#[derive(Debug, Serialize, ToSchema)]
pub struct BillResponse<'a> {
    /// Deterministic: the same request priced by the same tariff content has the same id.
    #[schema(value_type = String, example = "bill-5f0c8e0d4b7a4b0f9f0a3c2b1d0e9f8a")]
    pub bill_id: BillId,
    pub engine_version: &'static str,
    pub tariff: TariffRef<'a>,
    pub period: PeriodView,
    pub enterprise_id: &'a str,
    /// Absent only in batches run with `detail=totals`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line_items: Option<Vec<LineItemView<'a>>>,
    pub totals: TotalsView,
    pub warnings: Vec<WarningView<'a>>,
    /// Present with `?explain=full`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<TraceView>,
}

/// The tariff that priced a bill: enough to reproduce it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = BillTariff)]
pub struct TariffRef<'a> {
    pub id: &'a str,
    pub version: &'a str,
    /// `sha256:` of the tariff's resolved content.
    pub digest: &'a str,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct PeriodView {
    #[serde(serialize_with = "iso_date")]
    pub start: NaiveDate,
    #[serde(serialize_with = "iso_date")]
    pub end: NaiveDate,
}

fn iso_date<S: serde::Serializer>(date: &NaiveDate, serializer: S) -> Result<S::Ok, S::Error> {
    match crate::period::write_iso_date(*date) {
        Some(text) => serializer.serialize_str(std::str::from_utf8(&text).expect("ASCII digits")),
        None => serializer.collect_str(date),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LineItemView<'a> {
    /// Rule path, e.g. `electricity.differential.steel`.
    pub rule: &'static str,
    /// `differential | tiered | punitive | water_progressive | base_electricity | base_water`.
    pub kind: &'static str,
    /// `applied | superseded`; only applied lines count in the totals.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub superseded_by: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier: Option<u8>,
    #[serde(serialize_with = "iso_date")]
    pub from: NaiveDate,
    #[serde(serialize_with = "iso_date")]
    pub to: NaiveDate,
    #[schema(value_type = String)]
    pub quantity: Decimal,
    /// `kWh` or `m3`.
    pub unit: &'static str,
    /// Yuan per unit, unrounded.
    #[schema(value_type = String)]
    pub rate: Decimal,
    /// Yuan, rounded half-up to the fen.
    #[schema(value_type = String)]
    pub amount: Decimal,
    /// The parameter values the line rests on, and their documents.
    #[schema(value_type = Vec<BasisView>)]
    pub basis: Vec<&'a RawValue>,
    /// Why the line is there, in one sentence (left out of batch output unless `detail=full`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
    /// For a surcharge whose enterprise's classification came from the registry: the
    /// decision in force over the line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<DecisionView<'a>>,
}

/// The registry decision a line's classification rests on.
#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionView<'a> {
    /// The registry version that recorded it.
    pub version: i64,
    #[schema(example = "忻发改价格〔2020〕12号")]
    pub document: &'a str,
}

// Bills write each citation pre-rendered once per tariff value (`Entry::citation`); this
// type states its shape for the OpenAPI document.
/// A parameter value a line rests on, and the document it comes from.
#[derive(Debug, Serialize, ToSchema)]
pub struct BasisView {
    #[schema(example = "发改价格〔2016〕2803号")]
    pub document: String,
    pub parameter: String,
    pub value: String,
    pub provisional: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TotalsView {
    #[schema(value_type = String)]
    pub electricity_surcharge: Decimal,
    #[schema(value_type = String)]
    pub water_surcharge: Decimal,
    #[schema(value_type = String)]
    pub surcharge: Decimal,
    #[schema(value_type = String)]
    pub base: Decimal,
    #[schema(value_type = String)]
    pub total: Decimal,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WarningView<'a> {
    /// `red_card | provisional_parameters | assessment_year_mismatch | assessment_year_missing`.
    pub code: &'static str,
    #[schema(value_type = String)]
    pub message: Cow<'static, str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<&'a str>,
}

/// Everything needed to re-derive the bill by hand.
#[derive(Debug, Serialize, ToSchema)]
pub struct TraceView {
    pub engine_version: String,
    pub tariff_digest: String,
    pub parameters: Vec<ParameterRead>,
    pub inputs: Vec<InputView>,
    pub findings: Vec<FindingView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ParameterRead {
    pub path: String,
    /// The value as written in the tariff (`none`: no value in force).
    pub value: serde_json::Value,
    pub unit: &'static str,
    pub from: NaiveDate,
    /// Last day in force, if a later value replaces it.
    pub to: Option<NaiveDate>,
    pub source: String,
    pub source_title: String,
    pub provisional: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The tariff file that set it.
    pub defined_in: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InputView {
    pub pointer: &'static str,
    /// `given | defaulted | registry | missing`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// What one measure found over a run of days.
#[derive(Debug, Serialize, ToSchema)]
pub struct FindingView {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub measure: &'static str,
    /// `applies | not_applicable`.
    pub outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate: Option<String>,
    pub detail: String,
}

/// How much of each bill a response carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Detail {
    /// Totals and warnings only.
    Totals,
    /// Line items with their basis.
    #[default]
    Lines,
    /// Line items with their explanations, and the audit trace if one was kept.
    Full,
}

impl Detail {
    pub fn parse(text: &str) -> Option<Detail> {
        match text {
            "totals" => Some(Detail::Totals),
            "lines" => Some(Detail::Lines),
            "full" => Some(Detail::Full),
            _ => None,
        }
    }
}

impl<'a> BillResponse<'a> {
    /// Everything the bill holds (its trace too, if it was priced with one).
    pub fn new(request: &'a BillRequest, bill: &'a Bill, tariff: &'a Tariff) -> BillResponse<'a> {
        BillResponse::with_detail(request, bill, tariff, Detail::Full)
    }

    pub fn with_detail(
        request: &'a BillRequest,
        bill: &'a Bill,
        tariff: &'a Tariff,
        detail: Detail,
    ) -> BillResponse<'a> {
        BillResponse {
            bill_id: bill.id,
            engine_version: crate::ENGINE_VERSION,
            tariff: TariffRef {
                id: &tariff.meta.id,
                version: &tariff.meta.version,
                digest: &tariff.digest,
            },
            period: PeriodView {
                start: request.period.start(),
                end: request.period.end(),
            },
            enterprise_id: &request.enterprise.id,
            line_items: (detail != Detail::Totals).then(|| {
                bill.lines
                    .iter()
                    .map(|l| LineItemView::new(l, request, tariff, detail == Detail::Full))
                    .collect()
            }),
            totals: TotalsView::new(&bill.totals),
            warnings: bill
                .warnings
                .iter()
                .map(|w| WarningView::new(w, tariff))
                .collect(),
            trace: bill
                .trace
                .as_ref()
                .filter(|_| detail == Detail::Full)
                .map(|t| TraceView::new(t, request, tariff)),
        }
    }
}

impl<'a> LineItemView<'a> {
    fn new(
        line: &LineItem,
        request: &'a BillRequest,
        tariff: &'a Tariff,
        explained: bool,
    ) -> LineItemView<'a> {
        LineItemView {
            rule: line.rule(),
            kind: line.kind.as_str(),
            status: line.status.as_str(),
            superseded_by: line.superseded_by.map(Measure::as_str),
            tier: line.reason.as_ref().and_then(|r| r.tier()),
            from: line.period.start(),
            to: line.period.end(),
            quantity: line.quantity,
            unit: line.unit.as_str(),
            rate: line.rate,
            amount: line.amount,
            basis: line
                .basis
                .as_slice()
                .iter()
                .map(|r| &*tariff.entry(*r).1.citation)
                .collect(),
            explanation: explained.then(|| explain(line, tariff)),
            decision: line
                .is_surcharge()
                .then(|| request.decision_on(line.period.start()))
                .flatten()
                .map(|d| DecisionView {
                    version: d.version,
                    document: &d.document,
                }),
        }
    }
}

impl TotalsView {
    fn new(t: &Totals) -> TotalsView {
        TotalsView {
            electricity_surcharge: t.electricity_surcharge,
            water_surcharge: t.water_surcharge,
            surcharge: t.surcharge,
            base: t.base,
            total: t.total,
        }
    }
}

/// A warning's stable code.
pub fn warning_code(warning: &Warning) -> &'static str {
    match warning {
        Warning::RedCard => "red_card",
        Warning::Provisional(_) => "provisional_parameters",
        Warning::AssessmentYearMismatch { .. } => "assessment_year_mismatch",
        Warning::AssessmentYearMissing => "assessment_year_missing",
        Warning::ProcessNotAssessed(_) => "process_not_assessed",
        Warning::WaterSupplyRestriction => "water_supply_restriction",
    }
}

impl<'a> WarningView<'a> {
    fn new(warning: &Warning, tariff: &'a Tariff) -> WarningView<'a> {
        let code = warning_code(warning);
        match warning {
            Warning::RedCard => WarningView {
                code,
                message: "consumption billed to a red-card enterprise, which is closed by law".into(),
                parameters: vec![],
            },
            Warning::Provisional(ids) => WarningView {
                code,
                message: "this bill uses parameter values marked provisional in the tariff".into(),
                parameters: ids.iter().map(|id| tariff.param(id).path.as_str()).collect(),
            },
            Warning::AssessmentYearMismatch { expected, given } => WarningView {
                code,
                message: format!("the assessment is for {given}; tiers and punitive bands come from the previous year, {expected}").into(),
                parameters: vec![],
            },
            Warning::AssessmentYearMissing => WarningView {
                code,
                message: "the assessment does not say which year it covers".into(),
                parameters: vec![],
            },
            Warning::ProcessNotAssessed(processes) => WarningView {
                code,
                message: format!("no energy limit is in force for {}, so the steel tier does not count it", processes.names()).into(),
                parameters: vec![],
            },
            Warning::WaterSupplyRestriction => WarningView {
                code,
                message: "water use exceeds the quota by the share at which supply is restricted or cut".into(),
                parameters: vec![],
            },
        }
    }
}

impl TraceView {
    fn new(trace: &Trace, request: &BillRequest, tariff: &Tariff) -> TraceView {
        let parameters = trace
            .parameters
            .iter()
            .map(|r| parameter_read(*r, tariff))
            .collect();
        let inputs = inputs(request)
            .into_iter()
            .map(|i| InputView {
                pointer: i.pointer,
                status: match (&i.value, i.origin) {
                    (_, Origin::Defaulted) => "defaulted",
                    (_, Origin::Registry) => "registry",
                    (Some(_), Origin::Given) => "given",
                    (None, Origin::Given) => "missing",
                },
                value: i.value,
            })
            .collect();
        let mut findings = Vec::new();
        for day in &trace.days {
            let measures = [Measure::Differential, Measure::Tiered, Measure::Punitive];
            for (measure, finding) in measures.into_iter().zip(&day.findings) {
                findings.push(finding_view(
                    day.period,
                    measure,
                    finding.as_ref().map(|a| (a.rate, explain_adder(a, tariff))),
                ));
            }
            let water = match &day.water {
                Ok(bands) => Ok((
                    bands.iter().map(|b| b.adder.rate).max().unwrap_or_default(),
                    bands
                        .iter()
                        .map(|b| explain_adder(&b.adder, tariff))
                        .collect::<Vec<_>>()
                        .join("; "),
                )),
                Err(e) => Err(e),
            };
            findings.push(finding_view(day.period, Measure::WaterProgressive, water));
        }
        TraceView {
            engine_version: crate::ENGINE_VERSION.to_string(),
            tariff_digest: tariff.digest.clone(),
            parameters,
            inputs,
            findings,
        }
    }
}

fn finding_view(
    period: Period,
    measure: Measure,
    finding: Result<(rust_decimal::Decimal, String), &NotApplicable>,
) -> FindingView {
    let (from, to) = (period.start(), period.end());
    match finding {
        Ok((rate, detail)) => FindingView {
            from,
            to,
            measure: measure.as_str(),
            outcome: "applies",
            rate: Some(rate.to_string()),
            detail,
        },
        Err(why) => FindingView {
            from,
            to,
            measure: measure.as_str(),
            outcome: "not_applicable",
            rate: None,
            detail: why.describe(),
        },
    }
}

pub fn parameter_read(r: EntryRef, tariff: &Tariff) -> ParameterRead {
    let (parameter, entry) = tariff.entry(r);
    let document = tariff.document(entry.source);
    ParameterRead {
        path: parameter.path.clone(),
        value: entry.value.to_json(),
        unit: parameter.unit,
        from: entry.from,
        to: parameter.until(usize::from(r.entry)),
        source: document.number.clone(),
        source_title: document.title.clone(),
        provisional: entry.provisional,
        note: entry.note.clone(),
        defined_in: entry.defined_in.to_string(),
    }
}
