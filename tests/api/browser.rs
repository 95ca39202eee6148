//! A real headless Chromium (Debian's `chromium` and `chromium-driver`, never a download)
//! driven over WebDriver: the workbench's pages as an analyst meets them. Downloads land in a
//! directory of the test; screenshots are kept under `target/browser/`; the browser's console
//! is read back so a page that throws fails its test.
//!
//! Without chromedriver the browser tests are skipped with a notice, unless `CI` is set:
//! `.ci/run` installs the packages, so there a missing browser is a failure.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

pub struct Browser {
    pub client: Client,
    driver: Child,
    driver_address: String,
    pub downloads: PathBuf,
}

impl Browser {
    /// A fresh browser, or `None` (with a notice) where this machine has none outside CI.
    pub async fn start() -> Option<Browser> {
        if !Path::new(CHROMEDRIVER).exists() {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI needs {CHROMEDRIVER}: apt-get install chromium chromium-driver"
            );
            eprintln!("skipped: no {CHROMEDRIVER} (apt-get install chromium chromium-driver)");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        // Its own process group, so that the browser it starts goes with it (see `Drop`).
        let driver = Command::new(CHROMEDRIVER)
            .process_group(0)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let driver_address = format!("http://127.0.0.1:{port}");
        let scratch =
            std::env::temp_dir().join(format!("tariffd-browser-{}-{port}", std::process::id()));
        let downloads = scratch.join("downloads");
        std::fs::create_dir_all(&downloads).unwrap();
        // The flags Chromium needs on a closed network, as root, with no display.
        let capabilities = json!({
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--disable-background-networking", "--disable-component-update",
                         "--disable-sync", "--no-first-run", "--window-size=1400,1000",
                         format!("--user-data-dir={}", scratch.join("profile").display())],
                "prefs": {
                    "download.default_directory": downloads.display().to_string(),
                    "download.prompt_for_download": false
                }
            },
            "goog:loggingPrefs": { "browser": "ALL" }
        });
        let capabilities = match capabilities {
            Value::Object(map) => map,
            _ => unreachable!(),
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        let client = loop {
            match ClientBuilder::new(connector.clone())
                .capabilities(capabilities.clone())
                .connect(&driver_address)
                .await
            {
                Ok(client) => break client,
                Err(e) if Instant::now() > deadline => panic!("chromedriver: {e}"),
                Err(_) => actix_web::rt::time::sleep(Duration::from_millis(100)).await,
            }
        };
        Some(Browser {
            client,
            driver,
            driver_address,
            downloads,
        })
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap();
    }

    /// The element, waiting up to 20 s for it to appear.
    pub async fn find(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
    }

    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap()
    }

    pub async fn click(&self, css: &str) {
        self.find(css).await.click().await.unwrap();
    }

    /// Replaces what an input holds.
    pub async fn fill(&self, css: &str, text: &str) {
        let input = self.find(css).await;
        input.clear().await.unwrap();
        input.send_keys(text).await.unwrap();
    }

    /// Fills each `(field, text)`.
    pub async fn fill_all(&self, fields: &[(&str, &str)]) {
        for (css, text) in fields {
            self.fill(css, text).await;
        }
    }

    /// The text a script returns.
    pub async fn script(&self, script: &str) -> String {
        let value = self.client.execute(script, vec![]).await.unwrap();
        value.as_str().unwrap_or_default().to_string()
    }

    /// Empties an element, so what appears in it next is new.
    pub async fn execute_clear(&self, css: &str) {
        let script = "document.querySelector(arguments[0]).replaceChildren()";
        self.client.execute(script, vec![json!(css)]).await.unwrap();
    }

    pub async fn count(&self, css: &str) -> usize {
        self.client.find_all(Locator::Css(css)).await.unwrap().len()
    }

    /// Waits until `css` matches an element whose text satisfies `ready`; answers the text.
    pub async fn wait_text(&self, css: &str, ready: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                if let Ok(text) = element.text().await {
                    if ready(&text) {
                        return text;
                    }
                }
            }
            assert!(Instant::now() < deadline, "{css} never became ready");
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A file that lands in the download directory with `extension`, once complete.
    pub async fn downloaded(&self, extension: &str) -> PathBuf {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let found = std::fs::read_dir(&self.downloads)
                .unwrap()
                .flatten()
                .map(|e| e.path())
                .find(|p| p.extension().is_some_and(|e| e == extension));
            if let Some(path) = found {
                return path;
            }
            if Instant::now() > deadline {
                let problems = self
                    .client
                    .find_all(Locator::Css(".problem"))
                    .await
                    .unwrap();
                let mut shown = Vec::new();
                for problem in problems {
                    shown.push(problem.text().await.unwrap_or_default());
                }
                panic!("no .{extension} was downloaded; the page says {shown:?}");
            }
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Keeps a picture of the page as `target/browser/<name>.png`.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        let dir = crate::support::root().join("target/browser");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    /// The console's errors since the last call, but the refusal a page expects while no one
    /// is signed in (the browser logs every failed request).
    pub async fn console_errors(&self) -> Vec<String> {
        let session = self.client.session_id().await.unwrap().unwrap();
        let mut reply = awc::Client::default()
            .post(format!("{}/session/{session}/se/log", self.driver_address))
            .send_json(&json!({ "type": "browser" }))
            .await
            .unwrap();
        let log: Value = reply.json().limit(16 << 20).await.unwrap();
        log["value"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|entry| entry["level"] == "SEVERE")
            .map(|entry| entry["message"].as_str().unwrap_or("").to_string())
            .filter(|message| !(message.contains("/v1/caller") && message.contains("401")))
            .collect()
    }

    /// Fails the test if the page logged an error; else ends the session.
    pub async fn close_without_console_errors(self) {
        assert_eq!(self.console_errors().await, Vec::<String>::new());
        self.close().await;
    }

    /// Ends the session; the driver and its browser go when `self` is dropped.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

/// A test that fails part-way leaves no browser behind: the driver's whole process group
/// (chromedriver and every Chromium process it started) is killed.
impl Drop for Browser {
    fn drop(&mut self) {
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.driver.wait();
    }
}
