//! `serve` and `openapi`: the commands that start or describe the HTTP service, the only
//! part of the command line that knows of it.

use std::path::PathBuf;
use std::process::ExitCode;

use super::fail;
use crate::configuration::Settings;
use crate::startup::Application;

pub fn serve(
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
        let app = Application::build(&settings)
            .await
            .map_err(|e| e.to_string())?;
        app.run_until_stopped().await.map_err(|e| e.to_string())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

/// The document `openapi/openapi.json` holds (a test keeps the two equal).
pub fn openapi_json() -> String {
    let mut json = crate::api::openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serialises");
    json.push('\n');
    json
}

pub fn openapi(output: Option<PathBuf>) -> ExitCode {
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
