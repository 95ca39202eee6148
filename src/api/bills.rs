//! `POST /v1/bills`: one enterprise's bill for one period.

use std::sync::Arc;

use actix_web::{web, HttpRequest, HttpResponse};

use super::body::read_body;
use super::problem::{ApiError, Problem};
use super::query::Query;
use super::AppState;
use crate::bill::{BillRequest, Options};
use crate::pricing::price_request;
use crate::registry::{fill, store, Snapshot};
use crate::tariff::Tariff;
use crate::wire::request::BillRequestBody;
use crate::wire::view::BillResponse;

/// Price one enterprise's period.
///
/// Returns every applied and superseded measure as a line item with its rule, rate, amount,
/// the documents it rests on and a sentence saying why. With `explain=full` the response
/// also carries the trace: every parameter read and every input used or missing.
#[utoipa::path(
    post, path = "/v1/bills",
    tag = "bills",
    request_body(content = BillRequestBody, content_type = "application/json"),
    params(
        ("explain" = Option<String>, Query, description = "`full` adds the audit trace"),
        ("tariff_digest" = Option<String>, Query, description = "Price with the tariff of this digest (`sha256:…`, as a bill reports it): the one in service or any that served here before, so a past bill can be priced again exactly"),
    ),
    responses(
        (status = 200, description = "The bill", body = BillResponse,
            headers(("x-engine-version" = String, description = "Engine version"), ("x-tariff-digest" = String, description = "Digest of the tariff that priced the bill"))),
        (status = 400, description = "Malformed JSON or empty body", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over the configured limit", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field, unknown tariff, or (naming only `enterprise.id`) an enterprise not in the registry", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The request names only its enterprise and the registry's database is unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_bill(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let mut query = Query::parse(&request, &["explain", "tariff_digest"])?;
    let trace = query.parsed("explain", "`full` or `lines`", |v| match v {
        "full" => Some(true),
        "lines" => Some(false),
        _ => None,
    });
    let digest = query.parsed("tariff_digest", "a tariff digest `sha256:…`", |v| {
        v.starts_with("sha256:").then(|| v.to_string())
    });
    query.finish()?;
    let body = read_body(&request, payload, state.limits.body_limit_bytes, &state).await?;
    let body = BillRequestBody::from_json(&body)?;
    let bill_request = request_of(&state, body).await?;
    let tariff = match digest {
        Some(digest) => archived(&state, &digest, &bill_request)?,
        None => crate::pricing::tariff_for(&state.tariffs.current(), &bill_request)?.clone(),
    };
    let options = Options {
        trace: trace.unwrap_or(false),
    };
    let bill = price_request(&bill_request, &tariff, options)?;
    state.metrics.bills.with_label_values(&[tariff.id()]).inc();
    Ok(HttpResponse::Ok()
        .insert_header(("x-engine-version", crate::ENGINE_VERSION))
        .insert_header(("x-tariff-digest", tariff.digest.as_str()))
        .json(BillResponse::new(&bill_request, &bill, &tariff)))
}

/// The engine's request for `body`, filled from the registry when it leaves its enterprise
/// to it (names no industry): only then is the database read.
pub async fn request_of(state: &AppState, body: BillRequestBody) -> Result<BillRequest, ApiError> {
    let registry = match fill::wanted(&body) {
        true => {
            let id = &body.enterprise.id;
            Some(Snapshot::of(id, store::history(&state.database, id).await?))
        }
        false => None,
    };
    fill::request(body, registry.as_ref()).map_err(ApiError::Invalid)
}

/// The tariff a past bill names by digest, from the set in service or any that served
/// before; a request naming a tariff must name that one.
fn archived(
    state: &AppState,
    digest: &str,
    request: &BillRequest,
) -> Result<Arc<Tariff>, ApiError> {
    let tariff = state.tariffs.by_digest(digest).ok_or_else(|| {
        ApiError::query(
            "tariff_digest",
            format!("no tariff with digest `{digest}` has served here"),
        )
    })?;
    match &request.tariff {
        Some(id) if id != tariff.id() => Err(ApiError::field(
            "/tariff",
            format!(
                "`{id}` is not the tariff of digest `{digest}`, which is `{}`",
                tariff.id()
            ),
        )),
        _ => Ok(tariff),
    }
}
