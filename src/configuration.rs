//! One typed settings tree from layered sources: built-in defaults, an optional file, then
//! `TARIFFD_*` environment variables (`__` between levels, e.g. `TARIFFD_SERVER__PORT`).

use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub server: ServerSettings,
    pub batch: BatchSettings,
    pub simulation: SimulationSettings,
    pub auth: AuthSettings,
    pub limits: LimitSettings,
    pub tariffs: TariffSettings,
    pub log: LogSettings,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    /// Worker threads; 0 means one per core.
    pub workers: usize,
    /// Largest accepted body for a single bill.
    pub body_limit_bytes: usize,
    /// Open connections at most; more wait in the listen queue. Keep it below the process's
    /// file-descriptor limit (`ulimit -n`).
    pub max_connections: usize,
}

#[derive(Debug, Clone, Deserialize)]
pub struct BatchSettings {
    /// Longest accepted record line; a longer one becomes an error record.
    pub max_line_bytes: usize,
    /// Most records in one batch request; later ones are reported, not priced.
    pub max_lines: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SimulationSettings {
    /// Most enterprises in one simulation (they are held in memory while it runs).
    pub max_population: u64,
    /// Largest JSON body of a simulation with its population inline.
    pub body_limit_bytes: usize,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AuthSettings {
    /// Off only for local use: every endpoint is then open (the server warns at start-up).
    pub enabled: bool,
    #[serde(default)]
    pub keys: Vec<crate::access::KeySettings>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LimitSettings {
    /// Batches and simulations running at once; one more is answered 429.
    pub max_concurrent_heavy: usize,
    /// The `Retry-After` of a 429, in seconds.
    pub retry_after_seconds: u64,
    /// Time a client has to send its request head, in milliseconds.
    pub client_request_timeout_ms: u64,
    /// A body (any body: a bill, a batch, a population) that sends nothing for this long is
    /// ended, from its first byte on.
    pub body_idle_timeout_seconds: u64,
    /// A body read whole (a bill, a draft tariff, a JSON simulation) must arrive within this.
    pub body_read_timeout_seconds: u64,
    /// On shutdown, how long in-flight requests may take to finish.
    pub shutdown_grace_seconds: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TariffSettings {
    pub dir: PathBuf,
    /// Tariff for requests that name none.
    pub default: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LogSettings {
    pub format: LogFormat,
    /// `tracing` filter directives; `RUST_LOG` overrides.
    pub filter: String,
}

impl Settings {
    /// Defaults, then `file` (if given), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Settings, config::ConfigError> {
        let mut builder = config::Config::builder()
            .set_default("server.host", "127.0.0.1")?
            .set_default("server.port", 8080)?
            .set_default("server.workers", 0)?
            .set_default("server.body_limit_bytes", 1024 * 1024)?
            .set_default("server.max_connections", 4096)?
            .set_default("batch.max_line_bytes", 64 * 1024)?
            .set_default("batch.max_lines", 10_000_000)?
            .set_default("simulation.max_population", 2_000_000)?
            .set_default("simulation.body_limit_bytes", 256 * 1024 * 1024)?
            .set_default("auth.enabled", true)?
            .set_default("limits.max_concurrent_heavy", 4)?
            .set_default("limits.retry_after_seconds", 1)?
            .set_default("limits.client_request_timeout_ms", 5000)?
            .set_default("limits.shutdown_grace_seconds", 30)?
            .set_default("limits.body_idle_timeout_seconds", 60)?
            .set_default("limits.body_read_timeout_seconds", 60)?
            .set_default("tariffs.dir", "tariffs")?
            .set_default("tariffs.default", "cn-sx-xinzhou")?
            .set_default("log.format", "pretty")?
            .set_default("log.filter", "info")?;
        if let Some(file) = file {
            builder = builder.add_source(config::File::from(file).required(true));
        }
        builder
            .add_source(
                config::Environment::with_prefix("TARIFFD")
                    .prefix_separator("_")
                    .separator("__")
                    .try_parsing(true),
            )
            .build()?
            .try_deserialize()
    }
}
