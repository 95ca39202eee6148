//! Any method, key and path, sent raw to the real server: whatever answers other than a
//! refusal (400, 401, 403, 404, 405, 414, 431) must come from a route that the key's role
//! may call, judged by the route table against the fully percent-decoded path. Catches a
//! spelling that the router and the access check read differently.
#![no_main]

#[path = "../../tests/support/probe.rs"]
mod probe;

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tariffd::access::{hash_key, KeySettings};
use tariffd::api::routes::ROUTES;
use tariffd::configuration::Settings;
use tariffd::startup::Application;

use probe::{may, status_of, KEYS};

const METHODS: [&str; 8] = ["GET", "POST", "HEAD", "PUT", "DELETE", "get", "pOsT", "OPTIONS"];

/// The server, started once on its own thread; its address.
fn server() -> &'static str {
    static ADDRESS: OnceLock<String> = OnceLock::new();
    ADDRESS.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let mut settings = Settings::load(None).expect("default settings");
                settings.server.port = 0;
                settings.server.workers = 1;
                settings.log.filter = "off".into();
                settings.tariffs.dir =
                    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tariffs");
                settings.auth.keys = KEYS
                    .iter()
                    .filter_map(|(key, role)| {
                        role.map(|role| KeySettings {
                            name: key.to_string(),
                            sha256: hash_key(key),
                            roles: vec![role],
                        })
                    })
                    .collect();
                let database = std::env::temp_dir().join(format!("tariffd-fuzz-{}.db", std::process::id()));
                settings.database.url = format!("sqlite://{}", database.display());
                let app = Application::build(&settings).await.expect("the app builds");
                tx.send(format!("127.0.0.1:{}", app.port())).unwrap();
                app.run_until_stopped().await
            })
        });
        rx.recv().unwrap()
    })
}

fn decoded(path: &str) -> String {
    let path = path.split(['?', '#']).next().unwrap_or("");
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).and_then(|b| hex(*b)), bytes.get(i + 2).and_then(|b| hex(*b))) {
            // An encoded `/` stays inside its segment, as the router reads it: the path
            // `/v1/enterprises/a%2Fb` names the enterprise `a/b`.
            (b'%', Some(h), Some(l)) if h * 16 + l != u32::from(b'/') => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fuzz_target!(|data: &[u8]| {
    let [m, k, rest @ ..] = data else { return };
    let method = METHODS[*m as usize % METHODS.len()];
    let (key, role) = KEYS[*k as usize % KEYS.len()];
    let Ok(path) = std::str::from_utf8(rest) else { return };
    if !path.starts_with('/') || path.len() > 4000 || path.bytes().any(|b| b <= b' ' || b >= 0x7f) {
        return;
    }
    let status = status_of(server(), method, path, key);
    if matches!(status, 400 | 401 | 403 | 404 | 405 | 414 | 431) {
        return;
    }
    let path = decoded(path);
    // Documentation and the workbench's pages (`/` leads to them) hold no data.
    let public = ["/", "/docs", "/openapi.json", "/ui"].contains(&path.as_str())
        || path.starts_with("/docs/")
        || path.starts_with("/ui/");
    let allowed = public || ROUTES.iter().any(|r| r.matches(&path) && may(r.need, role));
    assert!(allowed, "{method} {path:?} with {key:?} answered {status}");
});
