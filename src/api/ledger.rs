//! The bill ledger over HTTP: a `biller` issues bills (one, or a batch) and rebills after a
//! retroactive registry change; a `reader` reads what was issued.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::bills::request_of;
use super::body::read_body;
use super::problem::{ApiError, Problem};
use super::query::Query;
use super::routes::Caller;
use super::AppState;
use crate::bill::Options;
use crate::ledger::rebill::{self, Rebill};
use crate::ledger::store::{self, Filter, IssueError, Issued};
use crate::ledger::{Entry, Issuer};
use crate::period::parse_iso_date;
use crate::pricing::{price_request, tariff_for};
use crate::wire::json::parse_object;
use crate::wire::request::BillRequestBody;

/// Bills per page of a listing, unless asked otherwise, and at most.
const PAGE: u32 = 100;
const MAX_PAGE: u32 = 1_000;
/// Enterprises one rebill may name.
const MAX_REBILL_IDS: usize = 1_000;
/// Changed bills one rebill lists (and issues): with `issue=true`, the next call goes on
/// where this one stopped, since corrected bills are no longer looked at.
const MAX_REBILLS: usize = 10_000;
/// Bills a rebill reads from the ledger at a time.
const REBILL_PAGE: u32 = 1_000;

impl From<IssueError> for ApiError {
    fn from(error: IssueError) -> ApiError {
        match error {
            IssueError::KeyReused(_) => {
                ApiError::Invalid(vec![crate::wire::problem::FieldError::at(
                    "/",
                    error.to_string(),
                )])
            }
            IssueError::Store(e) => e.into(),
        }
    }
}

/// An issued bill: what it was priced on, who issued it and when, and (read one by one)
/// the request and the bill as issued.
#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerBill {
    #[schema(example = "bill-5f0c8e0d4b7a4b0f9f0a3c2b1d0e9f8a")]
    pub bill_id: String,
    pub enterprise_id: String,
    #[schema(value_type = String, format = Date)]
    pub period_start: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub period_end: NaiveDate,
    #[schema(value_type = String)]
    pub surcharge: rust_decimal::Decimal,
    #[schema(value_type = String)]
    pub total: rust_decimal::Decimal,
    pub tariff_id: String,
    pub tariff_digest: String,
    /// The enterprise's registry version the bill was filled from (absent: the request gave
    /// the classification itself).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry_version: Option<i64>,
    /// RFC 3339, UTC.
    pub issued_at: String,
    /// The name of the API key that issued it.
    pub issued_by: String,
    /// For a correction bill: the bill it corrects, and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub corrects: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// The request as sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub request: Option<serde_json::Value>,
    /// The bill as issued (as `POST /v1/bills` answers it).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub bill: Option<serde_json::Value>,
}

impl LedgerBill {
    fn of(entry: Entry, whole: bool) -> LedgerBill {
        let json = |text: &str| serde_json::from_str(text).ok();
        LedgerBill {
            request: whole.then(|| json(&entry.request)).flatten(),
            bill: whole.then(|| json(&entry.bill)).flatten(),
            bill_id: entry.bill_id,
            enterprise_id: entry.enterprise_id,
            period_start: entry.period_start,
            period_end: entry.period_end,
            surcharge: entry.surcharge,
            total: entry.total,
            tariff_id: entry.tariff_id,
            tariff_digest: entry.tariff_digest,
            registry_version: entry.registry_version,
            issued_at: entry.issued_at.to_rfc3339(),
            issued_by: entry.issued_by,
            corrects: entry.corrects,
            cause: entry.cause,
        }
    }
}

fn issuer(request: &HttpRequest) -> Issuer {
    Issuer::now(Caller::name(request))
}

/// The `Idempotency-Key` header, if sent: 1 to 255 visible ASCII characters.
fn idempotency_key(request: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = request.headers().get("idempotency-key") else {
        return Ok(None);
    };
    match value.to_str() {
        Ok(key) if (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic()) => {
            Ok(Some(key.to_string()))
        }
        _ => Err(ApiError::Invalid(vec![crate::wire::problem::FieldError {
            pointer: None,
            parameter: Some("Idempotency-Key".into()),
            column: None,
            message: "1 to 255 visible ASCII characters".into(),
        }])),
    }
}

