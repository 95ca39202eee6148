//! One typed settings tree from layered sources: built-in defaults, an optional file, then
//! `TARIFFD_*` environment variables (`__` between levels, e.g. `TARIFFD_SERVER__PORT`).

use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
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
    /// Open connections at most; more wait in the listen queue. Each holds two file
    /// descriptors: past what `ulimit -n` carries (less 256 kept for the rest) it is lowered
    /// at start, with a warning.
    pub max_connections: usize,
}

#[derive(Debug, Clone, Deserialize)]
pub struct BatchSettings {
    /// Longest accepted record line; a longer one becomes an error record.
    pub max_line_bytes: usize,
    /// Most records in one batch request; later ones are reported, not priced.
    pub max_lines: u64,
    /// Largest Parquet or Arrow upload (read whole, its index being at its end), and the most
    /// it may hold inflated.
    pub max_file_bytes: usize,
    /// The most a Parquet file may decode to, counted before it is decoded (a page of
    /// dictionary indices as that many of the dictionary's longest value): what a text
    /// upload of the records could carry.
    pub max_decoded_bytes: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SimulationSettings {
    /// Most enterprises in one simulation (they are held in memory while it runs).
    pub max_population: u64,
    /// Largest JSON body of a simulation with its population inline.
    pub body_limit_bytes: usize,
    /// Memory all populations kept for simulations (`POST /v1/populations`) may hold
    /// together; past it the least recently used are let go.
    pub kept_populations_bytes: usize,
    /// The most one key's kept populations may hold: past it, that key's least recently
    /// used are let go (never another key's).
    pub kept_populations_bytes_per_key: usize,
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
    /// Batches, simulations, kept populations and registry imports running at once; one
    /// more is answered 429.
    pub max_concurrent_heavy: usize,
    /// The most of those one key may run at once, so that one client cannot take every
    /// place (default: half, at least one).
    pub max_heavy_per_key: usize,
    /// Workbooks written at once, on places of their own (half of them for one key).
    pub max_concurrent_exports: usize,
    /// The `Retry-After` of a 429, in seconds.
    pub retry_after_seconds: u64,
    /// Time a client has to send its request head, in milliseconds.
    pub client_request_timeout_ms: u64,
    /// A body (any body: a bill, a batch, a population) that sends nothing for this long is
    /// ended, from its first byte on.
    pub body_idle_timeout_seconds: u64,
    /// A body read whole (a bill, a draft tariff, a JSON simulation) must arrive within this.
    pub body_read_timeout_seconds: u64,
    /// A body must bring at least this many bytes in every `body_rate_window_seconds` spent
    /// waiting on it; a trickle slower than that is ended (408, or an error record).
    pub body_min_bytes: u64,
    pub body_rate_window_seconds: u64,
    /// A streamed upload (a batch, a population) must end within this, however fast.
    pub upload_timeout_seconds: u64,
    /// The most problems an answer lists one by one (a registry file's bad cells); the rest
    /// are counted.
    pub max_listed_errors: usize,
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
pub struct DatabaseSettings {
    /// `sqlite://path/to/file.db` (created and migrated on start) or `postgres://…`.
    pub url: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LogSettings {
    pub format: LogFormat,
    /// `tracing` filter directives; `RUST_LOG` overrides.
    pub filter: String,
}

/// Every setting and its built-in value (`auth.keys` has none: it is a list of tables).
const DEFAULTS: [(&str, &str); 31] = [
    ("server.host", "127.0.0.1"),
    ("server.port", "8080"),
    ("server.workers", "0"),
    ("server.body_limit_bytes", "1048576"),
    ("server.max_connections", "4096"),
    ("batch.max_line_bytes", "65536"),
    ("batch.max_lines", "10000000"),
    ("batch.max_file_bytes", "268435456"),
    ("batch.max_decoded_bytes", "4294967296"),
    ("simulation.max_population", "2000000"),
    ("simulation.body_limit_bytes", "268435456"),
    ("simulation.kept_populations_bytes", "2147483648"),
    ("simulation.kept_populations_bytes_per_key", "536870912"),
    ("auth.enabled", "true"),
    ("limits.max_concurrent_heavy", "4"),
    ("limits.max_heavy_per_key", "2"),
    ("limits.max_concurrent_exports", "2"),
    ("limits.retry_after_seconds", "1"),
    ("limits.client_request_timeout_ms", "5000"),
    ("limits.shutdown_grace_seconds", "30"),
    ("limits.max_listed_errors", "100"),
    ("limits.body_min_bytes", "1024"),
    ("limits.body_rate_window_seconds", "10"),
    ("limits.upload_timeout_seconds", "1800"),
    ("limits.body_idle_timeout_seconds", "60"),
    ("limits.body_read_timeout_seconds", "60"),
    ("database.url", "sqlite://data/tariffd.db"),
    ("tariffs.dir", "tariffs"),
    ("tariffs.default", "cn-sx-xinzhou"),
    ("log.format", "pretty"),
    ("log.filter", "info"),
];

const PREFIX: &str = "TARIFFD_";

impl Settings {
    /// Defaults, then `file` (if given), then the environment. A key the settings do not
    /// have stops the load, naming the closest one; so does a `TARIFFD_*` variable close to
    /// a setting's name (others, such as the bench scripts' `TARIFFD_BIN`, are not settings).
    pub fn load(file: Option<&Path>) -> Result<Settings, config::ConfigError> {
        Settings::load_from(file, std::env::vars())
    }

    fn load_from(
        file: Option<&Path>,
        vars: impl Iterator<Item = (String, String)>,
    ) -> Result<Settings, config::ConfigError> {
        let mut builder = config::Config::builder();
        for (key, value) in DEFAULTS {
            builder = builder.set_default(key, value)?;
        }
        if let Some(file) = file {
            check_file_keys(file)?;
            builder = builder.add_source(config::File::from(file).required(true));
        }
        let environment = settings_in(vars)?;
        builder
            .add_source(
                config::Environment::with_prefix("TARIFFD")
                    .prefix_separator("_")
                    .separator("__")
                    .try_parsing(true)
                    .source(Some(environment)),
            )
            .build()?
            .try_deserialize()
    }
}

/// The `TARIFFD_*` variables that name settings; one close to a setting's name is an error.
fn settings_in(
    vars: impl Iterator<Item = (String, String)>,
) -> Result<std::collections::HashMap<String, String>, config::ConfigError> {
    let mut settings = std::collections::HashMap::new();
    for (name, value) in vars {
        // `TARIFFD_CONFIG` names the file; it is not a setting.
        let Some(rest) = name.strip_prefix(PREFIX).filter(|r| *r != "CONFIG") else {
            continue;
        };
        let key = rest.to_ascii_lowercase().replace("__", ".");
        if is_setting(&key) {
            settings.insert(name, value);
        } else if let Some(closest) = closest(&key).filter(|(_, score)| *score >= 0.85) {
            let variable = format!(
                "{PREFIX}{}",
                closest.0.to_ascii_uppercase().replace('.', "__")
            );
            return Err(config::ConfigError::Message(format!(
                "{name} is not a setting; did you mean {variable} (`{}`)?",
                closest.0
            )));
        }
    }
    Ok(settings)
}

/// Every key the file sets must be a setting.
fn check_file_keys(file: &Path) -> Result<(), config::ConfigError> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| config::ConfigError::Message(format!("{}: {e}", file.display())))?;
    let table: toml::Table = toml::from_str(&text)
        .map_err(|e| config::ConfigError::Message(format!("{}: {e}", file.display())))?;
    check_key_entries(file, &table)?;
    let mut keys = Vec::new();
    leaf_keys("", &table, &mut keys);
    match keys.iter().find(|k| !is_setting(k)) {
        None => Ok(()),
        Some(key) => {
            let hint =
                closest(key).map_or(String::new(), |(c, _)| format!("; did you mean `{c}`?"));
            Err(config::ConfigError::Message(format!(
                "{}: `{key}` is not a setting{hint}",
                file.display()
            )))
        }
    }
}

/// Each `[[auth.keys]]` entry sets only what a key has: anything else (`enabled = false`)
/// would be read past, leaving the key as it was.
fn check_key_entries(file: &Path, table: &toml::Table) -> Result<(), config::ConfigError> {
    const FIELDS: [&str; 3] = ["name", "sha256", "roles"];
    let entries = table
        .get("auth")
        .and_then(|auth| auth.get("keys"))
        .and_then(toml::Value::as_array);
    for (at, entry) in entries.into_iter().flatten().enumerate() {
        let Some(entry) = entry.as_table() else {
            continue;
        };
        if let Some(field) = entry.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            let name = entry.get("name").and_then(toml::Value::as_str);
            let which = name.map_or(format!("number {}", at + 1), |n| format!("`{n}`"));
            return Err(config::ConfigError::Message(format!(
                "{}: [[auth.keys]] {which}: `{field}` is not a key's setting (a key has name, sha256 and roles; remove the entry to withdraw a key)",
                file.display()
            )));
        }
    }
    Ok(())
}

