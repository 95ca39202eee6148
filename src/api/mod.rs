//! The HTTP service: routes, problem+json errors, and the OpenAPI document.

pub mod admin;
pub mod batch;
pub mod bills;
pub mod body;
pub mod caller;
pub mod connection;
pub mod exports;
pub mod ledger;
pub mod metrics;
pub mod ops;
pub mod populations;
pub mod problem;
pub mod query;
pub mod registry;
pub mod routes;
pub mod simulations;
pub mod slots;
pub mod surcharges;
pub mod tariffs;
pub mod workbench;

use std::sync::Arc;

use actix_web::web;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

use crate::tariff::{Tariff, TariffStore};
pub use metrics::Metrics;
use problem::ApiError;

/// Limits on what one request may send, and how slowly.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub body_limit_bytes: usize,
    /// A body that sends nothing for this long is ended (408), from its first byte on.
    pub body_idle_timeout: std::time::Duration,
    /// A body read whole (a bill, a draft tariff, a JSON simulation) must arrive within this.
    pub body_read_timeout: std::time::Duration,
    /// A body must bring `body_min_bytes` in every `body_rate_window` spent waiting on it.
    pub body_min_bytes: u64,
    pub body_rate_window: std::time::Duration,
    /// A streamed upload (a batch, a population) must end within this.
    pub upload_timeout: std::time::Duration,
    /// The most problems an answer lists one by one (the rest are counted).
    pub max_listed_errors: usize,
}

/// Limits on one simulation.
#[derive(Debug, Clone, Copy)]
pub struct SimulationLimits {
    pub max_population: u64,
    pub body_limit_bytes: usize,
}

pub struct AppState {
    /// Take the current set once per request (`tariffs.current()`).
    pub tariffs: TariffStore,
    pub limits: Limits,
    pub batch_limits: crate::batch::Limits,
    pub simulation_limits: SimulationLimits,
    pub access: crate::access::Access,
    /// Places for batches, simulations, kept populations and registry imports.
    pub heavy: slots::Slots,
    /// Places for workbooks written for download.
    pub exports: slots::Slots,
    pub metrics: Metrics,
    /// The registry and the ledger.
    pub database: crate::database::Database,
    /// The registry as batches and simulations read it.
    pub registry: crate::registry::cache::Cache,
    /// Populations kept for simulations.
    pub populations: crate::simulation::kept::Kept,
}

impl AppState {
    /// The whole registry as it stands, for records that name only their enterprise. With
    /// the database out of reach there is none, and such records fail one by one while the
    /// rest are priced.
    pub async fn registry_now(&self) -> Option<Arc<crate::registry::Snapshot>> {
        match self.registry.current(&self.database).await {
            Ok(snapshot) => Some(snapshot),
            Err(error) => {
                tracing::warn!(%error, "registry unavailable; records by reference will fail");
                None
            }
        }
    }

    /// How a streamed population is read: a batch's lines, up to a simulation's population.
    pub fn population_limits(&self) -> crate::batch::Limits {
        crate::batch::Limits {
            max_lines: self.simulation_limits.max_population,
            ..self.batch_limits
        }
    }

    /// A place to run `what` (a batch, a simulation, an import) for the request's key, or
    /// 429 when all are taken or the key holds its share.
    pub fn heavy_permit(
        &self,
        request: &actix_web::HttpRequest,
        what: &'static str,
    ) -> Result<slots::Slot, ApiError> {
        self.heavy
            .take(routes::Caller::of(request).as_deref(), what)
    }

    /// A tariff named in a path: unknown is 404.
    pub fn tariff(&self, id: &str) -> Result<Arc<Tariff>, ApiError> {
        let tariffs = self.tariffs.current();
        tariffs.get(id).cloned().ok_or_else(|| {
            ApiError::NotFound(format!(
                "no tariff `{id}`; loaded: {}",
                tariffs.ids().join(", ")
            ))
        })
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "tariffd",
        description = "Exact, explainable bills under China's industrial differential, tiered and punitive electricity pricing and progressive water surcharges. Money is exact decimal, rounded half-up to the fen per line; every line cites the documents it rests on.",
        license(name = "MIT OR Apache-2.0")
    ),
    components(schemas(problem::Problem, problem::FieldError)),
    security(("api_key" = [])),
    tags(
        (name = "bills", description = "Pricing enterprises' consumption"),
        (name = "tariffs", description = "The policy as loaded: parameters, sources, digests"),
        (name = "simulations", description = "What-if reforms over a population: revenue, who pays more, sweeps, goal-seeking"),
        (name = "surcharges", description = "Quick look-up of adders by class of enterprise"),
        (name = "registry", description = "Enterprises, their dated classification decisions and yearly assessments, as published"),
        (name = "ledger", description = "Bills issued, stored with what they were priced on; rebills after a retroactive change"),
        (name = "exports", description = "Tables as XLSX workbooks or CSV files for spreadsheets"),
        (name = "operations", description = "Health, metrics and who the caller is"),
    )
)]
struct ApiDoc;

