//! Builds the service, so `main` and the tests start the very same app.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::{from_fn, Next};
use actix_web::{web, App, HttpMessage, HttpServer};
use actix_web_prom::PrometheusMetricsBuilder;
use tracing_actix_web::{RequestId, TracingLogger};

use crate::api::{self, AppState, Limits, Metrics};
use crate::configuration::Settings;
use crate::tariff::{load_dir, LoadError, TariffSet};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Tariffs(#[from] LoadError),
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: String,
        source: std::io::Error,
    },
    #[error("cannot set up metrics: {0}")]
    Metrics(String),
}

pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Loads and validates the tariffs, binds the listener, and builds the server.
    pub fn build(settings: &Settings) -> Result<Application, StartupError> {
        let tariffs = load_dir(&settings.tariffs.dir)?;
        let tariffs = Arc::new(TariffSet::new(tariffs, &settings.tariffs.default)?);
        for t in tariffs.iter() {
            tracing::info!(tariff = t.id(), version = %t.meta.version, digest = %t.digest, "tariff loaded");
        }
        let address = format!("{}:{}", settings.server.host, settings.server.port);
        let bind = |source| StartupError::Bind {
            address: address.clone(),
            source,
        };
        let listener = TcpListener::bind(&address).map_err(bind)?;
        let port = listener.local_addr().map_err(bind)?.port();

        let prometheus = PrometheusMetricsBuilder::new("tariffd")
            .mask_unmatched_patterns("UNMATCHED")
            .build()
            .map_err(|e| StartupError::Metrics(e.to_string()))?;
        let metrics = Metrics::new(prometheus.registry.clone())
            .map_err(|e| StartupError::Metrics(e.to_string()))?;
        let state = web::Data::new(AppState {
            tariffs,
            limits: Limits {
                body_limit_bytes: settings.server.body_limit_bytes,
            },
            batch_limits: crate::batch::Limits {
                max_line_bytes: settings.batch.max_line_bytes,
                max_lines: settings.batch.max_lines,
            },
            simulation_limits: crate::api::SimulationLimits {
                max_population: settings.simulation.max_population,
                body_limit_bytes: settings.simulation.body_limit_bytes,
            },
            metrics,
        });
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(from_fn(request_id_header))
                .wrap(prometheus.clone())
                .wrap(TracingLogger::default())
                .app_data(state.clone())
                .configure(api::configure)
                .default_service(web::to(api::not_found))
        })
        .listen(listener)
        .map_err(bind)?;
        if settings.server.workers > 0 {
            server = server.workers(settings.server.workers);
        }
        tracing::info!(%address, port, "listening");
        Ok(Application {
            port,
            server: server.run(),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Echoes the request id of the tracing span, so a client can quote it.
async fn request_id_header(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = request.extensions().get::<RequestId>().copied();
    let mut response = next.call(request).await?;
    if let Some(value) = id.and_then(|id| HeaderValue::from_str(&id.to_string()).ok()) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("x-request-id"), value);
    }
    Ok(response)
}
