//! Who may do what. API keys come from configuration as SHA-256 hashes (the keys themselves
//! are never stored or logged), are compared in constant time, and carry roles; each route
//! of the route table declares what it needs.

use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::wire::problem::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Tariffs, parameters, surcharge look-ups.
    Reader,
    /// Bills and batches.
    Biller,
    /// Simulations and draft validation.
    Analyst,
    /// Writes to the enterprise registry.
    Registrar,
    /// Tariff reloads; an admin may also do everything else.
    Admin,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Reader,
        Role::Biller,
        Role::Analyst,
        Role::Registrar,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        crate::names::name_of(&self)
    }
}

/// One configured key: its name (for logs), the SHA-256 of the key, and its roles. Nothing
/// else: a field the server does not know (`enabled = false`) would be silently ignored.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
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

/// A key the configuration gets wrong: the server does not start on it.
#[derive(Debug, thiserror::Error)]
pub enum BadKey {
    #[error("auth.keys `{0}`: sha256 must be 64 hex digits (the SHA-256 of the key)")]
    Hash(String),
    #[error("auth.keys `{0}`: a key needs at least one role (reader, biller, analyst, registrar, admin); remove the entry to withdraw a key")]
    NoRoles(String),
    #[error("auth.keys `{0}`: two keys have this name; the access log could not tell them apart")]
    SameName(String),
    #[error(
        "auth.keys `{0}` and `{1}` have the same sha256: one key cannot have two sets of roles"
    )]
    SameHash(String, String),
}

/// What a caller meets when the server has no key at all: how to add one, or to run open.
const NO_KEYS: &str = "this server has no API keys configured, so no key can be accepted: add one under [[auth.keys]] (its SHA-256 from `tariffd hash-key`), or for local use only start it with TARIFFD_AUTH__ENABLED=false";

impl Access {
    pub fn new(enabled: bool, keys: &[KeySettings]) -> Result<Access, BadKey> {
        let mut checked: Vec<Key> = Vec::with_capacity(keys.len());
        for k in keys {
            let hash = parse_hex(&k.sha256).ok_or_else(|| BadKey::Hash(k.name.clone()))?;
            if k.roles.is_empty() {
                return Err(BadKey::NoRoles(k.name.clone()));
            }
            if let Some(same) = checked.iter().find(|c| c.name == k.name) {
                return Err(BadKey::SameName(same.name.clone()));
            }
            if let Some(same) = checked.iter().find(|c| c.hash == hash) {
                return Err(BadKey::SameHash(same.name.clone(), k.name.clone()));
            }
            checked.push(Key {
                name: k.name.clone(),
                hash,
                roles: k.roles.clone(),
            });
        }
        Ok(Access {
            enabled,
            keys: checked,
        })
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    pub fn key_count(&self) -> usize {
        self.keys.len()
    }

    /// The roles of the key presented (none for an unknown one); every role when access
    /// control is off.
    pub fn roles_of(&self, presented: Option<&str>) -> Vec<Role> {
        match (self.enabled, presented.and_then(|p| self.find(p))) {
            (false, _) => Role::ALL.to_vec(),
            (true, Some(key)) => key.roles.clone(),
            (true, None) => Vec::new(),
        }
    }

    /// The key whose hash is the presented key's. Every stored hash is compared, in
    /// constant time, whichever matches.
    fn find(&self, presented: &str) -> Option<&Key> {
        let hash: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let mut found = None;
        for key in &self.keys {
            if bool::from(key.hash.ct_eq(&hash)) {
                found = Some(key);
            }
        }
        found
    }

    /// Checks the key a request presents (if any) against what its route needs.
    /// Lets the caller through if its key may do what `need` says; answers the key's name
    /// (none where no key was asked for), for the access log.
    pub fn check(&self, need: Need, presented: Option<&str>) -> Result<Option<&str>, ApiError> {
        if !self.enabled || need == Need::Public {
            return Ok(None);
        }
        if self.keys.is_empty() {
            return Err(ApiError::Unauthorized(NO_KEYS.into()));
        }
        let presented = presented.ok_or_else(|| {
            ApiError::Unauthorized("send an API key: `Authorization: Bearer <key>`".into())
        })?;
        let key = self
            .find(presented)
            .ok_or_else(|| ApiError::Unauthorized("the API key is not valid".into()))?;
        match need {
            Need::Role(role) if !key.roles.iter().any(|r| *r == role || *r == Role::Admin) => {
                Err(ApiError::Forbidden(format!(
                    "the key `{}` lacks the role `{}` this needs",
                    key.name,
                    role.as_str()
                )))
            }
            _ => Ok(Some(&key.name)),
        }
    }
}

/// What a route asks of the caller. Every route declares one; there is no default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Health and documentation.
    Public,
    /// Any valid key (metrics, the caller, exports, and unrouted paths, which then answer 404
    /// or 405).
    AnyKey,
    Role(Role),
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
    fn keys_without_roles_or_sharing_a_name_or_hash_stop_the_start() {
        let key = |name: &str, secret: &str, roles: Vec<Role>| KeySettings {
            name: name.into(),
            sha256: hash_key(secret),
            roles,
        };
        let refused = |keys: &[KeySettings]| Access::new(true, keys).err().unwrap().to_string();
        let error = refused(&[key("grid", "g", vec![])]);
        assert!(
            error.contains("`grid`") && error.contains("role"),
            "{error}"
        );
        let error = refused(&[
            key("grid", "g", vec![Role::Biller]),
            key("grid", "h", vec![Role::Reader]),
        ]);
        assert!(
            error.contains("`grid`") && error.contains("name"),
            "{error}"
        );
        let error = refused(&[
            key("grid", "same", vec![Role::Biller]),
            key("bureau", "same", vec![Role::Admin]),
        ]);
        assert!(error.contains("`grid` and `bureau`"), "{error}");
        let error = refused(&[KeySettings {
            sha256: "00".into(),
            ..key("short", "s", vec![Role::Reader])
        }]);
        assert!(
            error.contains("`short`") && error.contains("64 hex"),
            "{error}"
        );
    }

    #[test]
    fn without_any_key_configured_the_refusal_says_how_to_add_one() {
        let open_door = Access::new(true, &[]).unwrap();
        match open_door.check(Need::AnyKey, Some("anything")) {
            Err(ApiError::Unauthorized(detail)) => {
                assert!(detail.contains("no API keys configured"), "{detail}");
                assert!(
                    detail.contains("auth.keys") && detail.contains("TARIFFD_AUTH__ENABLED=false")
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(open_door.check(Need::Public, None).is_ok());
    }

    #[test]
    fn keys_are_checked_against_what_the_route_needs() {
        let a = access();
        let none = None;
        let reader = Some("r");
        let admin = Some("a");
        assert!(a.check(Need::Public, none).is_ok());
        assert!(matches!(
            a.check(Need::AnyKey, none),
            Err(ApiError::Unauthorized(_))
        ));
        assert!(matches!(
            a.check(Need::AnyKey, Some("x")),
            Err(ApiError::Unauthorized(_))
        ));
        assert!(a.check(Need::Role(Role::Reader), reader).is_ok());
        assert!(matches!(
            a.check(Need::Role(Role::Biller), reader),
            Err(ApiError::Forbidden(_))
        ));
        assert!(a.check(Need::Role(Role::Admin), admin).is_ok());
        assert!(
            a.check(Need::Role(Role::Biller), admin).is_ok(),
            "admin may do all"
        );
        assert!(a.check(Need::AnyKey, reader).is_ok());
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