/// The OpenAPI document: the service's description, every route of the table, and the
/// responses every keyed or bodied operation shares.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    routes::document(&mut doc);
    utoipa::Modify::modify(&ApiKeys, &mut doc);
    show_problems(&mut doc);
    doc
}

/// Gives every problem+json response an example: a problem of that status as the service
/// writes it (built by the same code), so a client sees the shape it will get.
fn show_problems(doc: &mut utoipa::openapi::OpenApi) {
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
        ];
        for operation in operations.into_iter().flatten() {
            for (status, response) in operation.responses.responses.iter_mut() {
                let utoipa::openapi::RefOr::T(response) = response else {
                    continue;
                };
                let Some(content) = response.content.get_mut("application/problem+json") else {
                    continue;
                };
                if content.example.is_none() && content.examples.is_empty() {
                    content.example = sample_problem(status)
                        .and_then(|error| serde_json::to_value(error.problem()).ok());
                }
            }
        }
    }
}

/// A representative error of each status the service answers with.
fn sample_problem(status: &str) -> Option<ApiError> {
    use crate::wire::problem::FieldError;
    Some(match status {
        "400" => ApiError::MalformedJson("expected value at line 1 column 1".into()),
        "401" => ApiError::Unauthorized("the API key is not valid".into()),
        "403" => ApiError::Forbidden("the key `grid-billing` lacks the role `analyst` this needs".into()),
        "404" => ApiError::NotFound("no tariff `cn-xx`; loaded: cn, cn-sx, cn-sx-xinzhou".into()),
        "408" => ApiError::RequestTimeout("the body sent nothing for 60 s".into()),
        "409" => ApiError::ReloadFailed(vec![FieldError::note(
            "tariffs/cn.toml: parameters.\"electricity.punitive.over_dubble\": unknown parameter path",
        )]),
        "413" => ApiError::PayloadTooLarge { limit: 1_048_576 },
        "415" => ApiError::UnsupportedMediaType("Content-Encoding `br` is not supported; send gzip, deflate or identity (one coding)".into()),
        "422" => ApiError::Invalid(vec![
            FieldError::at("/electricity/kwh", "must not be negative, found -5"),
            FieldError::at("/period/month", "`2020-13` is not a month (YYYY-MM)"),
        ]),
        "429" => ApiError::TooBusy { what: "batches", retry_after: 1 },
        "503" => ApiError::Unavailable("the database is unavailable: pool timed out while waiting for an open connection".into()),
        _ => return None,
    })
}

/// Every endpoint but health and documentation needs an API key (`Authorization: Bearer`,
/// the scheme in any case, or `X-API-Key`); which role each needs: `reader` tariffs and
/// surcharges, the registry and the ledger, `biller` bills, batches and the ledger's issues, `analyst`
/// simulations, kept populations (each its own) and validation (a population from the ledger
/// needs `reader` too), `registrar` registry writes, `admin` reloads (and everything else); any
/// valid key: metrics, the caller and exports. Missing or wrong key: 401; key without the role:
/// 403.
/// Every operation with a body can also answer 408, 413 and 415.
struct ApiKeys;

impl utoipa::Modify for ApiKeys {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        let problem = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/problem+json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .build(),
                )
                .build()
        };
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.delete,
            ];
            for operation in operations.into_iter().flatten() {
                let responses = &mut operation.responses.responses;
                if operation.request_body.is_some() {
                    responses.entry("408".into()).or_insert_with(|| {
                        problem("The body went quiet for the idle timeout, or did not arrive within the read timeout").into()
                    });
                    responses.entry("413".into()).or_insert_with(|| {
                        problem("Body over the configured limit (after decompression)").into()
                    });
                    responses.entry("415".into()).or_insert_with(|| {
                        problem("A Content-Encoding other than gzip, deflate or identity").into()
                    });
                }
                // `security(())` marks a public operation: an empty requirement.
                let public = operation.security.as_ref().is_some_and(|s| !s.is_empty());
                if public {
                    continue;
                }
                responses
                    .entry("401".into())
                    .or_insert_with(|| problem("Missing or unknown API key").into());
                responses
                    .entry("403".into())
                    .or_insert_with(|| problem("The API key lacks the role this needs").into());
            }
        }
    }
}

/// Mounts every route, and the documentation.
pub fn configure(cfg: &mut web::ServiceConfig) {
    routes::configure(cfg);
    workbench::configure(cfg);
    cfg.route("/docs", web::get().to(ops::docs_redirect))
        .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", openapi()));
}
