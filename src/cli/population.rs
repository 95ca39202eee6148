//! `tariffd gen-population`: a synthetic population for trials and benchmarks.

use chrono::Datelike;

use super::*;
use crate::registry::import;
use crate::wire::csv::row;

#[allow(clippy::too_many_arguments)]
pub fn gen_population(
    settings: Settings,
    n: u64,
    seed: u64,
    upload: Upload,
    month: &str,
    tariff: Option<String>,
    output: &Path,
    tariffs: Option<PathBuf>,
    registry: Option<&Path>,
) -> ExitCode {
    let result = (|| -> Result<(), String> {
        let set = load_tariffs(&settings, tariffs)?;
        let tariff = set.resolve(tariff.as_deref()).ok_or("unknown tariff")?;
        let period = Period::parse_month(month)
            .ok_or_else(|| format!("`{month}` is not a month (YYYY-MM)"))?;
        let format = upload.records();
        // A columnar file is written as CSV first, then converted whole.
        let mut csv = Vec::new();
        let mut out: Box<dyn Write + '_> = match upload {
            Upload::Text(_) => open_output(output)?,
            Upload::Columnar(_) => Box::new(&mut csv),
        };
        let io = |e: std::io::Error| e.to_string();
        if format == Format::Csv {
            out.write_all(&crate::wire::csv::row(crate::wire::csv::input_header(
                crate::wire::csv::Lang::En,
            )))
            .map_err(io)?;
        }
        let mut registry = match registry {
            Some(path) => {
                let mut file = open_output(path)?;
                file.write_all(&row(import::header())).map_err(io)?;
                Some(file)
            }
            None => None,
        };
        let decided = period.start().with_ordinal(1).expect("1 January");
        for request in Generator::new(tariff, period, seed).take(n as usize) {
            let mut json = request_json(&request);
            if let Some(file) = registry.as_mut() {
                let cells = import::row_of_request(&json, decided, "synthetic");
                file.write_all(&row(cells)).map_err(io)?;
                import::by_reference(&mut json);
            }
            match format {
                Format::Ndjson => {
                    serde_json::to_writer(&mut out, &json).map_err(|e| e.to_string())?;
                    out.write_all(b"\n").map_err(io)?;
                }
                Format::Csv => out
                    .write_all(&crate::wire::csv::row(crate::wire::csv::request_row(&json)))
                    .map_err(io)?,
            }
        }
        if let Some(mut file) = registry {
            file.flush().map_err(io)?;
        }
        out.flush().map_err(io)?;
        drop(out);
        if let Upload::Columnar(kind) = upload {
            let file = columnar::convert::from_csv(&csv, kind)?;
            let mut out = open_output(output)?;
            out.write_all(&file).map_err(io)?;
            out.flush().map_err(io)?;
        }
        Ok(())
    })();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}
