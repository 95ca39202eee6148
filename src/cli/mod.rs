//! The command line: one binary for the service and the offline tools.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

mod bill;
mod population;
mod serve;
mod simulate;
mod tariffs;

use bill::{bill, BillOptions};
use population::gen_population;
pub use serve::openapi_json;
use serve::{openapi, serve};
use simulate::{simulate, SimulateFiles};
use tariffs::check_tariffs;

use std::io::{BufRead, BufReader, BufWriter, IsTerminal, Write};

use clap::{Parser, Subcommand, ValueEnum};

use crate::batch::run::run;
use crate::batch::{columnar, Columnar, Context, Format, Limits, Summary, Upload};
use crate::configuration::Settings;
use crate::period::Period;
use crate::population::Generator;
use crate::tariff::{load_dir, TariffSet};
use crate::wire::csv::{Lang, Table};
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
        /// Also list every provisional value each file sets, with its note and evidence.
        #[arg(long)]
        provisional: bool,
    },
    /// Price a batch offline (NDJSON or CSV, like POST /v1/bills/batch) with every core.
    Bill {
        /// Input file, or `-` for standard input.
        #[arg(long, default_value = "-")]
        input: PathBuf,
        /// Output file, or `-` for standard output.
        #[arg(long, default_value = "-")]
        output: PathBuf,
        /// Input format (default: from the input file's extension, else ndjson).
        #[arg(long, value_enum)]
        format: Option<InputArg>,
        /// Output format (default: from the output file's extension, else the input's).
        #[arg(long, value_enum)]
        output_format: Option<FormatArg>,
        #[arg(long, value_enum, default_value = "lines")]
        detail: DetailArg,
        #[arg(long)]
        tariffs: Option<PathBuf>,
        /// Check every record without pricing it.
        #[arg(long)]
        validate_only: bool,
        /// Language of a CSV output's headers and status words.
        #[arg(long, value_enum, default_value = "en")]
        lang: LangArg,
        /// Start a CSV output file with a UTF-8 byte-order mark, so Excel shows Chinese
        /// (default: on for a file, off for standard output).
        #[arg(long)]
        bom: Option<bool>,
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
        format: Option<InputArg>,
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
        format: InputArg,
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
        /// Also write the population's enterprises as a registry file (CSV, for
        /// `POST /v1/enterprises/import`); the records then name only their enterprise.
        #[arg(long)]
        registry: Option<PathBuf>,
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

/// What an input file holds: records as text, or a columnar file read as the CSV layout.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum InputArg {
    Ndjson,
    Csv,
    Parquet,
    Arrow,
}

impl From<InputArg> for Upload {
    fn from(f: InputArg) -> Upload {
        match f {
            InputArg::Ndjson => Upload::Text(Format::Ndjson),
            InputArg::Csv => Upload::Text(Format::Csv),
            InputArg::Parquet => Upload::Columnar(Columnar::Parquet),
            InputArg::Arrow => Upload::Columnar(Columnar::Arrow),
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LangArg {
    En,
    Zh,
}

impl From<LangArg> for Lang {
    fn from(l: LangArg) -> Lang {
        match l {
            LangArg::En => Lang::En,
            LangArg::Zh => Lang::Zh,
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
        Command::CheckTariffs {
            tariffs,
            provisional,
        } => check_tariffs(settings, tariffs, provisional),
        Command::Bill {
            input,
            output,
            format,
            output_format,
            detail,
            tariffs,
            validate_only,
            lang,
            bom,
        } => {
            let options = BillOptions {
                format,
                output_format,
                detail: detail.into(),
                validate_only,
                lang: lang.into(),
                bom,
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
            registry,
        } => gen_population(
            settings,
            n,
            seed,
            format.into(),
            &month,
            tariff,
            &output,
            tariffs,
            registry.as_deref(),
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

/// The format a file's name says (`-`, standard input or output, says none).
fn format_named(path: &Path) -> Option<Format> {
    path.to_str().and_then(Format::from_file_name)
}

/// The input a file's name says, NDJSON where it says none.
fn input_named(path: &Path, asked: Option<InputArg>) -> Upload {
    asked
        .map(Upload::from)
        .or_else(|| path.to_str().and_then(Upload::from_file_name))
        .unwrap_or(Upload::Text(Format::Ndjson))
}

fn fail(message: String) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}
