//! `TestApp`: the very app `main` starts, on port 0, with typed helpers.

use std::sync::Once;

use serde_json::Value;
use tariffd::access::{hash_key, KeySettings, Role};
use tariffd::configuration::Settings;
use tariffd::startup::Application;

use tariffd::period::Period;
use tariffd::population::Generator;
use tariffd::wire::csv::{input_header, request_row, row, Lang};
use tariffd::wire::request::request_json;

use crate::support;

static TELEMETRY: Once = Once::new();

pub struct TestApp {
    pub address: String,
    pub handle: actix_web::dev::ServerHandle,
    client: awc::Client,
}

pub struct Reply {
    pub status: u16,
    pub headers: awc::http::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(|_| {}).await
    }

    /// Starts the app with access control on and one key per `(key, role)`, each named as
    /// its key without `-key`.
    pub async fn spawn_with_keys(keys: &[(&str, Role)]) -> TestApp {
        TestApp::spawn_with(|s| {
            s.auth.enabled = true;
            s.auth.keys = keys
                .iter()
                .map(|(key, role)| KeySettings {
                    name: key.trim_end_matches("-key").to_string(),
                    sha256: hash_key(key),
                    roles: vec![*role],
                })
                .collect();
        })
        .await
    }

    /// Starts the app with test settings, adjusted by `configure`. Logs show with `TEST_LOG=1`.
    pub async fn spawn_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
        TELEMETRY.call_once(|| {
            if std::env::var_os("TEST_LOG").is_some() {
                tariffd::telemetry::init(tariffd::configuration::LogFormat::Pretty, "info");
            }
        });
        let mut settings = Settings::load(None).expect("default settings load");
        settings.server.port = 0;
        settings.server.workers = 1;
        settings.tariffs.dir = support::fixture_tariffs();
        settings.auth.enabled = false; // access control has its own tests
        settings.database.url = scratch_database();
        configure(&mut settings);
        let app = Application::build(&settings).await.expect("the app builds");
        let address = format!("http://127.0.0.1:{}", app.port());
        let handle = app.handle();
        actix_web::rt::spawn(app.run_until_stopped());
        TestApp {
            address,
            handle,
            client: awc::Client::builder()
                .timeout(std::time::Duration::from_secs(30))
                .finish(),
        }
    }

    pub async fn post(&self, path: &str, body: impl Into<Vec<u8>>) -> Reply {
        let request = self
            .client
            .post(format!("{}{path}", self.address))
            .insert_header(("content-type", "application/json"));
        Self::reply(request.send_body(body.into()).await).await
    }

    pub async fn put_with(&self, path: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Reply {
        let mut request = self.client.put(format!("{}{path}", self.address));
        for header in headers {
            request = request.insert_header(*header);
        }
        Self::reply(request.send_body(body).await).await
    }

    pub async fn post_with(&self, path: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Reply {
        let mut request = self.client.post(format!("{}{path}", self.address));
        for header in headers {
            request = request.insert_header(*header);
        }
        Self::reply(request.send_body(body).await).await
    }

    pub async fn post_bill(&self, body: &Value) -> Reply {
        self.post("/v1/bills", serde_json::to_vec(body).unwrap())
            .await
    }

    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        let mut request = self.client.get(format!("{}{path}", self.address));
        for header in headers {
            request = request.insert_header(*header);
        }
        Self::reply(request.send().await).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        Self::reply(
            self.client
                .delete(format!("{}{path}", self.address))
                .send()
                .await,
        )
        .await
    }

    pub async fn delete_with(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        let mut request = self.client.delete(format!("{}{path}", self.address));
        for (name, value) in headers {
            request = request.insert_header((*name, *value));
        }
        Self::reply(request.send().await).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        Self::reply(
            self.client
                .get(format!("{}{path}", self.address))
                .send()
                .await,
        )
        .await
    }

    async fn reply<S>(
        response: Result<awc::ClientResponse<S>, awc::error::SendRequestError>,
    ) -> Reply
    where
        S: futures_util::Stream<Item = Result<actix_web::web::Bytes, awc::error::PayloadError>>
            + Unpin,
    {
        let mut response = response.expect("the request is answered");
        let body = response
            .body()
            .limit(64 * 1024 * 1024)
            .await
            .expect("the body arrives")
            .to_vec();
        Reply {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body,
        }
    }
}

/// `n` generated bill requests (Xinzhou, October 2020).
pub fn population(n: usize) -> Vec<Value> {
    generated(&crate::support::fixture_tariffs(), n, 11)
}

/// `n` bill requests generated from `seed` on the Xinzhou tariff of the tariffs in `dir`
/// (October 2020).
pub fn generated(dir: &std::path::Path, n: usize, seed: u64) -> Vec<Value> {
    let tariffs = tariffd::tariff::load_dir(dir).unwrap();
    let xinzhou = tariffs.iter().find(|t| t.id() == "cn-sx-xinzhou").unwrap();
    Generator::new(xinzhou, Period::month(2020, 10).unwrap(), seed)
        .take(n)
        .map(|r| request_json(&r))
        .collect()
}

/// A fresh SQLite file for one app, in a directory of this test process. The apps keep
/// their files open until the process ends, so each run removes what earlier, finished runs
/// left behind instead.
fn scratch_database() -> String {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    static SWEPT: std::sync::Once = std::sync::Once::new();
    SWEPT.call_once(remove_finished_runs_databases);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("tariffd-tests-{}", std::process::id()));
    format!("sqlite://{}/app-{n}.db", dir.display())
}

/// Removes `tariffd-tests-<pid>` directories whose process is gone (Linux: no `/proc/<pid>`).
fn remove_finished_runs_databases() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix("tariffd-tests-")) else {
            continue;
        };
        let finished = pid.parse::<u32>().is_ok_and(|pid| {
            pid != std::process::id() && !std::path::Path::new(&format!("/proc/{pid}")).exists()
        });
        if finished {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// One request per line.
pub fn ndjson(requests: &[Value]) -> Vec<u8> {
    requests
        .iter()
        .map(|r| format!("{r}\n"))
        .collect::<String>()
        .into_bytes()
}

/// The CSV batch header, then one row per request.
pub fn csv_body(requests: &[Value]) -> Vec<u8> {
    let mut body = row(input_header(Lang::En));
    for r in requests {
        body.extend(row(request_row(r)));
    }
    body
}

/// Everything the server sends on `stream` until it closes the connection (or `seconds` pass).
pub async fn read_until_closed(mut stream: std::net::TcpStream, seconds: u64) -> String {
    use std::io::Read;
    let reading = actix_web::rt::task::spawn_blocking(move || {
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(seconds)))
            .unwrap();
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        String::from_utf8_lossy(&answer).into_owned()
    });
    reading.await.unwrap()
}

/// A request whose head and the start of whose body are sent, then nothing.
pub fn stalled(address: &str, head: &str, body_start: &[u8]) -> std::net::TcpStream {
    use std::io::Write;
    let address = address.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body_start).unwrap();
    stream.flush().unwrap();
    stream
}
