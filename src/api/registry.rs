//! The enterprise registry over HTTP: master data, dated classification decisions and yearly
//! assessments written by a `registrar`, read by a `reader` as of any day.

use std::collections::HashSet;

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use utoipa::ToSchema;

use super::body::read_body;
use super::problem::{ApiError, Problem};
use super::query::Query;
use super::routes::Caller;
use super::AppState;
use crate::period::parse_iso_date;
use crate::registry::store::{self, StoreError};
use crate::registry::xlsx;
use crate::registry::{Change, Decision, Effect, History, MasterData, Record, YearAssessment};
use crate::wire::json::parse_object;

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        match error {
            StoreError::Unavailable(e) => {
                tracing::warn!(error = %e, "database unavailable");
                ApiError::Unavailable(format!("the database is unavailable: {e}"))
            }
            StoreError::Contended(_) => ApiError::Unavailable(error.to_string()),
            StoreError::Corrupt { .. } => {
                tracing::error!(%error, "registry record unreadable");
                ApiError::Internal
            }
        }
    }
}

/// A change as recorded, with what a classification decision did to earlier ones.
#[derive(Debug, Serialize, ToSchema)]
pub struct Recorded {
    pub enterprise_id: String,
    pub change: ChangeView,
    /// For a classification: the earlier decisions it replaces, closes or splits.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub effects: Vec<Effect>,
}

/// One recorded change: its version, when and by whom, and the record (one of `master`,
/// `classification`, `assessment`, as `kind` says).
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeView {
    pub version: i64,
    /// `master`, `classification` or `assessment`.
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub master: Option<MasterData>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classification: Option<Decision>,
    /// The year of an assessment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assessment: Option<YearAssessment>,
    /// RFC 3339, UTC.
    pub recorded_at: String,
    /// The name of the API key that recorded it.
    pub recorded_by: String,
}

impl From<Change> for ChangeView {
    fn from(change: Change) -> ChangeView {
        let mut view = ChangeView {
            version: change.version,
            kind: "",
            master: None,
            classification: None,
            year: None,
            assessment: None,
            recorded_at: change.recorded_at.to_rfc3339(),
            recorded_by: change.recorded_by,
        };
        match change.record {
            Record::Master { data } => {
                view.kind = "master";
                view.master = Some(data);
            }
            Record::Classification { decision } => {
                view.kind = "classification";
                view.classification = Some(decision);
            }
            Record::Assessment { year, assessment } => {
                view.kind = "assessment";
                view.year = Some(year);
                view.assessment = Some(*assessment);
            }
        }
        view
    }
}

