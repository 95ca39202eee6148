//! The command line: one binary for the service and the offline tools.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use utoipa::OpenApi;

use crate::configuration::Settings;
use crate::startup::Application;
use crate::tariff::{load_dir, TariffSet};

#[derive(Debug, Parser)]
#[command(
    name = "tariffd",
    version,
    about = "Exact, explainable bills under China's industrial price policy"
)]
pub struct Cli {
    /// Configuration file (TOML); `TARIFFD_*` variables override it.
    #[arg(long, global = true, env = "TARIFFD_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start the HTTP service.
    Serve {
        /// Port to listen on (0: any free port).
        #[arg(long)]
        port: Option<u16>,
        /// Address to bind.
        #[arg(long)]
        host: Option<String>,
        /// Directory of tariff files.
        #[arg(long)]
        tariffs: Option<PathBuf>,
    },
    /// Write the OpenAPI document.
    Openapi {
        /// File to write (default: standard output).
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Validate the tariff files and list what they hold.
    CheckTariffs {
        #[arg(long)]
        tariffs: Option<PathBuf>,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(s) => s,
        Err(e) => return fail(format!("configuration: {e}")),
    };
    match cli.command {
        Command::Serve {
            port,
            host,
            tariffs,
        } => serve(settings, port, host, tariffs),
        Command::Openapi { output } => openapi(output),
        Command::CheckTariffs { tariffs } => check_tariffs(settings, tariffs),
    }
}

fn fail(message: String) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

fn serve(
    mut settings: Settings,
    port: Option<u16>,
    host: Option<String>,
    tariffs: Option<PathBuf>,
) -> ExitCode {
    settings.server.port = port.unwrap_or(settings.server.port);
    settings.server.host = host.unwrap_or(settings.server.host);
    settings.tariffs.dir = tariffs.unwrap_or(settings.tariffs.dir);
    crate::telemetry::init(settings.log.format, &settings.log.filter);
    let result = actix_web::rt::System::new().block_on(async {
        let app = Application::build(&settings).map_err(|e| e.to_string())?;
        app.run_until_stopped().await.map_err(|e| e.to_string())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

/// The document `openapi/openapi.json` holds (a test keeps the two equal).
pub fn openapi_json() -> String {
    let mut json = crate::api::ApiDoc::openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serialises");
    json.push('\n');
    json
}

fn openapi(output: Option<PathBuf>) -> ExitCode {
    let json = openapi_json();
    match output {
        None => {
            print!("{json}");
            ExitCode::SUCCESS
        }
        Some(path) => match std::fs::write(&path, json) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(format!("cannot write {}: {e}", path.display())),
        },
    }
}

fn check_tariffs(settings: Settings, dir: Option<PathBuf>) -> ExitCode {
    let dir = dir.unwrap_or(settings.tariffs.dir);
    let loaded = load_dir(&dir).and_then(|t| TariffSet::new(t, &settings.tariffs.default));
    match loaded {
        Err(e) => fail(e.to_string()),
        Ok(set) => {
            for t in set.iter() {
                let provisional = t
                    .parameters
                    .iter()
                    .flat_map(|p| &p.entries)
                    .filter(|e| e.provisional)
                    .count();
                println!(
                    "{} {} ({} parameters, {} provisional values) {}",
                    t.id(),
                    t.meta.version,
                    t.parameters.len(),
                    provisional,
                    t.digest
                );
            }
            ExitCode::SUCCESS
        }
    }
}
