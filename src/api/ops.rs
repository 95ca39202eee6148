//! Health, metrics and the browsable API documentation.

use actix_web::{web, HttpResponse};
use prometheus::{Encoder, TextEncoder};
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` or `ready`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tariffs: Vec<String>,
    /// Readiness: `ok`, or `unavailable` when the database does not answer within a second.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<&'static str>,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/health/live", tag = "operations", security(()), responses((status = 200, body = Health)))]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok",
        tariffs: vec![],
        database: None,
    })
}

/// Readiness: tariffs are loaded and validated, and the database answers.
#[utoipa::path(get, path = "/health/ready", tag = "operations", security(()), responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let tariffs = state.tariffs.current().ids();
    let database = state.database.ping().await;
    let ready = !tariffs.is_empty() && database;
    let health = Health {
        status: if ready { "ready" } else { "not_ready" },
        tariffs,
        database: Some(if database { "ok" } else { "unavailable" }),
    };
    match ready {
        true => HttpResponse::Ok().json(health),
        false => HttpResponse::ServiceUnavailable().json(health),
    }
}

/// Prometheus metrics: request counts and latency histograms by endpoint, bills priced.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let running = state.heavy.in_use();
    state.metrics.heavy_in_flight.set(running as i64);
    let whole_reads = state.registry.whole_reads();
    state.metrics.registry_whole_reads.set(whole_reads as i64);
    let mut buffer = Vec::new();
    match TextEncoder::new().encode(&state.metrics.registry.gather(), &mut buffer) {
        Ok(()) => HttpResponse::Ok()
            .content_type(TextEncoder::new().format_type())
            .body(buffer),
        Err(e) => {
            tracing::error!(error = %e, "cannot encode metrics");
            HttpResponse::InternalServerError().finish()
        }
    }
}

/// `/docs` without the slash leads to the page.
pub async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header(("location", "/docs/"))
        .finish()
}
