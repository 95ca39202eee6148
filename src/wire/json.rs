//! Exact JSON with errors that point at the field: syntax errors are 400, type and value
//! errors 422 with the RFC 6901 pointer of the offending field.

use serde::de::DeserializeOwned;

use super::problem::ApiError;

/// Parses a JSON object into `T`, as [`parse_json`]; any other JSON value is a 422 (serde
/// would read a struct from an array of its fields, in order).
pub fn parse_object<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') | None => parse_json(bytes),
        Some(_) if serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_err() => {
            parse_json(bytes)
        }
        Some(_) => Err(ApiError::field("/", "must be a JSON object")),
    }
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
