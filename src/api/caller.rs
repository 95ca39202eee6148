//! `GET /v1/caller`: who the presented key is and what it may do, so a client (the
//! workbench among them) offers only what will not be refused.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use super::routes::{presented, Caller};
use super::AppState;
use crate::access::Role;

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