/// Dotted keys of a table's values; a list (of key tables) is one value.
fn leaf_keys(prefix: &str, table: &toml::Table, out: &mut Vec<String>) {
    for (name, value) in table {
        let key = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        match value {
            toml::Value::Table(inner) => leaf_keys(&key, inner, out),
            _ => out.push(key),
        }
    }
}

/// Whether `key` (dotted, e.g. `database.url`) names a setting.
pub fn is_setting(key: &str) -> bool {
    key == "auth.keys" || DEFAULTS.iter().any(|(k, _)| *k == key)
}

/// The setting whose name is closest to `key`, with the likeness (1 = the same).
fn closest(key: &str) -> Option<(&'static str, f64)> {
    DEFAULTS
        .iter()
        .map(|(k, _)| *k)
        .chain(["auth.keys"])
        .map(|k| (k, strsim::jaro_winkler(key, k)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Iterator<Item = (String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn defaults_load_and_known_variables_apply() {
        let s = Settings::load_from(None, vars(&[("TARIFFD_SERVER__PORT", "9000")])).unwrap();
        assert_eq!(s.server.port, 9000);
        assert!(s.auth.enabled);
        assert_eq!(s.tariffs.default, "cn-sx-xinzhou");
    }

    #[test]
    fn a_misspelt_variable_names_the_setting_meant() {
        let error = Settings::load_from(None, vars(&[("TARIFFD_SERVER__PROT", "9000")]))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("TARIFFD_SERVER__PROT") && error.contains("TARIFFD_SERVER__PORT"),
            "{error}"
        );
        // A variable far from every setting is not one (the bench scripts' TARIFFD_BIN).
        assert!(Settings::load_from(None, vars(&[("TARIFFD_BIN", "/tmp/x")])).is_ok());
    }

    #[test]
    fn an_unknown_key_in_the_file_names_the_closest_setting() {
        let file =
            std::env::temp_dir().join(format!("tariffd-settings-{}.toml", std::process::id()));
        std::fs::write(
            &file,
            "[server]\nprot = 9000\n[[auth.keys]]\nname = \"a\"\nsha256 = \"00\"\nroles = []\n",
        )
        .unwrap();
        let error = Settings::load_from(Some(&file), vars(&[]))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("server.prot") && error.contains("server.port"),
            "{error}"
        );
        std::fs::write(&file, "[server]\nport = 9000\n").unwrap();
        assert_eq!(
            Settings::load_from(Some(&file), vars(&[]))
                .unwrap()
                .server
                .port,
            9000
        );
        std::fs::remove_file(&file).unwrap();
    }

    #[test]
    fn a_key_entry_setting_what_a_key_does_not_have_is_refused_naming_it() {
        let file = std::env::temp_dir().join(format!("tariffd-keys-{}.toml", std::process::id()));
        let key = |extra: &str| {
            format!("[[auth.keys]]\nname = \"ok\"\nsha256 = \"00\"\nroles = [\"reader\"]\n[[auth.keys]]\nname = \"grid\"\nsha256 = \"00\"\nroles = [\"biller\"]\n{extra}")
        };
        std::fs::write(&file, key("enabled = false\n")).unwrap();
        let error = Settings::load_from(Some(&file), vars(&[]))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("`grid`") && error.contains("`enabled`"),
            "{error}"
        );
        std::fs::write(&file, key("")).unwrap();
        assert_eq!(
            Settings::load_from(Some(&file), vars(&[]))
                .unwrap()
                .auth
                .keys
                .len(),
            2
        );
        std::fs::remove_file(&file).unwrap();
    }
}