/// An enterprise as of a day.
#[derive(Debug, Serialize, ToSchema)]
pub struct EnterpriseView {
    pub id: String,
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    /// The registry's version read (the latest, or `known_at`).
    pub version: i64,
    pub master: MasterData,
    pub master_version: i64,
    /// The decision in force on the day, if any.
    pub classification: Option<ClassificationView>,
    /// The assessment of the year before the day's (the one a bill of that day reads).
    pub assessment: Option<AssessmentView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClassificationView {
    pub version: i64,
    pub decision: Decision,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssessmentView {
    pub version: i64,
    pub year: i32,
    pub assessment: YearAssessment,
}

/// Every change of an enterprise.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryView {
    pub id: String,
    pub changes: Vec<ChangeView>,
}

/// An enterprise id from the path (`text::identifier`).
fn enterprise_id(path: &str) -> Result<String, ApiError> {
    match crate::text::identifier(path) {
        Ok(()) => Ok(path.to_string()),
        Err(why) => Err(ApiError::NotFound(format!("an enterprise id {why}"))),
    }
}

async fn known(state: &AppState, id: &str) -> Result<History, ApiError> {
    let history = store::history(&state.database, id).await?;
    if history.master().is_none() {
        return Err(ApiError::NotFound(format!(
            "no enterprise `{id}` in the registry; record it first with PUT /v1/enterprises/{{id}}"
        )));
    }
    Ok(history)
}

async fn json_body<T: serde::de::DeserializeOwned>(
    request: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> Result<T, ApiError> {
    let body = read_body(request, payload, state.limits.body_limit_bytes, state).await?;
    parse_object(&body)
}

fn document_required(document: &str) -> Result<(), ApiError> {
    if document.trim().is_empty() {
        return Err(ApiError::field(
            "/document",
            "must name the notice or decision this rests on",
        ));
    }
    crate::text::free_text(document).map_err(|why| ApiError::field("/document", why))
}

/// Record an enterprise's master data (a new version each time).
#[utoipa::path(
    put, path = "/v1/enterprises/{id}",
    tag = "registry",
    params(("id" = String, Path, description = "The enterprise id, as bills name it", example = "XZ-0001")),
    request_body(content = MasterData, content_type = "application/json"),
    responses(
        (status = 200, description = "Recorded as a new version", body = Recorded),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not an enterprise id", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over the configured limit", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn put_enterprise(
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = enterprise_id(&path)?;
    let data: MasterData = json_body(&request, payload, &state).await?;
    if data.name.trim().is_empty() {
        return Err(ApiError::field("/name", "must not be empty"));
    }
    crate::text::free_text(&data.name).map_err(|why| ApiError::field("/name", why))?;
    let change = store::append(
        &state.database,
        &id,
        Record::Master { data },
        &Caller::name(&request),
    )
    .await?;
    Ok(recorded(id, change, Vec::new()))
}

fn recorded(enterprise_id: String, change: Change, effects: Vec<Effect>) -> HttpResponse {
    HttpResponse::Ok().json(Recorded {
        enterprise_id,
        change: change.into(),
        effects,
    })
}

/// Record a dated classification decision.
///
/// On any day the latest decision covering it is in force, so periods never overlap: the
/// answer lists each earlier decision this one `replaces`, `closes` or `splits`.
#[utoipa::path(
    post, path = "/v1/enterprises/{id}/classifications",
    tag = "registry",
    params(("id" = String, Path, description = "The enterprise id", example = "XZ-0001")),
    request_body(content = Decision, content_type = "application/json"),
    responses(
        (status = 200, description = "Recorded, with its effect on earlier decisions", body = Recorded),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such enterprise in the registry", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over the configured limit", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is invalid (`to` before `from`, no document)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn post_classification(
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = enterprise_id(&path)?;
    let decision: Decision = json_body(&request, payload, &state).await?;
    if decision.to.is_some_and(|to| to < decision.from) {
        return Err(ApiError::field("/to", "must not be before `from`"));
    }
    document_required(&decision.document)?;
    let history = known(&state, &id).await?;
    let effects = history.effects_of(&decision);
    let record = Record::Classification { decision };
    let change = store::append(&state.database, &id, record, &Caller::name(&request)).await?;
    Ok(recorded(id, change, effects))
}

/// Record a year's assessment (a correction is a new version of the same year).
#[utoipa::path(
    put, path = "/v1/enterprises/{id}/assessments/{year}",
    tag = "registry",
    params(
        ("id" = String, Path, description = "The enterprise id", example = "XZ-0001"),
        ("year" = i32, Path, description = "The year assessed", example = 2019),
    ),
    request_body(content = YearAssessment, content_type = "application/json"),
    responses(
        (status = 200, description = "Recorded as a new version", body = Recorded),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such enterprise, or not a year", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over the configured limit", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn put_assessment(
    request: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (id, year) = path.into_inner();
    let id = enterprise_id(&id)?;
    let year: i32 = year
        .parse()
        .ok()
        .filter(|y| (1900..=2200).contains(y))
        .ok_or_else(|| ApiError::NotFound(format!("`{year}` is not a year (1900–2200)")))?;
    let assessment: YearAssessment = json_body(&request, payload, &state).await?;
    document_required(&assessment.document)?;
    if assessment
        .water_quota_m3
        .is_some_and(|q| q.0 <= rust_decimal::Decimal::ZERO)
    {
        return Err(ApiError::field("/water_quota_m3", "must be greater than 0"));
    }
    known(&state, &id).await?;
    let record = Record::Assessment {
        year,
        assessment: Box::new(assessment),
    };
    let change = store::append(&state.database, &id, record, &Caller::name(&request)).await?;
    Ok(recorded(id, change, Vec::new()))
}

/// An enterprise as of a day: master data, the classification in force, the assessment of
/// the year before, each with its version.
#[utoipa::path(
    get, path = "/v1/enterprises/{id}",
    tag = "registry",
    params(
        ("id" = String, Path, description = "The enterprise id", example = "XZ-0001"),
        ("date" = Option<String>, Query, description = "The day (default today)", example = "2020-10-01"),
        ("known_at" = Option<i64>, Query, description = "Read the registry as it stood at this version (default: the latest)"),
    ),
    responses(
        (status = 200, description = "The enterprise on that day", body = EnterpriseView),
        (status = 404, description = "No such enterprise", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_enterprise(
    request: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let mut query = Query::parse(&request, &["date", "known_at"])?;
    let date = query
        .parsed("date", "a date, YYYY-MM-DD", parse_iso_date)
        .unwrap_or_else(|| chrono::Utc::now().date_naive());
    let known_at = query.parsed("known_at", "a version, 1 or more", |v| {
        v.parse::<i64>().ok().filter(|v| *v >= 1)
    });
    query.finish()?;
    let id = enterprise_id(&path)?;
    let history = known(&state, &id).await?.known_at(known_at);
    let master = history.master().ok_or_else(|| {
        ApiError::NotFound(format!(
            "enterprise `{id}` was not yet recorded at that version"
        ))
    })?;
    let assessed = date.year() - 1;
    Ok(HttpResponse::Ok().json(EnterpriseView {
        date,
        version: history.latest_version(),
        master: master.value.clone(),
        master_version: master.version,
        classification: history.classification_on(date).map(|f| ClassificationView {
            version: f.version,
            decision: f.value.clone(),
        }),
        assessment: history.assessment_of(assessed).map(|f| AssessmentView {
            version: f.version,
            year: assessed,
            assessment: f.value.clone(),
        }),
        id,
    }))
}

/// Every change of an enterprise: what, when, by which key, on which document.
#[utoipa::path(
    get, path = "/v1/enterprises/{id}/history",
    tag = "registry",
    params(("id" = String, Path, description = "The enterprise id", example = "XZ-0001")),
    responses(
        (status = 200, description = "Every change, oldest first", body = HistoryView),
        (status = 404, description = "No such enterprise", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_history(
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = enterprise_id(&path)?;
    let history = known(&state, &id).await?;
    Ok(HttpResponse::Ok().json(HistoryView {
        id,
        changes: history.0.into_iter().map(ChangeView::from).collect(),
    }))
}

/// What an import recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct Imported {
    /// Enterprises the file touched.
    pub enterprises: usize,
    /// Changes recorded (master data, decisions and assessments), each a new version.
    pub changes: usize,
}

/// Import a registry file (CSV or XLSX): all or nothing.
///
/// An XLSX workbook's first worksheet is read in the CSV layout (stored cell values; dates
/// as dates; formulas are not evaluated), after a check that it unpacks within the body
/// limit.
/// One row per enterprise: `enterprise_id`, its master data (`name, industry, region`), and
/// where given a classification decision (`class_from, class_to, catalogue_class,
/// capacity_cut_overdue, card, class_document`) and a year's assessment (`assessment_year`,
/// `steel_processes` as in a batch, `cement_plant, cement_commissioned, cement_kwh_per_t,
/// aluminum_kwh_per_t, energy_intensity_value, energy_intensity_limit, water_quota_m3,
/// water_meets_standard, assessment_document`). Every bad cell is reported (`pointer`
/// `/rows/<line>`, `column`), and then nothing is recorded.
#[utoipa::path(
    post, path = "/v1/enterprises/import",
    tag = "registry",
    request_body(description = "CSV, or an XLSX workbook (its first worksheet in the same layout)", content(
        (String = "text/csv"),
        (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    )),
    responses(
        (status = 200, description = "Every row recorded", body = Imported),
        (status = 400, description = "An empty body", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over the configured limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Neither CSV nor XLSX", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad cells, each with its row and column (the first `limits.max_listed_errors`, then the count); a workbook reaching past the registry's columns or rows, named by its cell; nothing recorded", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Every heavy place is taken, or the key holds its share; see `Retry-After`", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn import_enterprises(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let imported = import(&request, payload, &state).await;
    // What the file and its records held is given back, answered or refused.
    crate::memory::release_freed();
    imported
}

async fn import(
    request: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> Result<HttpResponse, ApiError> {
    let content_type = super::body::content_type(request);
    let essence = content_type.split(';').next().unwrap_or("").trim();
    let csv =
        crate::batch::Format::from_content_type(content_type) == Some(crate::batch::Format::Csv);
    let workbook = essence.eq_ignore_ascii_case(xlsx::MEDIA_TYPE);
    if !csv && !workbook {
        return Err(ApiError::UnsupportedMediaType(format!(
            "`{content_type}` is not a registry file; send text/csv or {}",
            xlsx::MEDIA_TYPE
        )));
    }
    // A registry file is a bulk body, bounded like a simulation's, read and checked on one
    // of the heavy places (what it holds in memory is counted with theirs).
    let _place = state.heavy_permit(request, "registry imports")?;
    let limit = state.simulation_limits.body_limit_bytes;
    let body = read_body(request, payload, limit, state).await?.freeze();
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::EmptyBody);
    }
    let body = match workbook {
        true => {
            let columns = crate::registry::import::header().len();
            let read = move || xlsx::to_csv(&body, limit as u64, columns);
            let csv = actix_web::rt::task::spawn_blocking(read)
                .await
                .map_err(|_| ApiError::Internal)?
                .map_err(|e| ApiError::Invalid(vec![e]))?;
            bytes::Bytes::from(csv)
        }
        false => body,
    };
    let most = state.limits.max_listed_errors;
    let records = crate::registry::import::read(&body)
        .map_err(|errors| ApiError::invalid_listing(errors, most))?;
    let mut ids: Vec<&str> = records.iter().map(|(id, _)| id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let named: HashSet<&str> = records
        .iter()
        .filter(|(_, r)| matches!(r, Record::Master { .. }))
        .map(|(id, _)| id.as_str())
        .collect();
    let mut unknown = Vec::new();
    if ids.len() > named.len() {
        let registry = state.registry.current(&state.database).await?;
        for id in ids.iter().filter(|id| !named.contains(**id)) {
            if registry.history(id).and_then(|h| h.master()).is_none() {
                unknown.push(crate::wire::problem::FieldError::note(format!(
                    "`{id}` is neither in the registry nor given a name and industry in the file"
                )));
            }
        }
    }
    if !unknown.is_empty() {
        return Err(ApiError::invalid_listing(unknown, most));
    }
    store::append_all(&state.database, &records, &Caller::name(request)).await?;
    Ok(HttpResponse::Ok().json(Imported {
        enterprises: ids.len(),
        changes: records.len(),
    }))
}
