//! `GET /v1/surcharges`: the adders a class of enterprise faces on a date.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

use super::problem::{ApiError, Problem};
use super::query::{today, Query};
use super::AppState;
use crate::enterprise::{CatalogueClass, Industry};
use crate::lookup::surcharges;
use crate::wire::view::{parameter_read, ParameterRead};

#[derive(Debug, Serialize, ToSchema)]
pub struct SurchargeLookup {
    pub tariff: String,
    pub digest: String,
    pub date: NaiveDate,
    pub industry: Industry,
    pub catalogue_class: CatalogueClass,
    /// The class the enterprise is priced as (overdue steel is priced as eliminated).
    pub priced_as: CatalogueClass,
    /// How adders on one kWh combine: `max` (the highest applies) or `sum`.
    pub combination: &'static str,
    pub adders: Vec<AdderView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdderView {
    pub measure: &'static str,
    pub condition: &'static str,
    pub applies: bool,
    /// yuan/kWh for a fixed adder; absent for a schedule chosen by assessment (see `basis`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate: Option<String>,
    /// Why it does not apply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub basis: Vec<ParameterRead>,
}

/// The price bureau's quick look-up of adders by industry and catalogue class.
#[utoipa::path(
    get, path = "/v1/surcharges",
    tag = "surcharges",
    params(
        ("tariff" = Option<String>, Query, description = "Tariff id (default: the configured default)", example = "cn-sx-xinzhou"),
        ("industry" = Industry, Query, example = "steel"),
        ("catalogue_class" = Option<CatalogueClass>, Query, description = "Default `permitted`", example = "restricted"),
        ("capacity_cut_overdue" = Option<bool>, Query, description = "Steel that missed its capacity-cut deadline"),
        ("date" = Option<NaiveDate>, Query, description = "Default: today", example = "2020-10-01"),
    ),
    responses(
        (status = 200, body = SurchargeLookup),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn lookup_surcharges(
    request: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let mut q = Query::parse(
        &request,
        &[
            "tariff",
            "industry",
            "catalogue_class",
            "capacity_cut_overdue",
            "date",
        ],
    )?;
    let industry = q.parsed("industry", "an industry", Industry::parse);
    let industry = q.require("industry", industry);
    let class = q
        .parsed("catalogue_class", "a catalogue class", |t| {
            crate::names::parse_name::<CatalogueClass>(t)
        })
        .unwrap_or_default();
    let overdue = q
        .parsed("capacity_cut_overdue", "true or false", |t| {
            t.parse::<bool>().ok()
        })
        .unwrap_or(false);
    let date = q.date("date").unwrap_or_else(today);
    let tariff_id = q.text("tariff").map(str::to_string);
    q.finish()?;
    let Some(industry) = industry else {
        return Err(ApiError::query("industry", "is required"));
    };
    let tariffs = state.tariffs.current();
    let tariff = tariffs
        .resolve(tariff_id.as_deref())
        .ok_or_else(|| ApiError::query("tariff", crate::wire::problem::unknown_tariff(&tariffs)))?;
    let lookup = surcharges(tariff, industry, class, overdue, date);
    let adders = lookup
        .entries
        .iter()
        .map(|e| AdderView {
            measure: e.measure.as_str(),
            condition: e.condition,
            applies: e.outcome.is_ok(),
            rate: e
                .outcome
                .as_ref()
                .ok()
                .copied()
                .flatten()
                .map(|r| r.to_string()),
            reason: e.outcome.as_ref().err().map(|why| why.describe()),
            basis: e.basis.iter().map(|r| parameter_read(*r, tariff)).collect(),
        })
        .collect();
    Ok(HttpResponse::Ok().json(SurchargeLookup {
        tariff: tariff.meta.id.clone(),
        digest: tariff.digest.clone(),
        date,
        industry,
        catalogue_class: class,
        priced_as: lookup.priced_class,
        combination: match lookup.combination {
            crate::tariff::value::Combination::Max => "max",
            crate::tariff::value::Combination::Sum => "sum",
        },
        adders,
    }))
}