fn location(bill_id: &str) -> String {
    format!("/v1/ledger/bills/{bill_id}")
}

/// Issue a bill into the ledger.
///
/// The request is a bill request as for `POST /v1/bills` (naming only `enterprise.id`
/// fills it from the registry). The bill is priced, stored with its request, the tariff
/// digest and the registry version it rests on, and answered `201` with its `Location`.
/// Bills are stored by `bill_id`, so the same bill is never stored twice: issuing it again
/// answers `200` with the stored one. With an `Idempotency-Key`, a retry (to any instance
/// sharing the database) answers the bill stored the first time, even if the registry has
/// changed since; the same key with another request is refused.
#[utoipa::path(
    post, path = "/v1/ledger/bills",
    tag = "ledger",
    request_body(content = BillRequestBody, content_type = "application/json"),
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "A client's key for this issue (1–255 visible ASCII characters): a retry with the same key returns the stored bill"),
    ),
    responses(
        (status = 201, description = "Issued now", body = LedgerBill,
            headers(("location" = String, description = "/v1/ledger/bills/{bill_id}"))),
        (status = 200, description = "Issued before (the same key, or the same bill): the stored bill", body = LedgerBill,
            headers(("location" = String, description = "/v1/ledger/bills/{bill_id}"), ("idempotent-replayed" = String, description = "`true`"))),
        (status = 400, description = "Malformed JSON or empty body", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over the configured limit", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field, an enterprise not in the registry, or a key used with another request", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn issue_bill(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    Query::parse(&request, &[])?.finish()?;
    let key = idempotency_key(&request)?;
    let text = read_body(&request, payload, state.limits.body_limit_bytes, &state).await?;
    let bill_request = request_of(&state, BillRequestBody::from_json(&text)?).await?;
    let tariff = tariff_for(&state.tariffs.current(), &bill_request)?.clone();
    let bill = price_request(&bill_request, &tariff, Options { trace: false })?;
    let mut entry = Entry::new(&text, &bill_request, &bill, &tariff, &issuer(&request));
    if let Some(key) = key {
        entry = entry.keyed(key, &text);
    }
    let (mut response, entry) = match store::issue(&state.database, entry).await? {
        Issued::New(entry) => {
            state.metrics.issued.with_label_values(&["new"]).inc();
            (HttpResponse::Created(), entry)
        }
        Issued::Before(entry) => {
            state.metrics.issued.with_label_values(&["replayed"]).inc();
            let mut response = HttpResponse::Ok();
            response.insert_header(("idempotent-replayed", "true"));
            (response, entry)
        }
    };
    Ok(response
        .insert_header((header::LOCATION, location(&entry.bill_id)))
        .json(LedgerBill::of(entry, true)))
}

/// Issue a batch of bills into the ledger.
///
/// The body and the answer are those of `POST /v1/bills/batch` (NDJSON or CSV, streamed, one
/// result per record, then the summary); bills are stored in groups of up to 8 192 (a group
/// closes early once, as more records come, its oldest bill has waited a second), each
/// before it is sent, so every bill in the answer is in the ledger and the answer comes in
/// bursts. Bills are stored by `bill_id`: sending the
/// batch again stores no bill twice. A database failure ends the answer without its
/// summary.
#[utoipa::path(
    post, path = "/v1/ledger/bills/batch",
    tag = "ledger",
    request_body(description = "NDJSON bill requests, or CSV rows", content(
        (String = "application/x-ndjson"),
        (String = "text/csv"),
    )),
    params(
        ("detail" = Option<String>, Query, description = "`totals`, `lines` (default) or `full`: what the answer shows of each bill (the ledger keeps line items)"),
        ("validate_only" = Option<bool>, Query, description = "Check every record; nothing is issued"),
        ("Content-Encoding" = Option<String>, Header, description = "`gzip` or `deflate` for a compressed body"),
        ("lang" = Option<String>, Query, description = "CSV output: `en` (default) or `zh`"),
        ("bom" = Option<bool>, Query, description = "CSV output: start with a UTF-8 byte-order mark"),
    ),
    responses(
        (status = 200, description = "One record per input record, then the summary", content(
            (String = "application/x-ndjson"),
            (String = "text/csv"),
        )),
        (status = 400, description = "An empty body", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Neither NDJSON nor CSV", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad query or CSV header", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Every heavy place is taken, or the key holds its share; see `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn issue_batch(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let issuer = issuer(&request);
    super::batch::run(request, payload, state, Some(issuer)).await
}

/// One issued bill, with its request and the bill as issued.
#[utoipa::path(
    get, path = "/v1/ledger/bills/{bill_id}",
    tag = "ledger",
    params(("bill_id" = String, Path, description = "The bill id", example = "bill-5f0c8e0d4b7a4b0f9f0a3c2b1d0e9f8a")),
    responses(
        (status = 200, description = "The bill as issued", body = LedgerBill),
        (status = 404, description = "No such bill in the ledger", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_bill(
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let not_found = || ApiError::NotFound(format!("no bill `{}` in the ledger", path.as_str()));
    if path.len() > 64 {
        return Err(not_found());
    }
    let entry = store::get(&state.database, &path)
        .await?
        .ok_or_else(not_found)?;
    Ok(HttpResponse::Ok().json(LedgerBill::of(entry, true)))
}

/// A page of issued bills.
#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerPage {
    pub bills: Vec<LedgerBill>,
    /// Pass as `after` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// Issued bills, by enterprise and period.
///
/// Ordered by enterprise, period start and bill id, a page at a time (without the request
/// and the bill; read one to see them).
#[utoipa::path(
    get, path = "/v1/ledger/bills",
    tag = "ledger",
    params(
        ("enterprise_id" = Option<String>, Query, description = "One enterprise's bills"),
        ("from" = Option<String>, Query, description = "Bills whose period ends on or after this day", example = "2020-01-01"),
        ("to" = Option<String>, Query, description = "Bills whose period starts on or before this day", example = "2020-12-31"),
        ("limit" = Option<u32>, Query, description = "Bills per page, 1–1000 (default 100)"),
        ("after" = Option<String>, Query, description = "The `next` of the page before"),
    ),
    responses(
        (status = 200, description = "A page of bills", body = LedgerPage),
        (status = 422, description = "A bad query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_bills(
    request: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let mut query = Query::parse(&request, &["enterprise_id", "from", "to", "limit", "after"])?;
    let short = |v: &str| (v.len() <= 64).then(|| v.to_string());
    let filter = Filter {
        enterprise_id: query.parsed("enterprise_id", "an enterprise id", short),
        from: query.parsed("from", "a date, YYYY-MM-DD", parse_iso_date),
        to: query.parsed("to", "a date, YYYY-MM-DD", parse_iso_date),
        after: query.parsed("after", "a bill id", short),
        limit: query
            .parsed("limit", "a number from 1 to 1000", |v| {
                v.parse().ok().filter(|n| (1..=MAX_PAGE).contains(n))
            })
            .unwrap_or(PAGE),
        ..Filter::default()
    };
    query.finish()?;
    let entries = store::list(&state.database, &filter).await?;
    let next = (entries.len() == filter.limit as usize)
        .then(|| entries.last().map(|e| e.bill_id.clone()))
        .flatten();
    Ok(HttpResponse::Ok().json(LedgerPage {
        bills: entries
            .into_iter()
            .map(|e| LedgerBill::of(e, false))
            .collect(),
        next,
    }))
}

/// Which issued bills a rebill looks at.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RebillBody {
    /// Bills whose period ends on or after this day (the day a retroactive decision
    /// takes effect); all when absent.
    #[schema(value_type = Option<String>, format = Date, example = "2020-10-01")]
    pub since: Option<NaiveDate>,
    /// Only these enterprises' bills (at most 1000); all when absent.
    pub enterprise_ids: Option<Vec<String>>,
}

/// What a rebill found (and, with `issue=true`, issued).
#[derive(Debug, Serialize, ToSchema)]
pub struct RebillReport {
    /// Issued bills looked at: those filled from the registry and not yet corrected.
    pub checked: u64,
    /// Those whose total the registry of now changes.
    pub changed: Vec<Rebill>,
    /// Correction bills stored now.
    pub issued: u64,
    /// More bills may change than one call lists (10 000): issue these, then call again.
    pub truncated: bool,
}

/// Find (and issue) the corrections a retroactive registry change calls for.
///
/// Every issued bill filled from the registry and not yet corrected is priced again from
/// its stored request on the registry as it stands (by the tariff that priced it); those
/// whose total moves are listed with the old and new totals and the cause. With
/// `issue=true` a correction bill is issued for each, naming the bill it corrects; the
/// originals stay as they were.
#[utoipa::path(
    post, path = "/v1/ledger/rebills",
    tag = "ledger",
    request_body(content = RebillBody, content_type = "application/json"),
    params(("issue" = Option<bool>, Query, description = "Issue the correction bills (default false: only list them)")),
    responses(
        (status = 200, description = "The bills that would change (and the corrections issued)", body = RebillReport),
        (status = 400, description = "Malformed JSON or empty body (send `{}` for every bill)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field or query parameter is invalid", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The database is unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn rebill(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let mut query = Query::parse(&request, &["issue"])?;
    let issue = query
        .parsed("issue", "true or false", |v| v.parse::<bool>().ok())
        .unwrap_or(false);
    query.finish()?;
    let body = read_body(&request, payload, state.limits.body_limit_bytes, &state).await?;
    let body: RebillBody = parse_object(&body)?;
    let ids = body.enterprise_ids;
    if ids.as_ref().is_some_and(|ids| ids.len() > MAX_REBILL_IDS) {
        return Err(ApiError::field(
            "/enterprise_ids",
            format!("at most {MAX_REBILL_IDS} enterprises"),
        ));
    }
    for (at, id) in ids.iter().flatten().enumerate() {
        crate::text::identifier(id)
            .map_err(|why| ApiError::field(format!("/enterprise_ids/{at}"), why))?;
    }
    let registry = state.registry.current(&state.database).await?;
    let issuer = issuer(&request);
    let mut report = RebillReport {
        checked: 0,
        changed: Vec::new(),
        issued: 0,
        truncated: false,
    };
    let scopes: Vec<Option<String>> = match ids {
        // An id named twice is looked at once: its changes are listed once.
        Some(mut ids) => {
            ids.sort_unstable();
            ids.dedup();
            ids.into_iter().map(Some).collect()
        }
        None => vec![None],
    };
    'scopes: for enterprise_id in scopes {
        let mut filter = Filter {
            enterprise_id,
            from: body.since,
            uncorrected: true,
            from_registry: true,
            limit: REBILL_PAGE,
            ..Filter::default()
        };
        loop {
            let page = store::list(&state.database, &filter).await?;
            for entry in &page {
                report.checked += 1;
                if report.changed.len() == MAX_REBILLS {
                    report.truncated = true;
                    break 'scopes;
                }
                if let Some(found) = rebill::check(entry, &registry, &state.tariffs, &issuer)? {
                    report.changed.push(found);
                }
            }
            if page.len() < REBILL_PAGE as usize {
                break;
            }
            filter.after = page.last().map(|e| e.bill_id.clone());
        }
    }
    if issue {
        let corrections: Vec<Entry> = report
            .changed
            .iter_mut()
            .filter_map(|r| {
                let correction = r.correction.take()?;
                r.correction_bill_id = Some(correction.bill_id.clone());
                Some(correction)
            })
            .collect();
        report.issued = store::insert(&state.database, &corrections).await?;
        state
            .metrics
            .issued
            .with_label_values(&["correction"])
            .inc_by(report.issued);
    }
    Ok(HttpResponse::Ok().json(report))
}
