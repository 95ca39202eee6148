//! The analyst's workbench: pages under `/ui/`, every asset (scripts, styles, the chart
//! library, the font) compiled into the binary, so it works with no internet. The pages hold no data:
//! they call the public API with the key the analyst signs in with, so they need none here.

use actix_web::http::header;
use actix_web::{guard, web, HttpRequest, HttpResponse};
use include_dir::{include_dir, Dir};

/// Everything under `ui/`, compiled in: pages, scripts, styles, the chart library and the
/// font, each vendored from its registry package with its licence.
static UI: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/ui");

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, extension)| extension) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("woff2") => "font/woff2",
        _ => "text/plain; charset=utf-8",
    }
}

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
    // Looked up in the embedded tree: no path reaches the file system.
    let Some(asset) = UI.get_file(wanted) else {
        // Answered as problem+json by the bare-errors middleware.
        return HttpResponse::NotFound().finish();
    };
    // Vendored files change only with their version: they may be kept; our own files are
    // checked again on each load, so a new binary's pages are seen at once.
    let cache = match wanted.starts_with("vendor/") {
        true => "public, max-age=86400",
        false => "no-cache",
    };
    HttpResponse::Ok()
        .content_type(content_type(wanted))
        .insert_header((header::CACHE_CONTROL, cache))
        .insert_header((header::CONTENT_SECURITY_POLICY, POLICY))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .body(asset.contents())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_module_a_page_imports_and_every_font_a_style_names_is_served() {
        fn files<'a>(dir: &'a Dir<'a>) -> Vec<&'a include_dir::File<'a>> {
            let nested = dir.dirs().flat_map(files);
            dir.files().chain(nested).collect()
        }
        for file in files(&UI) {
            let text = String::from_utf8_lossy(file.contents());
            let dir = file.path().parent().unwrap();
            let named = text
                .split("from \"./")
                .skip(1)
                .chain(text.split("url(./").skip(1))
                .map(|rest| &rest[..rest.find(['"', ')']).unwrap()]);
            for name in named {
                let path = dir.join(name);
                assert!(
                    UI.get_file(&path).is_some(),
                    "{}: {name}",
                    file.path().display()
                );
            }
        }
    }

    #[test]
    fn the_pages_offer_the_industries_the_api_knows() {
        let lib = String::from_utf8_lossy(UI.get_file("lib.js").unwrap().contents());
        let line = lib
            .lines()
            .find(|l| l.starts_with("export const INDUSTRIES"))
            .unwrap();
        let listed: Vec<&str> = line.split('"').skip(1).step_by(2).collect();
        let known: Vec<&str> = crate::enterprise::Industry::ALL
            .iter()
            .map(|i| i.as_str())
            .collect();
        assert_eq!(listed, known);
    }

    #[test]
    fn the_pages_are_typed_and_fenced() {
        assert_eq!(
            content_type("vendor/noto-sans-sc/files/x.woff2"),
            "font/woff2"
        );
        assert!(POLICY.contains("script-src 'self';"));
        assert!(UI.get_file("index.html").is_some());
    }
}
