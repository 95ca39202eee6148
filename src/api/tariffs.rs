//! `GET /v1/tariffs…`: what is in force, since when, and on whose authority.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

use super::body::read_body;
use super::problem::{ApiError, Problem};
use super::query::{today, Query};
use super::AppState;
use crate::tariff::{parse_tariff_str, Document, EntryRef, Evidence, Tariff};
use crate::wire::view::{parameter_read, ParameterRead};

#[derive(Debug, Serialize, ToSchema)]
pub struct TariffList {
    /// The tariff a bill request without `tariff` gets.
    pub default: String,
    pub tariffs: Vec<TariffSummary>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TariffSummary {
    pub id: String,
    pub name: String,
    pub version: String,
    pub inherits: Option<String>,
    pub description: Option<String>,
    pub digest: String,
    /// First day this tariff's own file sets a value (before it, its parent's values rule).
    pub effective_from: Option<NaiveDate>,
    /// Open-ended (`null`) unless every value has ended.
    pub effective_to: Option<NaiveDate>,
    pub parameters: usize,
    /// Values marked provisional: bills that use them say so.
    pub provisional_values: usize,
    pub documents: Vec<DocumentView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentView {
    pub number: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The authorities that issued it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub issuers: Vec<String>,
    /// Where its values were checked, and what each place confirms.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Evidence>,
}

impl DocumentView {
    fn new(d: &Document) -> DocumentView {
        DocumentView {
            number: d.number.clone(),
            title: d.title.clone(),
            url: d.url.clone(),
            issuers: d.issuers.clone(),
            evidence: d.evidence.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ParameterListing {
    pub tariff: String,
    pub digest: String,
    pub date: NaiveDate,
    /// Every parameter with a value in force on `date`, by path.
    pub parameters: Vec<ParameterInForce>,
    /// The documents those values cite, with their issuers and evidence.
    pub documents: Vec<DocumentView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ParameterInForce {
    pub description: String,
    /// The parameter's name in the notices' terms (e.g. 钢铁淘汰类差别电价加价).
    pub name_zh: String,
    #[serde(flatten)]
    pub value: ParameterRead,
}

impl TariffSummary {
    fn new(t: &Tariff) -> TariffSummary {
        let values = t.parameters.iter().flat_map(|p| &p.entries);
        TariffSummary {
            id: t.meta.id.clone(),
            name: t.meta.name.clone(),
            version: t.meta.version.clone(),
            inherits: t.meta.inherits.clone(),
            description: t.meta.description.clone(),
            digest: t.digest.clone(),
            effective_from: t.effective_from,
            effective_to: None,
            parameters: t.parameters.len(),
            provisional_values: values.filter(|e| e.provisional).count(),
            documents: t.documents.iter().map(DocumentView::new).collect(),
        }
    }
}

/// The tariff sets loaded.
#[utoipa::path(get, path = "/v1/tariffs", tag = "tariffs", responses((status = 200, body = TariffList)))]
pub async fn list_tariffs(state: web::Data<AppState>) -> HttpResponse {
    let set = state.tariffs.current();
    let tariffs = set.iter().map(|t| TariffSummary::new(t)).collect();
    HttpResponse::Ok().json(TariffList {
        default: set.default_id().to_string(),
        tariffs,
    })
}

/// One tariff set.
#[utoipa::path(
    get, path = "/v1/tariffs/{id}",
    tag = "tariffs",
    params(("id" = String, Path, description = "Tariff id, e.g. `cn-sx-xinzhou`", example = "cn-sx-xinzhou")),
    responses((status = 200, body = TariffSummary), (status = 404, body = Problem, content_type = "application/problem+json"))
)]
pub async fn get_tariff(
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let tariff = state.tariff(&path)?;
    Ok(HttpResponse::Ok().json(TariffSummary::new(&tariff)))
}

/// Every parameter in force on a date, with value, unit, source document and provisional flag.
#[utoipa::path(
    get, path = "/v1/tariffs/{id}/parameters",
    tag = "tariffs",
    params(
        ("id" = String, Path, description = "Tariff id", example = "cn-sx-xinzhou"),
        ("date" = Option<NaiveDate>, Query, description = "Day to look at (default: today)", example = "2020-10-01"),
    ),
    responses(
        (status = 200, body = ParameterListing),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_parameters(
    request: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let tariff = state.tariff(&path)?;
    let mut query = Query::parse(&request, &["date"])?;
    let date = query.date("date").unwrap_or_else(today);
    query.finish()?;
    let mut cited = Vec::new();
    let parameters = tariff
        .parameters
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let (entry, e) = p.at(date)?;
            if !cited.contains(&e.source) {
                cited.push(e.source);
            }
            let value = parameter_read(
                EntryRef {
                    param: i as u16,
                    entry,
                },
                &tariff,
            );
            Some(ParameterInForce {
                description: p.description.clone(),
                name_zh: name_zh(&p.path),
                value,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(ParameterListing {
        tariff: tariff.meta.id.clone(),
        digest: tariff.digest.clone(),
        date,
        parameters,
        documents: cited
            .into_iter()
            .map(|id| DocumentView::new(tariff.document(id)))
            .collect(),
    }))
}

/// One parameter's whole history in a tariff: every dated value, from the parents' up to the
/// tariff's own, with its document and evidence.
#[derive(Debug, Serialize, ToSchema)]
pub struct ParameterHistory {
    pub tariff: String,
    pub digest: String,
    pub path: String,
    pub description: String,
    /// The parameter's name in the notices' terms.
    pub name_zh: String,
    pub unit: String,
    /// `billing_day`: each day of a bill reads the value in force on it; `assessment_year`:
    /// read on 1 January of the assessment year, never splitting a bill.
    pub read_on: &'static str,
    pub values: Vec<DatedValue>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DatedValue {
    pub from: NaiveDate,
    /// The last day, where a later value replaces this one.
    pub until: Option<NaiveDate>,
    /// As the tariff file writes it (a number as a string, a date, a list, brackets…).
    pub value: serde_json::Value,
    /// As bills cite it.
    pub display: String,
    pub provisional: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The tariff file that set it (a child inherits its parents' earlier values).
    pub defined_in: String,
    pub document: DocumentView,
}

/// One parameter's every dated value, its documents and their evidence.
#[utoipa::path(
    get, path = "/v1/tariffs/{id}/parameters/{path}",
    tag = "tariffs",
    params(
        ("id" = String, Path, description = "Tariff id", example = "cn-sx-xinzhou"),
        ("path" = String, Path, description = "Parameter path", example = "electricity.differential.steel.eliminated"),
    ),
    responses(
        (status = 200, body = ParameterHistory),
        (status = 404, description = "Unknown tariff, or a path it has no value for (with the closest known paths)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn parameter_history(
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (id, parameter_path) = path.into_inner();
    let tariff = state.tariff(&id)?;
    let Some(parameter) = tariff.parameter(&parameter_path) else {
        return Err(ApiError::NotFound(format!(
            "tariff `{id}` has no parameter `{parameter_path}`; closest known paths: {}",
            crate::tariff::schema::closest(&parameter_path, 3).join(", ")
        )));
    };
    let by_year = crate::tariff::schema::chosen_by_assessment_year(&parameter.path);
    let values = parameter
        .entries
        .iter()
        .enumerate()
        .map(|(i, e)| DatedValue {
            from: e.from,
            until: parameter.until(i),
            value: e.value.to_json(),
            display: e.display.clone(),
            provisional: e.provisional,
            note: e.note.clone(),
            defined_in: e.defined_in.to_string(),
            document: DocumentView::new(tariff.document(e.source)),
        })
        .collect();
    Ok(HttpResponse::Ok().json(ParameterHistory {
        tariff: tariff.meta.id.clone(),
        digest: tariff.digest.clone(),
        path: parameter.path.clone(),
        description: parameter.description.clone(),
        name_zh: name_zh(&parameter.path),
        unit: parameter.unit.to_string(),
        read_on: if by_year {
            "assessment_year"
        } else {
            "billing_day"
        },
        values,
    }))
}

fn name_zh(path: &str) -> String {
    crate::tariff::schema::spec(path).map_or_else(String::new, |s| s.name_zh.clone())
}

/// What a draft tariff file would load as, or everything wrong with it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Validation {
    pub valid: bool,
    /// The tariff the draft resolves to (over its parent), when it is valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tariff: Option<TariffSummary>,
    /// Every problem, with its key in the file (or line, for syntax errors).
    pub problems: Vec<crate::tariff::Problem>,
}

/// Check a draft tariff file (TOML, as in `tariffs/`) before anyone deploys it.
///
/// Every problem is reported at once with its location: unknown paths (with the closest
/// known ones), values of the wrong shape or sign, unsorted brackets, overlapping dates,
/// missing sources, an unknown parent. `inherits` resolves against the loaded tariffs.
/// The answer is 200 either way; `valid` says which.
#[utoipa::path(
    post, path = "/v1/tariffs/validate",
    tag = "tariffs",
    request_body(content = String, description = "A tariff file", content_type = "application/toml"),
    responses(
        (status = 200, body = Validation),
        (status = 400, description = "Empty body, or not UTF-8", body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn validate_tariff(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body = read_body(&request, payload, state.limits.body_limit_bytes, &state).await?;
    let text = std::str::from_utf8(&body)
        .map_err(|e| ApiError::BadRequest(format!("the tariff file is not UTF-8: {e}")))?;
    if text.trim().is_empty() {
        return Err(ApiError::EmptyBody);
    }
    let loaded: Vec<_> = state.tariffs.current().iter().cloned().collect();
    let validation = match parse_tariff_str("draft", text, &loaded) {
        Ok(tariff) => Validation {
            valid: true,
            tariff: Some(TariffSummary::new(&tariff)),
            problems: Vec::new(),
        },
        Err(problems) => Validation {
            valid: false,
            tariff: None,
            problems,
        },
    };
    Ok(HttpResponse::Ok().json(validation))
}
