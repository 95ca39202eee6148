//! The command line: one binary for the service and the offline tools.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

mod serve;
pub use serve::openapi_json;
use serve::{openapi, serve};

use std::io::{BufRead, BufReader, BufWriter, IsTerminal, Write};

use clap::{Parser, Subcommand, ValueEnum};

use crate::batch::run::run;
use crate::batch::{Context, Format, Limits, Summary};
use crate::configuration::Settings;
use crate::period::Period;
use crate::population::Generator;
use crate::tariff::{load_dir, TariffSet};
use crate::wire::request::request_json;
use crate::wire::view::Detail;

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
    /// Price a batch offline (NDJSON or CSV, like POST /v1/bills/batch) with every core.
    Bill {
        /// Input file, or `-` for standard input.
        #[arg(long, default_value = "-")]
        input: PathBuf,
        /// Output file, or `-` for standard output.
        #[arg(long, default_value = "-")]
        output: PathBuf,
        /// Input and output format (default: from the input file's extension, else ndjson).
        #[arg(long, value_enum)]
        format: Option<FormatArg>,
        #[arg(long, value_enum, default_value = "lines")]
        detail: DetailArg,
        #[arg(long)]
        tariffs: Option<PathBuf>,
        /// Check every record without pricing it.
        #[arg(long)]
        validate_only: bool,
    },
    /// What-if: price a population under a tariff and a reform of it, and compare.
    Simulate {
        /// The simulation (TOML: `[reform]` with `name` and `[reform.parameters]`, optional
        /// `tariff`, `top`, `[sweep]`, `[goal]`, as the JSON of POST /v1/simulations), or a
        /// whole draft tariff file.
        #[arg(long)]
        reform: PathBuf,
        /// Population file (NDJSON or CSV, as for `bill`), or `-` for standard input.
        #[arg(long)]
        population: PathBuf,
        /// Population format (default: from the file's extension, else ndjson).
        #[arg(long, value_enum)]
        format: Option<FormatArg>,
        /// The tariff reformed (default: the file's `tariff`, a draft's own id, or the
        /// configured default).
        #[arg(long)]
        tariff: Option<String>,
        /// Write the full result as JSON.
        #[arg(long)]
        json: Option<PathBuf>,
        /// Write every row of the result as CSV.
        #[arg(long)]
        csv: Option<PathBuf>,
        #[arg(long)]
        tariffs: Option<PathBuf>,
    },
    /// Print the SHA-256 of an API key read from standard input, for `auth.keys`.
    HashKey,
    /// Write a synthetic population of bill requests (a realistic mix, seeded).
    GenPopulation {
        #[arg(long)]
        n: u64,
        #[arg(long, default_value_t = 7)]
        seed: u64,
        #[arg(long, value_enum, default_value = "ndjson")]
        format: FormatArg,
        /// Billing month, YYYY-MM.
        #[arg(long, default_value = "2020-10")]
        month: String,
        /// Tariff the population is billed under (default: the configured default).
        #[arg(long)]
        tariff: Option<String>,
        /// Output file, or `-` for standard output.
        #[arg(long, default_value = "-")]
        output: PathBuf,
        #[arg(long)]
        tariffs: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FormatArg {
    Ndjson,
    Csv,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Ndjson => Format::Ndjson,
            FormatArg::Csv => Format::Csv,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum DetailArg {
    Totals,
    Lines,
    Full,
}

impl From<DetailArg> for Detail {
    fn from(d: DetailArg) -> Detail {
        match d {
            DetailArg::Totals => Detail::Totals,
            DetailArg::Lines => Detail::Lines,
            DetailArg::Full => Detail::Full,
        }
    }
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
        Command::Bill {
            input,
            output,
            format,
            detail,
            tariffs,
            validate_only,
        } => {
            let options = BillOptions {
                format,
                detail: detail.into(),
                validate_only,
            };
            bill(settings, &input, &output, options, tariffs)
        }
        Command::HashKey => {
            let mut key = String::new();
            match std::io::stdin().read_line(&mut key) {
                Ok(_) => {
                    println!(
                        "{}",
                        crate::access::hash_key(key.trim_end_matches(['\r', '\n']))
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e.to_string()),
            }
        }
        Command::Simulate {
            reform,
            population,
            format,
            tariff,
            json,
            csv,
            tariffs,
        } => {
            let files = SimulateFiles {
                reform,
                population,
                format,
                json,
                csv,
            };
            simulate(settings, files, tariff, tariffs)
        }
        Command::GenPopulation {
            n,
            seed,
            format,
            month,
            tariff,
            output,
            tariffs,
        } => gen_population(
            settings,
            n,
            seed,
            format.into(),
            &month,
            tariff,
            &output,
            tariffs,
        ),
    }
}

fn load_tariffs(settings: &Settings, dir: Option<PathBuf>) -> Result<TariffSet, String> {
    let dir = dir.unwrap_or_else(|| settings.tariffs.dir.clone());
    load_dir(&dir)
        .and_then(|t| TariffSet::new(t, &settings.tariffs.default))
        .map_err(|e| e.to_string())
}

fn open_input(path: &Path) -> Result<Box<dyn BufRead>, String> {
    if path == Path::new("-") {
        return Ok(Box::new(BufReader::with_capacity(
            1 << 18,
            std::io::stdin(),
        )));
    }
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    Ok(Box::new(BufReader::with_capacity(1 << 18, file)))
}

fn open_output(path: &Path) -> Result<Box<dyn Write>, String> {
    if path == Path::new("-") {
        return Ok(Box::new(BufWriter::with_capacity(
            1 << 18,
            std::io::stdout(),
        )));
    }
    let file = std::fs::File::create(path)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    Ok(Box::new(BufWriter::with_capacity(1 << 18, file)))
}

/// The format a file's name says, NDJSON where it says none.
fn format_from_extension(path: &Path) -> Format {
    path.to_str()
        .and_then(Format::from_file_name)
        .unwrap_or(Format::Ndjson)
}

struct BillOptions {
    format: Option<FormatArg>,
    detail: Detail,
    validate_only: bool,
}

fn bill(
    settings: Settings,
    input: &Path,
    output: &Path,
    options: BillOptions,
    tariffs: Option<PathBuf>,
) -> ExitCode {
    let BillOptions {
        format,
        detail,
        validate_only,
    } = options;
    let result = (|| -> Result<Summary, String> {
        let tariffs = Arc::new(load_tariffs(&settings, tariffs)?);
        let format = format
            .map(Format::from)
            .unwrap_or_else(|| format_from_extension(input));
        let context = Context {
            tariffs,
            format,
            detail,
            columns: None,
            validate_only,
        };
        let limits = Limits {
            max_line_bytes: settings.batch.max_line_bytes,
            max_lines: u64::MAX,
        };
        let bar = indicatif::ProgressBar::new_spinner();
        if !std::io::stderr().is_terminal() {
            bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
        }
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {human_pos} records  {per_sec}  {elapsed}",
            )
            .expect("a valid template"),
        );
        let started = std::time::Instant::now();
        let summary = run(
            context,
            open_input(input)?,
            open_output(output)?,
            limits,
            |n| bar.set_position(n),
        )
        .map_err(|e| e.to_string())?;
        bar.finish_and_clear();
        let seconds = started.elapsed().as_secs_f64();
        eprintln!(
            "{} records: {} billed, {} failed; surcharge {} yuan, total {} yuan; {:.1} s ({:.0} records/s)",
            summary.lines, summary.billed, summary.failed, summary.surcharge, summary.total, seconds, summary.lines as f64 / seconds.max(1e-9)
        );
        Ok(summary)
    })();
    match result {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

struct SimulateFiles {
    reform: PathBuf,
    population: PathBuf,
    format: Option<FormatArg>,
    json: Option<PathBuf>,
    csv: Option<PathBuf>,
}

fn simulate(
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
        let format = files
            .format
            .map(Format::from)
            .unwrap_or_else(|| format_from_extension(&files.population));
        let limits = Limits {
            max_line_bytes: settings.batch.max_line_bytes,
            max_lines: settings.simulation.max_population,
        };
        let mut intake = crate::simulation::intake::Intake::new(format, limits, set.clone());
        let mut input = open_input(&files.population)?;
        loop {
            let chunk = input.fill_buf().map_err(|e| e.to_string())?;
            if chunk.is_empty() {
                break;
            }
            let n = chunk.len();
            intake.feed(chunk).map_err(|e| e.to_string())?;
            input.consume(n);
        }
        let population = intake.finish().map_err(|e| e.to_string())?;
        let started = std::time::Instant::now();
        let scenario = crate::simulation::Scenario {
            tariffs: &set,
            baseline: &target,
            population: &population,
            cancel: None,
        };
        let report = scenario.run(&spec).map_err(|problems| {
            let lines: Vec<String> = problems
                .iter()
                .map(|p| format!("{}: {}", p.pointer, p.message))
                .collect();
            lines.join("\n")
        })?;
        let seconds = started.elapsed().as_secs_f64();
        print!("{}", crate::simulation::render::text(&report));
        eprintln!("simulated in {seconds:.2} s");
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

#[allow(clippy::too_many_arguments)]
fn gen_population(
    settings: Settings,
    n: u64,
    seed: u64,
    format: Format,
    month: &str,
    tariff: Option<String>,
    output: &Path,
    tariffs: Option<PathBuf>,
) -> ExitCode {
    let result = (|| -> Result<(), String> {
        let set = load_tariffs(&settings, tariffs)?;
        let tariff = set.resolve(tariff.as_deref()).ok_or("unknown tariff")?;
        let period = Period::parse_month(month)
            .ok_or_else(|| format!("`{month}` is not a month (YYYY-MM)"))?;
        let mut out = open_output(output)?;
        let io = |e: std::io::Error| e.to_string();
        if format == Format::Csv {
            out.write_all(&crate::wire::csv::row(crate::wire::csv::input_header()))
                .map_err(io)?;
        }
        for request in Generator::new(tariff, period, seed).take(n as usize) {
            let json = request_json(&request);
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
        out.flush().map_err(io)
    })();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

fn fail(message: String) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

fn check_tariffs(settings: Settings, dir: Option<PathBuf>) -> ExitCode {
    match load_tariffs(&settings, dir) {
        Err(e) => fail(e),
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
