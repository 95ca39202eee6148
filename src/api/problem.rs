//! Problems as HTTP answers: the status and headers of each, and a problem+json body for
//! errors answered without one.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, ResponseError};
use futures_util::FutureExt;

pub use crate::wire::problem::{ApiError, FieldError, Problem};

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.meta().0).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        if matches!(self, ApiError::Internal) {
            tracing::error!("internal error answered with 500");
        }
        let mut response = HttpResponse::build(self.status_code());
        match self {
            ApiError::Unauthorized(_) => {
                response.insert_header(("www-authenticate", "Bearer"));
            }
            ApiError::MethodNotAllowed(methods) => {
                response.insert_header(("allow", methods.as_str()));
            }
            ApiError::TooBusy { retry_after, .. } => {
                response.insert_header(("retry-after", retry_after.to_string()));
            }
            // The rest of the body is not read: the connection cannot carry another request.
            ApiError::RequestTimeout(_) | ApiError::PayloadTooLarge { .. } => {
                response.force_close();
            }
            _ => {}
        }
        response
            .content_type("application/problem+json")
            .json(self.problem())
    }
}

/// Middleware: an error answered without a body (a documentation page not found, an
/// extractor's refusal) gets a problem+json body like every other.
pub async fn bare_errors(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let response = next.call(request).await?;
    let status = response.status();
    let bare = (status.is_client_error() || status.is_server_error())
        && !response.headers().contains_key(header::CONTENT_TYPE);
    if !bare {
        return Ok(response.map_into_left_body());
    }
    let (request, bare_response) = response.into_parts();
    let reason = status.canonical_reason().unwrap_or("Error");
    let mut replacement = HttpResponse::build(status);
    for name in [header::ALLOW, header::RETRY_AFTER, header::WWW_AUTHENTICATE] {
        if let Some(value) = bare_response.headers().get(&name) {
            replacement.insert_header((name, value.clone()));
        }
    }
    let problem = Problem {
        kind: format!("/problems/http-{}", status.as_u16()),
        title: reason.to_string(),
        status: status.as_u16(),
        detail: format!("{reason} ({} {})", request.method(), request.path()),
        errors: Vec::new(),
    };
    let replacement = replacement
        .content_type("application/problem+json")
        .json(problem);
    Ok(ServiceResponse::new(request, replacement).map_into_right_body())
}

/// Route middleware: a panic that reaches a handler's future is answered 500 problem+json
/// quoting the request id, so one request's bug costs neither the worker nor its other
/// connections. (On a route, not the app: the request is held for the answer, and a request
/// held while the app still routes it cannot be routed.)
pub async fn panics(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let http = request.request().clone();
    match std::panic::AssertUnwindSafe(next.call(request))
        .catch_unwind()
        .await
    {
        Ok(response) => Ok(response?.map_into_left_body()),
        Err(panic) => {
            let why = panic
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
                .unwrap_or("");
            let id = request_id(&http).unwrap_or_else(|| "-".into());
            tracing::error!(request_id = %id, panic = why, "a request panicked; answered 500");
            let mut problem = ApiError::Internal.problem();
            problem.detail = format!(
                "an internal error stopped this request; it has been logged under request id {id}"
            );
            let response = HttpResponse::InternalServerError()
                .content_type("application/problem+json")
                .json(problem);
            Ok(ServiceResponse::new(http, response).map_into_right_body())
        }
    }
}

/// The request's id: the client's `x-request-id` when it is a token of at most 64 letters,
/// digits, `-`, `_` or `.` (anything else could forge log lines), else the tracing span's.
pub fn request_id(request: &HttpRequest) -> Option<String> {
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    let client = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.chars().all(plain));
    client.map(str::to_string).or_else(|| {
        let span = request
            .extensions()
            .get::<tracing_actix_web::RequestId>()
            .copied();
        span.map(|id| id.to_string())
    })
}
