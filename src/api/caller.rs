//! `GET /v1/caller`: who the presented key is and what it may do, so a client (the
//! workbench among them) offers only what will not be refused.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use super::problem::ApiError;
use super::routes::{presented, Caller};
use super::AppState;
use crate::access::{Need, Role};
use crate::simulation::kept::Viewer;

#[derive(Debug, Serialize, ToSchema)]
pub struct CallerView {
    /// The key's name as configured (never the key); null when access control is off.
    pub key: Option<String>,
    /// What the key may call; `admin` may call everything. Every role when access control is
    /// off.
    pub roles: Vec<Role>,
    /// Whether the server asks for keys at all.
    pub access_control: bool,
}

/// The caller: its key's name and roles.
#[utoipa::path(
    get, path = "/v1/caller",
    tag = "operations",
    responses((status = 200, description = "The presented key's name and roles", body = CallerView)),
)]
pub async fn get_caller(request: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(CallerView {
        key: Caller::of(&request),
        roles: state.access.roles_of(presented(request.headers())),
        access_control: state.access.enabled(),
    })
}

/// The caller's key name, and whether it is an admin's: whose kept populations it sees.
pub struct Looker {
    key: String,
    admin: bool,
}

impl Looker {
    pub fn of(request: &HttpRequest, state: &AppState) -> Looker {
        let roles = state.access.roles_of(presented(request.headers()));
        Looker {
            key: Caller::name(request),
            admin: roles.contains(&Role::Admin),
        }
    }

    pub fn viewer(&self) -> Viewer<'_> {
        Viewer {
            key: &self.key,
            admin: self.admin,
        }
    }
}

/// Refuses a caller whose key lacks `role`, for a route that reaches data another route
/// guards with it (`why` says what).
pub fn also_needs(
    request: &HttpRequest,
    state: &AppState,
    role: Role,
    why: &str,
) -> Result<(), ApiError> {
    match state
        .access
        .check(Need::Role(role), presented(request.headers()))
    {
        Ok(_) => Ok(()),
        Err(ApiError::Forbidden(refusal)) => Err(ApiError::Forbidden(format!("{refusal}: {why}"))),
        Err(other) => Err(other),
    }
}
