//! RFC 9457 problem details: every error the service returns, mapped in one place to a
//! status, a code and a title.

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
    /// Where the problem is, in whichever terms the error gives: column, parameter or pointer.
    pub fn place(&self) -> &str {
        self.column
            .as_deref()
            .or(self.parameter.as_deref())
            .or(self.pointer.as_deref())
            .unwrap_or("/")
    }

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
    /// A dependency (the database) does not answer; pure pricing goes on.
    #[error("{0}")]
    Unavailable(String),
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

    /// Every problem of a file, the first `most` listed and the rest counted, so that a
    /// large bad file is answered in a page, not in as many bytes as it sent.
    pub fn invalid_listing(mut errors: Vec<FieldError>, most: usize) -> ApiError {
        let total = errors.len();
        if total > most {
            errors.truncate(most);
            errors.push(FieldError::note(format!(
                "{total} problems in all; the first {most} are listed (`limits.max_listed_errors`)"
            )));
        }
        ApiError::Invalid(errors)
    }

    pub fn query(parameter: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::Invalid(vec![FieldError::query(parameter, message)])
    }

    /// The one table of codes, statuses and titles.
    pub fn meta(&self) -> (u16, &'static str, &'static str) {
        match self {
            ApiError::MalformedJson(_) => (400, "malformed-json", "The body is not valid JSON"),
            ApiError::MalformedCsv(_) => (400, "malformed-csv", "The row is not valid CSV"),
            ApiError::RequestTimeout(_) => {
                (408, "request-timeout", "The body did not arrive in time")
            }
            ApiError::EmptyBody => (400, "empty-body", "The request body is empty"),
            ApiError::BadRequest(_) => (400, "bad-request", "The request could not be read"),
            ApiError::Invalid(_) => (422, "invalid-request", "The request is invalid"),
            ApiError::PayloadTooLarge { .. } => (413, "payload-too-large", "The body is too large"),
            ApiError::NotFound(_) => (404, "not-found", "Not found"),
            ApiError::Unavailable(_) => (503, "unavailable", "A service this needs is unavailable"),
            ApiError::UnsupportedMediaType(_) => {
                (415, "unsupported-media-type", "Unsupported media type")
            }
            ApiError::MethodNotAllowed(_) => (405, "method-not-allowed", "Method not allowed"),
            ApiError::Unauthorized(_) => (401, "unauthorized", "A valid API key is needed"),
            ApiError::Forbidden(_) => (403, "forbidden", "The API key does not allow this"),
            ApiError::TooBusy { .. } => (
                429,
                "too-busy",
                "Too many requests of this kind are running",
            ),
            ApiError::ReloadFailed(_) => (409, "reload-failed", "The tariffs were not reloaded"),
            ApiError::Internal => (500, "internal", "Internal error"),
        }
    }

    /// Every field a request got wrong, on one line (`pointer: message; …`).
    pub fn one_line(&self) -> String {
        match self {
            ApiError::Invalid(errors) => errors
                .iter()
                .map(|e| format!("{}: {}", e.place(), e.message))
                .collect::<Vec<_>>()
                .join("; "),
            other => other.to_string(),
        }
    }

    pub fn problem(&self) -> Problem {
        let (status, code, title) = self.meta();
        Problem {
            kind: format!("/problems/{code}"),
            title: title.to_string(),
            status,
            detail: self.to_string(),
            errors: match self {
                ApiError::Invalid(errors) | ApiError::ReloadFailed(errors) => errors.clone(),
                _ => Vec::new(),
            },
        }
    }
}

/// The one wording of an unknown tariff id, naming those that are loaded.
pub fn unknown_tariff(tariffs: &crate::tariff::TariffSet) -> String {
    format!("unknown tariff; loaded: {}", tariffs.ids().join(", "))
}
