//! `tariffd bill`: a batch file priced offline, every core, output in input order.

use super::*;

/// The exit status when every record was read but some failed: distinct from 1, which
/// means the run itself could not be done.
pub const RECORDS_FAILED: u8 = 2;

pub struct BillOptions {
    pub format: Option<InputArg>,
    pub output_format: Option<FormatArg>,
    pub detail: Detail,
    pub validate_only: bool,
    pub lang: Lang,
    /// `None`: a byte-order mark for a file, none for standard output.
    pub bom: Option<bool>,
}

pub fn bill(
    settings: Settings,
    input: &Path,
    output: &Path,
    options: BillOptions,
    tariffs: Option<PathBuf>,
) -> ExitCode {
    let BillOptions {
        format,
        output_format,
        detail,
        validate_only,
        lang,
        bom,
    } = options;
    let result = (|| -> Result<Summary, String> {
        let tariffs = Arc::new(load_tariffs(&settings, tariffs)?);
        let upload = input_named(input, format);
        // The output's own format: asked for, or its file's extension, else the input's.
        let output_format = output_format
            .map(Format::from)
            .or_else(|| format_named(output))
            .unwrap_or(upload.records());
        let context = Context {
            registry: None,
            issuer: None,
            tariffs,
            format: upload.records(),
            output: output_format,
            detail,
            validate_only,
            table: Table {
                lang,
                bom: bom.unwrap_or(output != Path::new("-")),
            },
        };
        let limits = Limits::of(&settings.batch, u64::MAX);
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
            upload,
            open_input(input)?,
            open_output(output)?,
            limits,
            |n| bar.set_position(n),
        )
        .map_err(|e| e.to_string())?;
        bar.finish_and_clear();
        let seconds = started.elapsed().as_secs_f64();
        let rate = summary.lines as f64 / seconds.max(1e-9);
        if validate_only {
            eprintln!(
                "{} records: {} valid, {} invalid; {seconds:.1} s ({rate:.0} records/s)",
                summary.lines, summary.billed, summary.failed
            );
        } else {
            eprintln!(
                "{} records: {} billed, {} failed; surcharge {} yuan, total {} yuan; {seconds:.1} s ({rate:.0} records/s)",
                summary.lines, summary.billed, summary.failed, summary.surcharge, summary.total
            );
        }
        Ok(summary)
    })();
    match result {
        Ok(summary) if summary.failed == 0 => ExitCode::SUCCESS,
        // The output is whole, but some records could not be priced (or are invalid).
        Ok(_) => ExitCode::from(RECORDS_FAILED),
        Err(e) => fail(e),
    }
}
