//! Who may do what. API keys come from configuration as SHA-256 hashes (the keys themselves
//! are never stored or logged), are compared in constant time, and carry roles; one table
//! says which role each route needs.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::web;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::problem::ApiError;
use super::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Tariffs, parameters, surcharge look-ups.
    Reader,
    /// Bills and batches.
    Biller,
    /// Simulations and draft validation.
    Analyst,
    /// Tariff reloads; an admin may also do everything else.
    Admin,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Biller => "biller",
            Role::Analyst => "analyst",
            Role::Admin => "admin",
        }
    }
}

/// One configured key: its name (for logs), the SHA-256 of the key, and its roles.
#[derive(Debug, Clone, Deserialize)]
pub struct KeySettings {
    pub name: String,
    /// 64 hex digits: `printf %s "$KEY" | sha256sum`, or `tariffd hash-key`.
    pub sha256: String,
    pub roles: Vec<Role>,
}

struct Key {
    name: String,
    hash: [u8; 32],
    roles: Vec<Role>,
}

/// The keys in force, or none at all when access control is off.
pub struct Access {
    enabled: bool,
    keys: Vec<Key>,
}

#[derive(Debug, thiserror::Error)]
#[error("auth.keys `{name}`: sha256 must be 64 hex digits (the SHA-256 of the key)")]
pub struct BadKey {
    name: String,
}

impl Access {
    pub fn new(enabled: bool, keys: &[KeySettings]) -> Result<Access, BadKey> {
        let keys = keys
            .iter()
            .map(|k| {
                let hash = parse_hex(&k.sha256).ok_or_else(|| BadKey {
                    name: k.name.clone(),
                })?;
                Ok(Key {
                    name: k.name.clone(),
                    hash,
                    roles: k.roles.clone(),
                })
            })
            .collect::<Result<_, BadKey>>()?;
        Ok(Access { enabled, keys })
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    pub fn key_count(&self) -> usize {
        self.keys.len()
    }

    /// Checks a request's key against what `method path` needs.
    fn check(&self, method: &Method, path: &str, presented: Option<&str>) -> Result<(), ApiError> {
        let need = need(method, path);
        if !self.enabled || need == Need::Public {
            return Ok(());
        }
        let presented = presented.ok_or_else(|| {
            ApiError::Unauthorized("send an API key: `Authorization: Bearer <key>`".into())
        })?;
        let hash: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        // Every stored hash is compared, in constant time, whichever matches.
        let mut found = None;
        for key in &self.keys {
            if bool::from(key.hash.ct_eq(&hash)) {
                found = Some(key);
            }
        }
        let key = found.ok_or_else(|| ApiError::Unauthorized("the API key is not valid".into()))?;
        match need {
            Need::Role(role) if !key.roles.iter().any(|r| *r == role || *r == Role::Admin) => {
                Err(ApiError::Forbidden(format!(
                    "the key `{}` lacks the role `{}` this needs",
                    key.name,
                    role.as_str()
                )))
            }
            _ => Ok(()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    Public,
    /// Any valid key (metrics, and unknown routes, which then answer 404).
    AnyKey,
    Role(Role),
}

/// The one table of what each route needs.
fn need(method: &Method, path: &str) -> Need {
    match (method, path) {
        (_, "/health/live" | "/health/ready" | "/openapi.json" | "/docs") => Need::Public,
        (_, p) if p.starts_with("/docs/") => Need::Public,
        (&Method::POST, "/v1/bills" | "/v1/bills/batch") => Need::Role(Role::Biller),
        (&Method::POST, "/v1/simulations" | "/v1/tariffs/validate") => Need::Role(Role::Analyst),
        (&Method::POST, "/v1/admin/reload") => Need::Role(Role::Admin),
        (&Method::GET, "/v1/surcharges") => Need::Role(Role::Reader),
        (&Method::GET, p) if p == "/v1/tariffs" || p.starts_with("/v1/tariffs/") => {
            Need::Role(Role::Reader)
        }
        _ => Need::AnyKey,
    }
}

/// `Authorization: Bearer <key>` or `X-API-Key: <key>`.
fn presented(request: &ServiceRequest) -> Option<&str> {
    let headers = request.headers();
    if let Some(value) = headers.get("authorization").and_then(|v| v.to_str().ok()) {
        return value.strip_prefix("Bearer ").map(str::trim);
    }
    headers.get("x-api-key").and_then(|v| v.to_str().ok())
}

fn parse_hex(text: &str) -> Option<[u8; 32]> {
    let text = text.trim();
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// The SHA-256 of a key as configuration holds it.
pub fn hash_key(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Middleware: refuses a request before any handler reads it.
pub async fn authorize(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if let Some(state) = request.app_data::<web::Data<AppState>>() {
        state
            .access
            .check(request.method(), request.path(), presented(&request))?;
    }
    next.call(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access() -> Access {
        let key = |name: &str, roles: Vec<Role>| KeySettings {
            name: name.into(),
            sha256: hash_key(name),
            roles,
        };
        Access::new(
            true,
            &[key("r", vec![Role::Reader]), key("a", vec![Role::Admin])],
        )
        .unwrap()
    }

    #[test]
    fn keys_are_checked_against_the_route_table() {
        let a = access();
        let get = Method::GET;
        assert!(a.check(&get, "/health/ready", None).is_ok());
        assert!(a.check(&get, "/docs/index.html", None).is_ok());
        assert!(matches!(
            a.check(&get, "/v1/tariffs", None),
            Err(ApiError::Unauthorized(_))
        ));
        assert!(matches!(
            a.check(&get, "/v1/tariffs", Some("x")),
            Err(ApiError::Unauthorized(_))
        ));
        assert!(a
            .check(&get, "/v1/tariffs/cn/parameters", Some("r"))
            .is_ok());
        assert!(matches!(
            a.check(&Method::POST, "/v1/bills", Some("r")),
            Err(ApiError::Forbidden(_))
        ));
        assert!(a
            .check(&Method::POST, "/v1/admin/reload", Some("a"))
            .is_ok());
        assert!(
            a.check(&Method::POST, "/v1/bills", Some("a")).is_ok(),
            "admin may do all"
        );
        assert!(a.check(&get, "/metrics", Some("r")).is_ok());
    }

    #[test]
    fn a_malformed_hash_is_refused_naming_the_key() {
        let bad = KeySettings {
            name: "grid".into(),
            sha256: "abc".into(),
            roles: vec![],
        };
        let error = Access::new(true, &[bad]).err().unwrap();
        assert!(error.to_string().contains("grid"));
    }
}
