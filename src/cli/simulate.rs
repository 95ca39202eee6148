//! `tariffd simulate`: a reform over a population file, as a table, JSON or CSV.

use super::*;
use crate::simulation::single_pass::Comparison;

pub struct SimulateFiles {
    pub reform: PathBuf,
    pub population: PathBuf,
    pub format: Option<InputArg>,
    pub json: Option<PathBuf>,
    pub csv: Option<PathBuf>,
}

pub fn simulate(
    settings: Settings,
    files: SimulateFiles,
    tariff: Option<String>,
    tariffs: Option<PathBuf>,
) -> ExitCode {
    let result = (|| -> Result<(), String> {
        let set = Arc::new(load_tariffs(&settings, tariffs)?);
        let text = std::fs::read_to_string(&files.reform)
            .map_err(|e| format!("cannot read {}: {e}", files.reform.display()))?;
        let body = crate::wire::simulation::body_from_toml(&text, tariff, &set)
            .map_err(|e| format!("{}: {e}", files.reform.display()))?;
        let simulation = body.into_spec(&set).map_err(|e| e.to_string())?;
        let (target, spec) = (simulation.target, simulation.spec);
        let upload = input_named(&files.population, files.format);
        let limits = Limits::of(&settings.batch, settings.simulation.max_population);
        let input = crate::batch::run::pieces(open_input(&files.population)?);
        let started = std::time::Instant::now();
        let report = match spec.in_one_pass() {
            // Nothing passes over the population again: compare it as it is read.
            true => {
                let source = crate::simulation::intake::Source {
                    format: upload.records(),
                    tariffs: set.clone(),
                    registry: None,
                };
                let comparison = Comparison::new(source, target, &spec).map_err(problems_text)?;
                let (report, _) = comparison
                    .run(&spec.reform, (upload, limits), input)
                    .map_err(|e| e.to_string())?;
                report
            }
            false => {
                let read =
                    crate::simulation::intake::read(upload, limits, set.clone(), None, None, input);
                let (population, _) = read.map_err(|e| e.to_string())?;
                let scenario = crate::simulation::Scenario {
                    tariffs: &set,
                    baseline: &target,
                    population: &population,
                    cancel: None,
                    incremental: true,
                };
                scenario.run(&spec).map_err(problems_text)?
            }
        };
        let seconds = started.elapsed().as_secs_f64();
        print!("{}", crate::simulation::render::text(&report));
        eprintln!("read and simulated in {seconds:.2} s");
        let write = |path: &Path, bytes: Vec<u8>| {
            std::fs::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
        };
        if let Some(path) = &files.json {
            let json = serde_json::to_vec_pretty(&report).map_err(|e| e.to_string())?;
            write(path, json)?;
        }
        if let Some(path) = &files.csv {
            write(path, crate::simulation::render::csv(&report))?;
        }
        Ok(())
    })();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

/// A reform's problems, one per line.
fn problems_text(problems: Vec<crate::simulation::Problem>) -> String {
    let lines: Vec<String> = problems
        .iter()
        .map(|p| format!("{}: {}", p.pointer, p.message))
        .collect();
    lines.join("\n")
}
