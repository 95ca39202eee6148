//! The analyst's workbench: pages under `/ui/`, every asset (scripts, styles, the chart
//! library) compiled into the binary, so it works with no internet. The pages hold no data:
//! they call the public API with the key the analyst signs in with, so they need none here.

use actix_web::http::header;
use actix_web::{guard, web, HttpRequest, HttpResponse};

struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

macro_rules! asset {
    ($path:literal, $type:expr) => {
        Asset {
            path: $path,
            content_type: $type,
            body: include_bytes!(concat!("../../ui/", $path)),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";

static ASSETS: [Asset; 12] = [
    asset!("index.html", "text/html; charset=utf-8"),
    asset!("favicon.svg", "image/svg+xml"),
    asset!("style.css", "text/css; charset=utf-8"),
    asset!("app.js", JS),
    asset!("lib.js", JS),
    asset!("tariffs.js", JS),
    asset!("bill.js", JS),
    asset!("whatif.js", JS),
    asset!("batch.js", JS),
    asset!("vendor/echarts/echarts.min.js", JS),
    asset!("vendor/echarts/LICENSE", "text/plain; charset=utf-8"),
    asset!("vendor/echarts/NOTICE", "text/plain; charset=utf-8"),
];

/// Scripts and styles from this server only; no frames, no form posts elsewhere. ECharts
/// sizes its elements through inline styles, hence `style-src 'unsafe-inline'`.
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Mounts the pages (public: they carry no data) and `/` leading to them.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", get().to(to_pages))
        .route("/ui", get().to(to_pages))
        .route("/ui/{asset:.*}", get().to(asset));
}

/// GET, and HEAD as every GET route here answers it.
fn get() -> actix_web::Route {
    web::route().guard(guard::Any(guard::Get()).or(guard::Head()))
}

async fn to_pages() -> HttpResponse {
    HttpResponse::TemporaryRedirect()
        .insert_header((header::LOCATION, "/ui/"))
        .finish()
}

async fn asset(request: HttpRequest) -> HttpResponse {
    let wanted = request.match_info().query("asset");
    let wanted = if wanted.is_empty() {
        "index.html"
    } else {
        wanted
    };
    let Some(asset) = ASSETS.iter().find(|a| a.path == wanted) else {
        // Answered as problem+json by the bare-errors middleware.
        return HttpResponse::NotFound().finish();
    };
    // The chart library's path names its version: it may be kept; our own files are
    // checked again on each load, so a new binary's pages are seen at once.
    let cache = match asset.path.starts_with("vendor/") {
        true => "public, max-age=86400",
        false => "no-cache",
    };
    HttpResponse::Ok()
        .content_type(asset.content_type)
        .insert_header((header::CACHE_CONTROL, cache))
        .insert_header((header::CONTENT_SECURITY_POLICY, POLICY))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .body(asset.body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_module_a_page_imports_is_served() {
        let served: Vec<&str> = ASSETS.iter().map(|a| a.path).collect();
        for asset in &ASSETS {
            let text = String::from_utf8_lossy(asset.body);
            for (_, rest) in text
                .match_indices("from \"./")
                .map(|(i, _)| text.split_at(i + 8))
            {
                let module = &rest[..rest.find('"').unwrap()];
                assert!(served.contains(&module), "{} imports {module}", asset.path);
            }
        }
    }
}
