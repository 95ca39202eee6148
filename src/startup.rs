//! Builds the service, so `main` and the tests start the very same app.

use std::net::TcpListener;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::{from_fn, Next};
use actix_web::{web, App, HttpServer};
use tracing_actix_web::TracingLogger;

use std::time::Duration;

use tokio::signal::unix::{signal, SignalKind};

use crate::access::Access;
use crate::api::routes::Caller;
use crate::api::{self, AppState, Limits, Metrics};
use crate::configuration::Settings;
use crate::tariff::{LoadError, TariffStore};

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
    #[error(transparent)]
    Key(#[from] crate::access::BadKey),
    #[error("{0} (set the database with database.url or TARIFFD_DATABASE__URL)")]
    Database(#[from] crate::database::DatabaseError),
}

pub struct Application {
    port: u16,
    server: Server,
    reloader: web::Data<AppState>,
}

impl Application {
    /// Loads and validates the tariffs, binds the listener, and builds the server.
    pub async fn build(settings: &Settings) -> Result<Application, StartupError> {
        let tariffs = TariffStore::load(&settings.tariffs.dir, &settings.tariffs.default)?;
        let database = crate::database::Database::open(&settings.database.url).await?;
        for t in tariffs.current().iter() {
            tracing::info!(tariff = t.id(), version = %t.meta.version, digest = %t.digest, "tariff loaded");
        }
        let address = format!("{}:{}", settings.server.host, settings.server.port);
        let bind = |source| StartupError::Bind {
            address: address.clone(),
            source,
        };
        let listener = TcpListener::bind(&address).map_err(bind)?;
        let port = listener.local_addr().map_err(bind)?.port();

        let metrics = Metrics::new().map_err(|e| StartupError::Metrics(e.to_string()))?;
        let access = Access::new(settings.auth.enabled, &settings.auth.keys)?;
        announce(&access);
        let state = web::Data::new(AppState {
            tariffs,
            limits: Limits {
                body_limit_bytes: settings.server.body_limit_bytes,
                body_idle_timeout: Duration::from_secs(settings.limits.body_idle_timeout_seconds),
                body_read_timeout: Duration::from_secs(settings.limits.body_read_timeout_seconds),
                body_min_bytes: settings.limits.body_min_bytes,
                body_rate_window: Duration::from_secs(settings.limits.body_rate_window_seconds),
                upload_timeout: Duration::from_secs(settings.limits.upload_timeout_seconds),
                max_listed_errors: settings.limits.max_listed_errors,
            },
            batch_limits: crate::batch::Limits::of(&settings.batch, settings.batch.max_lines),
            simulation_limits: crate::api::SimulationLimits {
                max_population: settings.simulation.max_population,
                body_limit_bytes: settings.simulation.body_limit_bytes,
            },
            access,
            heavy: api::slots::Slots::new(
                settings.limits.max_concurrent_heavy,
                settings.limits.max_heavy_per_key,
                settings.limits.retry_after_seconds,
            ),
            exports: api::slots::Slots::new(
                settings.limits.max_concurrent_exports,
                settings.limits.max_concurrent_exports.div_ceil(2),
                settings.limits.retry_after_seconds,
            ),
            metrics,
            database,
            registry: Default::default(),
            populations: crate::simulation::kept::Kept::new(
                settings.simulation.kept_populations_bytes,
                settings.simulation.kept_populations_bytes_per_key,
            ),
        });
        let reloader = state.clone();
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(from_fn(api::problem::bare_errors))
                .wrap(from_fn(api::metrics::record))
                .wrap(from_fn(access_log))
                .wrap(TracingLogger::default())
                .app_data(state.clone())
                .configure(api::configure)
                .default_service(web::to(api::routes::not_found))
        })
        .on_connect(api::connection::on_connect)
        .client_request_timeout(Duration::from_millis(
            settings.limits.client_request_timeout_ms,
        ))
        .shutdown_timeout(settings.limits.shutdown_grace_seconds)
        .listen(listener)
        .map_err(bind)?;
        let workers = match settings.server.workers {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        // The cap is per worker; together they stay within `server.max_connections`, as far
        // as the descriptor limit carries it.
        let connections = api::connection::connections_carried(settings.server.max_connections);
        server = server
            .workers(workers)
            .max_connections((connections / workers).max(1));
        tracing::info!(%address, port, "listening");
        Ok(Application {
            port,
            server: server.run(),
            reloader,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server: `graceful` lets in-flight requests finish within the grace period.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped (SIGINT/SIGTERM: gracefully); SIGHUP reloads the tariffs.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let state = self.reloader;
        actix_web::rt::spawn(async move {
            let Ok(mut hangups) = signal(SignalKind::hangup()) else {
                return;
            };
            while hangups.recv().await.is_some() {
                let state = state.clone();
                let _ =
                    actix_web::rt::task::spawn_blocking(move || api::admin::reload(&state)).await;
            }
        });
        self.server.await
    }
}

/// Says at start-up, where nobody can miss it, when access control is off.
fn announce(access: &Access) {
    if !access.enabled() {
        let warning = "AUTHENTICATION IS OFF (auth.enabled = false): every endpoint is open to anyone who can reach this port. Use this for local work only.";
        eprintln!("WARNING: {warning}");
        tracing::warn!("{warning}");
    } else if access.key_count() == 0 {
        tracing::warn!(
            "no API keys are configured (auth.keys): every protected endpoint answers 401"
        );
    } else {
        tracing::info!(keys = access.key_count(), "access control on");
    }
}

/// One access-log line per request, refusals included: method, route, status, time to the
/// answer's head, its length when known, the key's name and the request id — the client's
/// `x-request-id` when it is a plain token, else the tracing span's — which the response
/// echoes so a client can quote it.
async fn access_log(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = std::time::Instant::now();
    let id = api::problem::request_id(request.request());
    let method = request.method().clone();
    let mut response = next.call(request).await?;
    let route = api::metrics::route_label(&response);
    let key = Caller::of(response.request());
    let bytes = response
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    tracing::info!(
        target: "access",
        request_id = id.as_deref().unwrap_or("-"),
        method = %method,
        route = %route,
        status = response.status().as_u16(),
        duration_ms = started.elapsed().as_secs_f64() * 1000.0,
        bytes,
        key = key.as_deref().unwrap_or("-"),
        "request"
    );
    if let Some(value) = id.and_then(|id| HeaderValue::from_str(&id).ok()) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("x-request-id"), value);
    }
    Ok(response)
}
