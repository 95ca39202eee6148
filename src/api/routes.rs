//! The one table of routes: each with its method, path, what it needs of the caller, and
//! its handler. Access is decided on the route that matched, never on the raw path, so an
//! encoded or otherwise respelt path reaches a handler only through its own check.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::HeaderMap;
use actix_web::http::Method;
use actix_web::middleware::{from_fn, Next};
use actix_web::{guard, web, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use utoipa::openapi::OpenApi;

use super::problem::ApiError;
use super::{
    admin, batch, bills, caller, exports, ledger, ops, populations, registry, simulations,
    surcharges, tariffs, AppState,
};
use crate::access::{Need, Role};

pub struct Route {
    pub method: Method,
    /// The path pattern, as the router and the OpenAPI document write it.
    pub path: &'static str,
    pub need: Need,
    handler: fn() -> actix_web::Route,
    /// Adds its OpenAPI operation (the handler's `#[utoipa::path]`) and the schemas it names.
    document: fn(&mut OpenApi),
    /// Request bodies the document shows, each a file of `examples/`.
    pub examples: &'static [Example],
}

/// A request example: a file of `examples/` that a newcomer can also send as it is. One whose
/// name starts with `invalid` shows an error answer; every other one a success.
pub struct Example {
    pub content_type: &'static str,
    pub name: &'static str,
    pub summary: &'static str,
    pub body: ExampleBody,
}

pub enum ExampleBody {
    /// One file.
    File(&'static str),
    /// A multipart body: each part a file, with its name and content type.
    Parts(&'static [Part]),
}

pub struct Part {
    pub name: &'static str,
    pub content_type: &'static str,
    pub body: &'static str,
}

/// Every route of the service but the documentation pages.
pub static ROUTES: [Route; 30] = [
    Route {
        method: Method::POST,
        path: "/v1/bills",
        need: Need::Role(Role::Biller),
        handler: || web::route().to(bills::create_bill),
        document: documented::<bills::__path_create_bill>,
        examples: &[
            Example {
                content_type: "application/json",
                name: "restricted_steel",
                summary: "Restricted steel in Xinzhou, October 2020",
                body: ExampleBody::File(include_str!("../../examples/bill.json")),
            },
            Example {
                content_type: "application/json",
                name: "invalid_fields",
                summary: "Two bad fields: both are named in one 422",
                body: ExampleBody::File(include_str!("../../examples/bill-invalid.json")),
            },
        ],
    },
    Route {
        method: Method::POST,
        path: "/v1/bills/batch",
        need: Need::Role(Role::Biller),
        handler: || web::route().to(batch::create_batch),
        document: documented::<batch::__path_create_batch>,
        examples: &[
            Example {
                content_type: "application/x-ndjson",
                name: "ndjson",
                summary: "Three enterprises, one with a bad record",
                body: ExampleBody::File(include_str!("../../examples/batch.ndjson")),
            },
            Example {
                content_type: "text/csv",
                name: "csv",
                summary: "Two enterprises as CSV rows",
                body: ExampleBody::File(include_str!("../../examples/batch.csv")),
            },
        ],
    },
    Route {
        method: Method::POST,
        path: "/v1/simulations",
        need: Need::Role(Role::Analyst),
        handler: || web::route().to(simulations::create_simulation),
        document: documented::<simulations::__path_create_simulation>,
        examples: &[
            Example {
                content_type: "application/json",
                name: "eliminated_steel",
                summary: "Eliminated steel's adder raised to 0.80 yuan/kWh over three enterprises",
                body: ExampleBody::File(include_str!("../../examples/simulation.json")),
            },
            Example {
                content_type: "multipart/form-data",
                name: "streamed_population",
                summary: "The same reform, its population streamed as NDJSON (a bad record is left out and reported)",
                body: ExampleBody::Parts(&[
                    Part {
                        name: "simulation",
                        content_type: "application/json",
                        body: include_str!("../../examples/reform.json"),
                    },
                    Part {
                        name: "population",
                        content_type: "application/x-ndjson",
                        body: include_str!("../../examples/batch.ndjson"),
                    },
                ]),
            },
        ],
    },
    Route {
        method: Method::POST,
        path: "/v1/populations",
        need: Need::Role(Role::Analyst),
        handler: || web::route().to(populations::keep_population),
        document: documented::<populations::__path_keep_population>,
        examples: &[Example {
            content_type: "application/x-ndjson",
            name: "ndjson",
            summary: "Three enterprises kept for simulations (a bad record is left out and reported)",
            body: ExampleBody::File(include_str!("../../examples/batch.ndjson")),
        }],
    },
    Route {
        method: Method::GET,
        path: "/v1/populations",
        need: Need::Role(Role::Analyst),
        handler: || web::route().to(populations::list_populations),
        document: documented::<populations::__path_list_populations>,
        examples: &[],
    },
    Route {
        method: Method::GET,
        path: "/v1/populations/{population_id}",
        need: Need::Role(Role::Analyst),
        handler: || web::route().to(populations::get_population),
        document: documented::<populations::__path_get_population>,
        examples: &[],
    },
    Route {
        method: Method::DELETE,
        path: "/v1/populations/{population_id}",
        need: Need::Role(Role::Analyst),
        handler: || web::route().to(populations::delete_population),
        document: documented::<populations::__path_delete_population>,
        examples: &[],
    },
    Route {
        method: Method::POST,
        path: "/v1/tariffs/validate",
        need: Need::Role(Role::Analyst),
        handler: || web::route().to(tariffs::validate_tariff),
        document: documented::<tariffs::__path_validate_tariff>,
        examples: &[Example {
            content_type: "application/toml",
            name: "draft",
            summary: "A draft local tariff inheriting the national one",
            body: ExampleBody::File(include_str!("../../examples/draft-tariff.toml")),
        }],
    },
    Route {
        method: Method::GET,
        path: "/v1/tariffs",
        need: Need::Role(Role::Reader),
        handler: || web::route().to(tariffs::list_tariffs),
        document: documented::<tariffs::__path_list_tariffs>,
        examples: &[],
    },
    Route {
        method: Method::GET,
        path: "/v1/tariffs/{id}",
        need: Need::Role(Role::Reader),
        handler: || web::route().to(tariffs::get_tariff),
        document: documented::<tariffs::__path_get_tariff>,
        examples: &[],
    },
    Route {
        method: Method::GET,
        path: "/v1/tariffs/{id}/parameters",
        need: Need::Role(Role::Reader),
        handler: || web::route().to(tariffs::list_parameters),
        document: documented::<tariffs::__path_list_parameters>,
        examples: &[],
    },
    Route {
        method: Method::GET,
        path: "/v1/tariffs/{id}/parameters/{path}",
        need: Need::Role(Role::Reader),
        handler: || web::route().to(tariffs::parameter_history),
        document: documented::<tariffs::__path_parameter_history>,
        examples: &[],
    },
    Route {
        method: Method::GET,
        path: "/v1/surcharges",
        need: Need::Role(Role::Reader),
        handler: || web::route().to(surcharges::lookup_surcharges),
        document: documented::<surcharges::__path_lookup_surcharges>,
        examples: &[],
    },
    // Before `/v1/enterprises/{id}`, so that `import` is not read as an id.
    Route {
        method: Method::POST,
        path: "/v1/enterprises/import",
        need: Need::Role(Role::Registrar),
        handler: || web::route().to(registry::import_enterprises),
        document: documented::<registry::__path_import_enterprises>,
        examples: &[Example {
            content_type: "text/csv",
            name: "two_enterprises",
            summary: "Two enterprises, one classified and assessed",
            body: ExampleBody::File(include_str!("../../examples/registry.csv")),
        }],
    },
    Route {
        method: Method::PUT,
        path: "/v1/enterprises/{id}",
        need: Need::Role(Role::Registrar),
        handler: || web::route().to(registry::put_enterprise),
        document: documented::<registry::__path_put_enterprise>,
        examples: &[Example {
            content_type: "application/json",
            name: "steel_works",
            summary: "A steel works in Xinzhou",
            body: ExampleBody::File(include_str!("../../examples/enterprise.json")),
        }],
    },
    Route {
        method: Method::POST,
        path: "/v1/enterprises/{id}/classifications",
        need: Need::Role(Role::Registrar),
        handler: || web::route().to(registry::post_classification),
        document: documented::<registry::__path_post_classification>,
        examples: &[Example {
            content_type: "application/json",
            name: "restricted_from_2020",
            summary: "Listed as restricted capacity from 1 January 2020",
            body: ExampleBody::File(include_str!("../../examples/classification.json")),
        }],
    },
    Route {
        method: Method::PUT,
        path: "/v1/enterprises/{id}/assessments/{year}",
        need: Need::Role(Role::Registrar),
        handler: || web::route().to(registry::put_assessment),
        document: documented::<registry::__path_put_assessment>,
        examples: &[Example {
            content_type: "application/json",
            name: "blast_furnace_2019",
            summary: "The 2019 assessment of a blast furnace",
            body: ExampleBody::File(include_str!("../../examples/assessment.json")),
        }],
    },
    Route {
        method: Method::GET,
        path: "/v1/enterprises/{id}",
        need: Need::Role(Role::Reader),
        handler: || web::route().to(registry::get_enterprise),
        document: documented::<registry::__path_get_enterprise>,
        examples: &[],
    },
    Route {
        method: Method::GET,
        path: "/v1/enterprises/{id}/history",
        need: Need::Role(Role::Reader),
        handler: || web::route().to(registry::get_history),
        document: documented::<registry::__path_get_history>,
        examples: &[],
    },
    Route {
        method: Method::POST,
        path: "/v1/ledger/bills",
        need: Need::Role(Role::Biller),
        handler: || web::route().to(ledger::issue_bill),
        document: documented::<ledger::__path_issue_bill>,
        examples: &[Example {
            content_type: "application/json",
            name: "restricted_steel",
            summary: "Issue the bill of restricted steel in Xinzhou, October 2020",
            body: ExampleBody::File(include_str!("../../examples/bill.json")),
        }],
    },
    // Before `/v1/ledger/bills/{bill_id}`, so that `batch` is not read as a bill id.
    Route {
        method: Method::POST,
        path: "/v1/ledger/bills/batch",
        need: Need::Role(Role::Biller),
        handler: || web::route().to(ledger::issue_batch),
        document: documented::<ledger::__path_issue_batch>,
        examples: &[Example {
            content_type: "application/x-ndjson",
            name: "ndjson",
            summary: "Issue three enterprises' bills, one record bad",
            body: ExampleBody::File(include_str!("../../examples/batch.ndjson")),
        }],
    },
    Route {
        method: Method::GET,
        path: "/v1/ledger/bills",
        need: Need::Role(Role::Reader),
        handler: || web::route().to(ledger::list_bills),
        document: documented::<ledger::__path_list_bills>,
        examples: &[],
    },
    Route {
        method: Method::GET,
        path: "/v1/ledger/bills/{bill_id}",
        need: Need::Role(Role::Reader),
        handler: || web::route().to(ledger::get_bill),
        document: documented::<ledger::__path_get_bill>,
        examples: &[],
    },
    Route {
        method: Method::POST,
        path: "/v1/ledger/rebills",
        need: Need::Role(Role::Biller),
        handler: || web::route().to(ledger::rebill),
        document: documented::<ledger::__path_rebill>,
        examples: &[Example {
            content_type: "application/json",
            name: "since_october",
            summary: "Bills from October 2020 on",
            body: ExampleBody::File(include_str!("../../examples/rebill.json")),
        }],
    },
    Route {
        method: Method::POST,
        path: "/v1/admin/reload",
        need: Need::Role(Role::Admin),
        handler: || web::route().to(admin::reload_tariffs),
        document: documented::<admin::__path_reload_tariffs>,
        examples: &[],
    },
    Route {
        method: Method::POST,
        path: "/v1/exports",
        // It reads no data: any key may turn the tables it was given into a file.
        need: Need::AnyKey,
        handler: || web::route().to(exports::create_export),
        document: documented::<exports::__path_create_export>,
        examples: &[Example {
            content_type: "application/json",
            name: "simulation_by_industry",
            summary: "A simulation's breakdown by industry as a workbook",
            body: ExampleBody::File(include_str!("../../examples/export.json")),
        }],
    },
    Route {
        method: Method::GET,
        path: "/v1/caller",
        need: Need::AnyKey,
        handler: || web::route().to(caller::get_caller),
        document: documented::<caller::__path_get_caller>,
        examples: &[],
    },
    Route {
        method: Method::GET,
        path: "/health/live",
        need: Need::Public,
        handler: || web::route().to(ops::live),
        document: documented::<ops::__path_live>,
        examples: &[],
    },
    Route {
        method: Method::GET,
        path: "/health/ready",
        need: Need::Public,
        handler: || web::route().to(ops::ready),
        document: documented::<ops::__path_ready>,
        examples: &[],
    },
    Route {
        method: Method::GET,
        path: "/metrics",
        need: Need::AnyKey,
        handler: || web::route().to(ops::metrics),
        document: documented::<ops::__path_metrics>,
        examples: &[],
    },
];

/// Every route's operation and schemas, added to `openapi`.
pub fn document(openapi: &mut OpenApi) {
    for route in &ROUTES {
        (route.document)(openapi);
        route.add_examples(openapi);
    }
}

/// The operation `P` documents, under its path and methods, and the schemas it names.
fn documented<P>(openapi: &mut OpenApi)
where
    P: utoipa::Path + utoipa::__dev::SchemaReferences + utoipa::__dev::Tags<'static>,
{
    let mut operation = P::operation();
    let tags = operation.tags.get_or_insert_with(Vec::new);
    tags.extend(P::tags().into_iter().map(String::from));
    let mut schemas = Vec::new();
    P::schemas(&mut schemas);
    let components = openapi.components.get_or_insert_with(Default::default);
    components.schemas.extend(schemas);
    openapi
        .paths
        .add_path_operation(P::path(), P::methods(), operation);
}

impl Example {
    /// As the document shows it: JSON as JSON, any other format as its text, a multipart
    /// body as an object of its parts.
    fn shown(&self) -> utoipa::openapi::example::Example {
        let value = match &self.body {
            ExampleBody::File(body) => shown_value(self.content_type, body),
            ExampleBody::Parts(parts) => serde_json::Value::Object(
                parts
                    .iter()
                    .map(|p| (p.name.to_string(), shown_value(p.content_type, p.body)))
                    .collect(),
            ),
        };
        utoipa::openapi::example::ExampleBuilder::new()
            .summary(self.summary)
            .value(Some(value))
            .build()
    }
}

fn shown_value(content_type: &str, body: &str) -> serde_json::Value {
    if content_type == "application/json" {
        serde_json::from_str(body).expect("a JSON example parses")
    } else {
        serde_json::Value::String(body.to_string())
    }
}

/// The name of the key a request was let through with, for the access log.
#[derive(Debug, Clone)]
pub struct Caller(pub String);

impl Caller {
    /// The key name a request was let through with, if it needed a key.
    pub fn of(request: &HttpRequest) -> Option<String> {
        request.extensions().get::<Caller>().map(|c| c.0.clone())
    }

    /// The key name a record is written under: `anonymous` when no key was needed.
    pub fn name(request: &HttpRequest) -> String {
        Caller::of(request).unwrap_or_else(|| "anonymous".to_string())
    }
}

/// The route pattern a request reached, for logs and metrics.
#[derive(Debug, Clone, Copy)]
pub struct Matched(pub &'static str);

impl Route {
    /// Shows the route's examples under its request body's content types.
    fn add_examples(&self, openapi: &mut OpenApi) {
        for example in self.examples {
            let content = openapi
                .paths
                .paths
                .get_mut(self.path)
                .and_then(|item| match self.method {
                    Method::GET => item.get.as_mut(),
                    Method::PUT => item.put.as_mut(),
                    _ => item.post.as_mut(),
                })
                .and_then(|operation| operation.request_body.as_mut())
                .and_then(|body| body.content.get_mut(example.content_type))
                .unwrap_or_else(|| {
                    panic!(
                        "{} documents no body of type {}",
                        self.path, example.content_type
                    )
                });
            content
                .examples
                .insert(example.name.to_string(), example.shown().into());
            if let ExampleBody::Parts(parts) = example.body {
                for part in parts {
                    let encoding = utoipa::openapi::encoding::EncodingBuilder::new()
                        .content_type(Some(part.content_type))
                        .build();
                    content.encoding.insert(part.name.to_string(), encoding);
                }
            }
        }
    }

    /// Whether a (decoded) path falls on this route: a `{name}` segment matches any
    /// non-empty one.
    pub fn matches(&self, path: &str) -> bool {
        let mut template = self.path.split('/');
        let mut segments = path.split('/');
        loop {
            match (template.next(), segments.next()) {
                (None, None) => return true,
                (Some(t), Some(p)) if t == p || (t.starts_with('{') && !p.is_empty()) => {}
                _ => return false,
            }
        }
    }

    /// The actix route: the handler behind its method (GET also answers HEAD) and its check.
    fn service(&'static self) -> actix_web::Route {
        let method = if self.method == Method::GET {
            guard::Any(guard::Get()).or(guard::Head())
        } else {
            guard::Any(guard::Method(self.method.clone()))
        };
        (self.handler)()
            .guard(method)
            .wrap(from_fn(super::problem::panics))
            .wrap(from_fn(move |request, next| checked(self, request, next)))
    }
}

/// Mounts every route of the table: one resource per path, whose other methods answer 405.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let mut paths: Vec<&'static str> = Vec::new();
    for route in &ROUTES {
        if !paths.contains(&route.path) {
            paths.push(route.path);
        }
    }
    for path in paths {
        let mut resource = web::resource(path).default_service(web::to(not_found));
        for route in ROUTES.iter().filter(|r| r.path == path) {
            resource = resource.route(route.service());
        }
        cfg.service(resource);
    }
}

/// Records the route, then lets the request through only if its key may call it.
async fn checked(
    route: &'static Route,
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    request.extensions_mut().insert(Matched(route.path));
    match authorize(route.need, request.request()) {
        Err(refusal) => {
            return Ok(request
                .into_response(refusal.error_response())
                .map_into_right_body())
        }
        Ok(Some(key)) => {
            request.extensions_mut().insert(Caller(key));
        }
        Ok(None) => {}
    }
    next.call(request)
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// The caller's key against `need`; without the app's state nothing is let through. Answers
/// the key's name where one was asked for.
fn authorize(need: Need, request: &HttpRequest) -> Result<Option<String>, ApiError> {
    let state = request
        .app_data::<web::Data<AppState>>()
        .ok_or(ApiError::Internal)?;
    let name = state.access.check(need, presented(request.headers()))?;
    Ok(name.map(str::to_string))
}

/// `Authorization: Bearer <key>` (the scheme in any case) or `X-API-Key: <key>`.
pub(super) fn presented(headers: &HeaderMap) -> Option<&str> {
    if let Some(value) = headers.get("authorization").and_then(|v| v.to_str().ok()) {
        let (scheme, token) = value.trim().split_once(' ')?;
        return scheme.eq_ignore_ascii_case("bearer").then(|| token.trim());
    }
    headers.get("x-api-key").and_then(|v| v.to_str().ok())
}

/// Anything unrouted: with a valid key, a problem+json 404, or 405 naming the methods a
/// known path takes.
pub async fn not_found(request: HttpRequest) -> HttpResponse {
    if let Err(refusal) = authorize(Need::AnyKey, &request) {
        return refusal.error_response();
    }
    let allowed = allowed_methods(request.match_info().as_str());
    let error = if allowed.is_empty() {
        ApiError::NotFound(format!(
            "no route for {} {}",
            request.method(),
            request.path()
        ))
    } else {
        ApiError::MethodNotAllowed(allowed.join(", "))
    };
    error.error_response()
}

/// The methods the table lists for `path` (a `{name}` segment matches any non-empty one),
/// on the first pattern that matches it, as the router takes the first (`import` is not an
/// enterprise id).
fn allowed_methods(path: &str) -> Vec<&'static str> {
    let mut methods = Vec::new();
    let Some(first) = ROUTES.iter().find(|r| r.matches(path)) else {
        return methods;
    };
    for route in ROUTES.iter().filter(|r| r.path == first.path) {
        methods.push(route.method.as_str());
        if route.method == Method::GET {
            methods.push("HEAD");
        }
    }
    methods
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_and_the_openapi_document_list_the_same_operations() {
        let doc = serde_json::to_value(super::super::openapi()).unwrap();
        let mut documented: Vec<(String, String)> = doc["paths"]
            .as_object()
            .unwrap()
            .iter()
            .flat_map(|(path, item)| {
                item.as_object()
                    .unwrap()
                    .keys()
                    .map(|m| (m.to_ascii_uppercase(), path.clone()))
                    .collect::<Vec<_>>()
            })
            .collect();
        let mut table: Vec<(String, String)> = ROUTES
            .iter()
            .map(|r| (r.method.to_string(), r.path.to_string()))
            .collect();
        documented.sort();
        table.sort();
        assert_eq!(documented, table);
    }

    #[test]
    fn only_health_is_public_and_only_metrics_the_caller_and_exports_take_any_key() {
        for route in &ROUTES {
            let expected_public = route.path.starts_with("/health/");
            assert_eq!(
                route.need == Need::Public,
                expected_public,
                "{}",
                route.path
            );
            assert_eq!(
                route.need == Need::AnyKey,
                ["/metrics", "/v1/caller", "/v1/exports"].contains(&route.path),
                "{}",
                route.path
            );
        }
    }

    #[test]
    fn the_bearer_scheme_is_read_in_any_case_and_other_schemes_are_not_keys() {
        let with = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(
                actix_web::http::header::AUTHORIZATION,
                actix_web::http::header::HeaderValue::from_static(value),
            );
            headers
        };
        for value in ["bearer r", "BEARER r", "Bearer   r ", "bEaReR r"] {
            assert_eq!(presented(&with(value)), Some("r"), "{value}");
        }
        for value in ["Basic r", "Bearerr", "r", "Bearer"] {
            assert_eq!(presented(&with(value)), None, "{value}");
        }
    }

    #[test]
    fn a_known_path_names_its_methods() {
        assert_eq!(allowed_methods("/v1/bills"), ["POST"]);
        assert_eq!(allowed_methods("/v1/tariffs/cn"), ["GET", "HEAD"]);
        assert!(allowed_methods("/v1/nothing").is_empty());
    }
}
