//! Reading request bodies: a size limit, then exact JSON with errors that point at the field.

use actix_web::{web, HttpRequest};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use super::problem::ApiError;

/// A request body, decompressed as its `Content-Encoding` says.
pub type Body = actix_web::dev::Decompress<actix_web::dev::Payload>;

pub fn decompressed(request: &HttpRequest, payload: web::Payload) -> Body {
    actix_web::dev::Decompress::from_headers(payload.into_inner(), request.headers())
}

/// The request's `Content-Type`, or `""`.
pub fn content_type(request: &HttpRequest) -> &str {
    request
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// Collects the body, refusing it as soon as it passes `limit` bytes (after decompression,
/// so a small compressed body cannot expand without bound).
pub async fn read_body(
    request: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<web::BytesMut, ApiError> {
    let mut payload = decompressed(request, payload);
    let declared = request
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let mut body = web::BytesMut::with_capacity(declared.unwrap_or(1024).min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest(e.to_string()))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Parses JSON into `T`: syntax errors are 400, type and value errors 422 with the pointer of
/// the offending field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::EmptyBody);
    }
    // The fast path (UTF-8 checked once for the whole body, not string by string); only a
    // body that fails is parsed again to find where.
    if let Ok(Ok(value)) = std::str::from_utf8(bytes).map(serde_json::from_str) {
        return Ok(value);
    }
    serde_json::from_slice::<serde::de::IgnoredAny>(bytes)
        .map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let pointer = pointer_of(e.path());
        json_error(pointer, e.into_inner())
    })?;
    deserializer
        .end()
        .map_err(|e| json_error(String::new(), e))?;
    Ok(value)
}

fn json_error(pointer: String, error: serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    match error.classify() {
        Category::Data => {
            let message = strip_position(&error.to_string());
            // serde reports a missing field at its parent; point at the field.
            let pointer = match backquoted(&message, "missing field `") {
                Some(field) => format!("{pointer}/{}", escape(field)),
                None => pointer,
            };
            ApiError::field(
                if pointer.is_empty() {
                    "/".to_string()
                } else {
                    pointer
                },
                message,
            )
        }
        Category::Syntax | Category::Eof | Category::Io => {
            ApiError::MalformedJson(error.to_string())
        }
    }
}

/// `serde_json` appends " at line L column C"; the pointer says where better.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

fn backquoted<'m>(message: &'m str, prefix: &str) -> Option<&'m str> {
    let rest = message.strip_prefix(prefix)?;
    rest.find('`').map(|end| &rest[..end])
}

/// RFC 6901 pointer of a serde path.
pub fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut pointer = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => pointer.push_str(&format!("/{index}")),
            Segment::Map { key } => pointer.push_str(&format!("/{}", escape(key))),
            Segment::Enum { variant } => pointer.push_str(&format!("/{}", escape(variant))),
            Segment::Unknown => {}
        }
    }
    pointer
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}
