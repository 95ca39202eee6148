//! RFC 9457 problem details: every error the service returns, mapped in one place.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

/// Where a problem is, and what it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// JSON pointer into the request body, e.g. `/electricity/kwh`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    /// Query parameter name, for problems in the query string.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    /// CSV column, for problems in a CSV batch record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    pub message: String,
}

impl FieldError {
    pub fn at(pointer: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            pointer: Some(pointer.into()),
            parameter: None,
            column: None,
            message: message.into(),
        }
    }

    /// A problem that is not at a place in the request (e.g. in a tariff file on disk).
    pub fn note(message: impl Into<String>) -> FieldError {
        FieldError {
            pointer: None,
            parameter: None,
            column: None,
            message: message.into(),
        }
    }

    pub fn query(parameter: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            pointer: None,
            parameter: Some(parameter.into()),
            column: None,
            message: message.into(),
        }
    }
}

/// `application/problem+json` body.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "/problems/invalid-request", "title": "The request is invalid", "status": 422,
    "detail": "1 field is invalid", "errors": [{ "pointer": "/electricity/kwh", "message": "must not be negative" }]
}))]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// Every way a request can fail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    #[error("the body is not well-formed JSON: {0}")]
    MalformedJson(String),
    #[error("the row is not well-formed CSV: {0}")]
    MalformedCsv(String),
    #[error("{0}")]
    RequestTimeout(String),
    #[error("the request body is empty")]
    EmptyBody,
    #[error("{}", describe_fields(.0))]
    Invalid(Vec<FieldError>),
    #[error("the body is larger than the limit of {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("the request could not be read: {0}")]
    BadRequest(String),
    #[error("this path takes {0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("too many {what} running; retry in {retry_after} s")]
    TooBusy {
        what: &'static str,
        retry_after: u64,
    },
    #[error("the tariff files on disk are invalid; the loaded set keeps serving")]
    ReloadFailed(Vec<FieldError>),
    #[error("an internal error occurred; it has been logged")]
    Internal,
}

fn describe_fields(errors: &[FieldError]) -> String {
    match errors {
        [one] => format!(
            "{}: {}",
            one.pointer
                .as_deref()
                .or(one.parameter.as_deref())
                .unwrap_or(""),
            one.message
        ),
        many => format!("{} fields are invalid", many.len()),
    }
}

impl ApiError {
    pub fn field(pointer: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::Invalid(vec![FieldError::at(pointer, message)])
    }

    pub fn query(parameter: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::Invalid(vec![FieldError::query(parameter, message)])
    }

    /// The one table of codes, statuses and titles.
    fn meta(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            ApiError::MalformedJson(_) => (
                StatusCode::BAD_REQUEST,
                "malformed-json",
                "The body is not valid JSON",
            ),
            ApiError::MalformedCsv(_) => (
                StatusCode::BAD_REQUEST,
                "malformed-csv",
                "The row is not valid CSV",
            ),
            ApiError::RequestTimeout(_) => (
                StatusCode::REQUEST_TIMEOUT,
                "request-timeout",
                "The body did not arrive in time",
            ),
            ApiError::EmptyBody => (
                StatusCode::BAD_REQUEST,
                "empty-body",
                "The request body is empty",
            ),
            ApiError::BadRequest(_) => (
                StatusCode::BAD_REQUEST,
                "bad-request",
                "The request could not be read",
            ),
            ApiError::Invalid(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-request",
                "The request is invalid",
            ),
            ApiError::PayloadTooLarge { .. } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "The body is too large",
            ),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not-found", "Not found"),
            ApiError::UnsupportedMediaType(_) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
            ),
            ApiError::MethodNotAllowed(_) => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
            ),
            ApiError::Unauthorized(_) => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "A valid API key is needed",
            ),
            ApiError::Forbidden(_) => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "The API key does not allow this",
            ),
            ApiError::TooBusy { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "too-busy",
                "Too many requests of this kind are running",
            ),
            ApiError::ReloadFailed(_) => (
                StatusCode::CONFLICT,
                "reload-failed",
                "The tariffs were not reloaded",
            ),
            ApiError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
            ),
        }
    }

    pub fn problem(&self) -> Problem {
        let (status, code, title) = self.meta();
        Problem {
            kind: format!("/problems/{code}"),
            title: title.to_string(),
            status: status.as_u16(),
            detail: self.to_string(),
            errors: match self {
                ApiError::Invalid(errors) | ApiError::ReloadFailed(errors) => errors.clone(),
                _ => Vec::new(),
            },
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.meta().0
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
