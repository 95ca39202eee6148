//! Batch billing: many records in, one output record per input record, in input order,
//! then a summary. Input is split into chunks priced independently (so every core can
//! work) and written back in order; memory holds a few chunks, whatever the batch size.

pub mod columnar;
pub mod run;
mod split;
pub mod stream;

use std::sync::Arc;

use bytes::Bytes;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::bill::{Bill, BillRequest, Options};
use crate::ledger::{Entry, Issuer};
use crate::money::zero_money;
use crate::pricing::price_request;
use crate::pricing::tariff_for;
use crate::registry::{fill, Snapshot};
use crate::tariff::{Tariff, TariffSet};
use crate::wire::csv;
use crate::wire::problem::ApiError;
use crate::wire::request::BillRequestBody;
use crate::wire::view::{BillResponse, Detail};
pub use columnar::Columnar;
pub use split::{Record, Splitter};

/// Records per chunk: large enough to amortise handing work to a thread, small enough
/// that a few chunks in flight stay a few megabytes.
pub const CHUNK_RECORDS: usize = 512;

/// The chunks ready to price: every full one, and when the input is `done` the rest too.
/// They are taken in one pass, so a piece of input holding many records costs no more per
/// record than a small one.
pub fn ready_chunks(records: &mut Vec<Record>, done: bool) -> Vec<Vec<Record>> {
    let ready = if done {
        records.len()
    } else {
        records.len() - records.len() % CHUNK_RECORDS
    };
    let mut taken = records.drain(..ready);
    let mut chunks = Vec::with_capacity(ready.div_ceil(CHUNK_RECORDS));
    loop {
        let chunk: Vec<Record> = taken.by_ref().take(CHUNK_RECORDS).collect();
        if chunk.is_empty() {
            return chunks;
        }
        chunks.push(chunk);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON bill request per line; output `{"line", "bill"|"error"}` per line.
    Ndjson,
    /// A header line, then one flat row per enterprise (see [`csv`]).
    Csv,
}

/// Every name a format goes by: media types (any parameters aside) and file extensions.
type Names<T> = [(T, &'static [&'static str], &'static [&'static str])];

const FORMAT_NAMES: [(Format, &[&str], &[&str]); 2] = [
    (
        Format::Ndjson,
        &[
            "application/x-ndjson",
            "application/ndjson",
            "application/jsonl",
            "application/json-seq",
        ],
        &["ndjson", "jsonl"],
    ),
    (Format::Csv, &["text/csv"], &["csv"]),
];

/// The entry of `names` a `Content-Type` names, whatever its parameters.
fn by_content_type<T: Copy>(names: &Names<T>, content_type: &str) -> Option<T> {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    names
        .iter()
        .find(|(_, types, _)| types.iter().any(|t| t.eq_ignore_ascii_case(essence)))
        .map(|(named, _, _)| *named)
}

/// The entry of `names` a file name's extension names.
fn by_file_name<T: Copy>(names: &Names<T>, name: &str) -> Option<T> {
    let (_, extension) = name.rsplit_once('.')?;
    names
        .iter()
        .find(|(_, _, extensions)| extensions.iter().any(|e| e.eq_ignore_ascii_case(extension)))
        .map(|(named, _, _)| *named)
}

impl Format {
    /// The format a `Content-Type` names, whatever its parameters.
    pub fn from_content_type(content_type: &str) -> Option<Format> {
        by_content_type(&FORMAT_NAMES, content_type)
    }

    /// The format a file name's extension names.
    pub fn from_file_name(name: &str) -> Option<Format> {
        by_file_name(&FORMAT_NAMES, name)
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Ndjson => "application/x-ndjson",
            Format::Csv => "text/csv; charset=utf-8",
        }
    }
}

/// What an upload holds: records as lines of text, or a columnar file whose rows are read
/// as the CSV layout's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upload {
    Text(Format),
    Columnar(Columnar),
}

impl Upload {
    /// The upload a `Content-Type` names, whatever its parameters.
    pub fn from_content_type(content_type: &str) -> Option<Upload> {
        Format::from_content_type(content_type)
            .map(Upload::Text)
            .or_else(|| by_content_type(&columnar::NAMES, content_type).map(Upload::Columnar))
    }

    /// The upload a file name's extension names.
    pub fn from_file_name(name: &str) -> Option<Upload> {
        Format::from_file_name(name)
            .map(Upload::Text)
            .or_else(|| by_file_name(&columnar::NAMES, name).map(Upload::Columnar))
    }

    /// The format its records are read in: a columnar file's rows are CSV lines.
    pub fn records(self) -> Format {
        match self {
            Upload::Text(format) => format,
            Upload::Columnar(_) => Format::Csv,
        }
    }
}

/// The media types uploads are accepted in, for a 415's message.
pub const UPLOAD_TYPES: &str = "application/x-ndjson, text/csv, application/vnd.apache.parquet or application/vnd.apache.arrow.file";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest accepted line; a longer one becomes an error record.
    pub max_line_bytes: usize,
    /// Most records in one batch; the rest is not priced and the batch says so.
    pub max_lines: u64,
    /// Largest columnar file (read whole), and the most it may hold inflated.
    pub max_file_bytes: usize,
    /// The most a columnar file may decode to (see `BatchSettings::max_decoded_bytes`).
    pub max_decoded_bytes: u64,
}

impl Limits {
    /// The batch settings' limits, with `max_lines` records at most.
    pub fn of(settings: &crate::configuration::BatchSettings, max_lines: u64) -> Limits {
        Limits {
            max_line_bytes: settings.max_line_bytes,
            max_lines,
            max_file_bytes: settings.max_file_bytes,
            max_decoded_bytes: settings.max_decoded_bytes,
        }
    }
}

/// Counts and money over the records of a batch (or of one chunk of it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub lines: u64,
    pub billed: u64,
    pub failed: u64,
    pub surcharge: Decimal,
    pub total: Decimal,
}

impl Default for Summary {
    fn default() -> Summary {
        Summary {
            lines: 0,
            billed: 0,
            failed: 0,
            surcharge: zero_money(),
            total: zero_money(),
        }
    }
}

impl Summary {
    pub fn add(&mut self, other: &Summary) {
        self.lines += other.lines;
        self.billed += other.billed;
        self.failed += other.failed;
        self.add_money(other.surcharge, other.total);
    }

    fn add_money(&mut self, surcharge: Decimal, total: Decimal) {
        // Money sums beyond 10^26 yuan do not arise from bills that each fit.
        self.surcharge = self.surcharge.saturating_add(surcharge);
        self.total = self.total.saturating_add(total);
    }
}

/// What a batch needs to price and write a chunk; shared by every thread.
pub struct Context {
    pub tariffs: Arc<TariffSet>,
    /// The format records are read in.
    pub format: Format,
    /// The format the output is written in (the input's, unless asked otherwise).
    pub output: Format,
    pub detail: Detail,
    /// Check every record without pricing it (also the I/O floor of a batch run).
    pub validate_only: bool,
    /// How CSV output is written (header language, byte-order mark).
    pub table: csv::Table,
    /// The registry records naming only their enterprise are filled from (none: such
    /// records fail for want of an industry).
    pub registry: Option<Arc<Snapshot>>,
    /// Issue each bill into the ledger as this issuer: each chunk's tally carries its
    /// entries, stored before the chunk's output is sent.
    pub issuer: Option<Issuer>,
}

/// A priced chunk: its output bytes and its share of the summary.
pub struct ChunkOutput {
    pub bytes: Bytes,
    pub tally: Tally,
}

/// What a piece of output holds: its share of the summary, its bills by tariff, and (for
/// CSV output) its share of each column's sum.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub summary: Summary,
    pub billed_by_tariff: Vec<(String, u64)>,
    pub sums: csv::Sums,
    /// The ledger entries of the bills, when the batch issues them.
    pub issued: Vec<Entry>,
}

/// One more bill under `tariff` (a batch names a handful of tariffs at most).
fn count_bill(by_tariff: &mut Vec<(String, u64)>, tariff: &Tariff) {
    match by_tariff.iter_mut().find(|(id, _)| id == tariff.id()) {
        Some((_, n)) => *n += 1,
        None => by_tariff.push((tariff.id().to_string(), 1)),
    }
}

/// Bills every record of `records`: the preamble, each chunk's output in input order, then
/// the summary record. `write` takes each piece of output with the share of the summary it
/// holds. Used alike by `POST /v1/bills/batch` and `tariffd bill`.
pub fn bill<I, E>(
    context: Context,
    records: stream::Records<I>,
    mut write: impl FnMut(Bytes, Tally) -> Result<(), E>,
) -> Result<Summary, E>
where
    I: Iterator<Item = Result<Bytes, E>>,
    E: From<ApiError>,
{
    write(context.preamble(), Tally::default())?;
    let (format, table) = (context.output, context.table);
    let mut summary = Summary::default();
    let mut sums = csv::Sums::default();
    records.drive(context, |chunk: ChunkOutput| {
        summary.add(&chunk.tally.summary);
        sums.add(&chunk.tally.sums);
        write(chunk.bytes, chunk.tally)
    })?;
    let closing = match format {
        Format::Ndjson => ndjson_summary(&summary),
        Format::Csv => Bytes::from(table.summary_row(&sums)),
    };
    write(closing, Tally::default())?;
    Ok(summary)
}

/// The NDJSON record that closes a batch.
fn ndjson_summary(summary: &Summary) -> Bytes {
    let mut out = serde_json::to_vec(&serde_json::json!({ "summary": summary }))
        .expect("a summary serialises");
    out.push(b'\n');
    Bytes::from(out)
}

impl stream::Job for Context {
    type Output = ChunkOutput;
    fn run(&self, records: &[Record], columns: Option<&csv::Columns>) -> ChunkOutput {
        self.price_chunk(records, columns)
    }
}

impl Context {
    /// Prices every record of a chunk, in order. A run of records failing alike (blank
    /// lines, say) is written as one error record naming its first and last line, so the
    /// output never grows much faster than the input.
    pub fn price_chunk(&self, records: &[Record], columns: Option<&csv::Columns>) -> ChunkOutput {
        // About what a bill with line items takes, so the buffer seldom grows.
        let mut out = Vec::with_capacity(records.len() * 1536);
        let mut tally = Tally::default();
        let mut repeats: Option<Repeats> = None;
        for record in records {
            tally.summary.lines += 1;
            let line = record.line();
            let registry = self.registry.as_deref();
            let outcome =
                parse_record(record, self.format, columns, registry).and_then(|request| {
                    let priced = if self.validate_only {
                        tariff_for(&self.tariffs, &request).map(|_| None)
                    } else {
                        self.price(&request).map(Some)
                    };
                    match priced {
                        Ok(priced) => Ok((request, priced)),
                        Err(error) => Err(Failure::of(error, Some(request.enterprise.id))),
                    }
                });
            match outcome {
                Ok((request, priced)) => {
                    self.flush(&mut out, &mut tally.sums, repeats.take());
                    tally.summary.billed += 1;
                    match priced {
                        None => self.write_valid(&mut out, &mut tally.sums, line),
                        Some((bill, tariff)) => {
                            let written = self.write_bill(
                                &mut out,
                                &mut tally.sums,
                                line,
                                &request,
                                &bill,
                                tariff,
                            );
                            if let Some(issuer) = &self.issuer {
                                let text = self.request_text(record, columns);
                                let entry = match written {
                                    Some((view, json)) => {
                                        Entry::from_json(&text, &request, issuer, &view, &out[json])
                                    }
                                    None => Entry::new(&text, &request, &bill, tariff, issuer),
                                };
                                tally.issued.push(entry);
                            }
                            tally
                                .summary
                                .add_money(bill.totals.surcharge, bill.totals.total);
                            count_bill(&mut tally.billed_by_tariff, tariff);
                        }
                    }
                }
                Err(failure) => {
                    tally.summary.failed += 1;
                    match repeats.as_mut() {
                        Some(run) if run.failure == failure && run.through + 1 == line => {
                            run.through = line;
                        }
                        _ => {
                            let run = Repeats {
                                line,
                                through: line,
                                failure,
                            };
                            self.flush(&mut out, &mut tally.sums, repeats.replace(run));
                        }
                    }
                }
            }
        }
        self.flush(&mut out, &mut tally.sums, repeats);
        ChunkOutput {
            bytes: Bytes::from(out),
            tally,
        }
    }

    /// The bytes that open the output: the CSV header (after a byte-order mark if asked).
    fn preamble(&self) -> Bytes {
        match self.output {
            Format::Ndjson => Bytes::new(),
            Format::Csv => Bytes::from(self.table.header()),
        }
    }

    fn flush(&self, out: &mut Vec<u8>, sums: &mut csv::Sums, repeats: Option<Repeats>) {
        if let Some(run) = repeats {
            self.write_error(out, sums, (run.line, run.through), &run.failure);
        }
    }

    /// The record as the JSON request it stands for.
    fn request_text(&self, record: &Record, columns: Option<&csv::Columns>) -> Vec<u8> {
        let Record::Line { text, .. } = record else {
            return Vec::new();
        };
        match (self.format, columns) {
            (Format::Csv, Some(columns)) => columns.request_text(text).unwrap_or_default(),
            _ => text.to_vec(),
        }
    }

    fn price(&self, request: &BillRequest) -> Result<(Bill, &Tariff), ApiError> {
        let tariff = tariff_for(&self.tariffs, request)?;
        let options = Options {
            trace: self.detail == Detail::Full,
        };
        let bill = price_request(request, tariff, options)?;
        Ok((bill, tariff))
    }

    /// Writes a bill's output record. At `Detail::Lines` in NDJSON, also answers the view
    /// and where its JSON is in `out` (what the ledger keeps, so it is written once).
    fn write_bill<'a>(
        &self,
        out: &mut Vec<u8>,
        sums: &mut csv::Sums,
        line: u64,
        request: &'a BillRequest,
        bill: &'a Bill,
        tariff: &'a Tariff,
    ) -> Option<(BillResponse<'a>, std::ops::Range<usize>)> {
        match self.output {
            Format::Ndjson => {
                let view = BillResponse::with_detail(request, bill, tariff, self.detail);
                ndjson_open(out, line, "bill");
                let start = out.len();
                view.write_json(out);
                let json = start..out.len();
                out.extend_from_slice(b"}\n");
                (self.detail == Detail::Lines).then_some((view, json))
            }
            Format::Csv => {
                self.table
                    .bill_row(out, sums, line, request, bill, tariff.id());
                None
            }
        }
    }

    fn write_valid(&self, out: &mut Vec<u8>, sums: &mut csv::Sums, line: u64) {
        match self.output {
            Format::Ndjson => {
                ndjson_open(out, line, "valid");
                out.extend_from_slice(b"true}\n");
            }
            Format::Csv => self.table.valid_row(out, sums, line),
        }
    }

    /// The error of lines `line..=through`.
    fn write_error(
        &self,
        out: &mut Vec<u8>,
        sums: &mut csv::Sums,
        lines: (u64, u64),
        failure: &Failure,
    ) {
        write_error(self.output, &self.table, out, sums, lines, failure);
    }
}

/// The record that ends an answer whose upload broke off at line `line` (went quiet,
/// trickled, ran out of time): it says why, in place of the summary.
pub fn broken_off(output: Format, table: &csv::Table, line: u64, error: ApiError) -> Bytes {
    let mut out = Vec::new();
    let failure = Failure::of(error, None);
    write_error(
        output,
        table,
        &mut out,
        &mut csv::Sums::default(),
        (line, line),
        &failure,
    );
    Bytes::from(out)
}

/// The error record of lines `line..=through`, in `output`.
fn write_error(
    output: Format,
    table: &csv::Table,
    out: &mut Vec<u8>,
    sums: &mut csv::Sums,
    (line, through): (u64, u64),
    failure: &Failure,
) {
    let mut problem = failure.error.problem();
    let enterprise_id = failure.enterprise_id.as_deref();
    match output {
        Format::Ndjson => {
            ndjson_open(out, line, "");
            if through > line {
                out.extend_from_slice(b"through\":");
                out.extend_from_slice(itoa::Buffer::new().format(through).as_bytes());
                out.extend_from_slice(b",\"");
            }
            if let Some(id) = enterprise_id {
                out.extend_from_slice(b"enterprise_id\":");
                serde_json::to_writer(&mut *out, id).expect("records serialise");
                out.extend_from_slice(b",\"");
            }
            out.extend_from_slice(b"error\":");
            serde_json::to_writer(&mut *out, &problem).expect("records serialise");
            out.extend_from_slice(b"}\n");
        }
        Format::Csv => {
            // A CSV client reads columns, not JSON pointers.
            let lang = table.lang;
            problem.errors = problem
                .errors
                .into_iter()
                .map(|e| csv::with_column(e, lang))
                .collect();
            table.error_row(out, sums, (line, through), enterprise_id, &problem)
        }
    }
}

/// Consecutive records that failed with the same error (and enterprise id).
struct Repeats {
    line: u64,
    through: u64,
    failure: Failure,
}

/// A record that could not be billed: why, and whose it was if that could be read.
#[derive(Debug, PartialEq)]
pub struct Failure {
    pub error: ApiError,
    pub enterprise_id: Option<String>,
}

impl Failure {
    fn of(error: ApiError, enterprise_id: Option<String>) -> Failure {
        Failure {
            error,
            enterprise_id: enterprise_id.filter(|id| !id.trim().is_empty()),
        }
    }
}

/// Reads one record into a bill request; `columns` for CSV records; a record naming only its
/// enterprise is filled from `registry`. A record that fails keeps its enterprise id where
/// one can be read, so its output row says whose it was.
pub fn parse_record(
    record: &Record,
    format: Format,
    columns: Option<&csv::Columns>,
    registry: Option<&Snapshot>,
) -> Result<BillRequest, Failure> {
    let text = match record {
        Record::Line { text, .. } if text.iter().all(u8::is_ascii_whitespace) => {
            return Err(Failure::of(ApiError::field("/", "the line is blank"), None));
        }
        Record::Line { text, .. } => text,
        Record::TooLong { length, .. } => {
            let error = ApiError::field(
                "/",
                format!("the line is {length} bytes, over the limit of the batch"),
            );
            return Err(Failure::of(error, None));
        }
        Record::OverLimit { max_lines, .. } => {
            let error = ApiError::field(
                "/",
                format!("the batch holds more than {max_lines} records; this one and the rest are not priced"),
            );
            return Err(Failure::of(error, None));
        }
    };
    let body = match format {
        Format::Ndjson => BillRequestBody::from_json(text),
        Format::Csv => columns.expect("CSV batches have columns").parse(text),
    };
    // A record that fails has its id read again from its text: failures are rare, and the
    // records that pass need no copy of it.
    let failure = |error| {
        let id = match format {
            Format::Ndjson => enterprise_id_of_json(text),
            Format::Csv => columns.and_then(|c| c.enterprise_id(text)),
        };
        Failure::of(error, id)
    };
    fill::request(body.map_err(failure)?, registry)
        .map_err(|errors| failure(ApiError::Invalid(errors)))
}

/// The `enterprise.id` of a JSON record that could not be read as a request, if any.
fn enterprise_id_of_json(text: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(text).ok()?;
    value.pointer("/enterprise/id")?.as_str().map(str::to_owned)
}

/// `{"line": n, "<key>":`, before the record's value (`{"line": n, "` with no key).
fn ndjson_open(out: &mut Vec<u8>, line: u64, key: &str) {
    out.extend_from_slice(b"{\"line\":");
    out.extend_from_slice(itoa::Buffer::new().format(line).as_bytes());
    out.extend_from_slice(b",\"");
    if !key.is_empty() {
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(b"\":");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_known_by_media_type_and_by_file_name() {
        assert_eq!(
            Format::from_content_type("Text/CSV; charset=utf-8"),
            Some(Format::Csv)
        );
        assert_eq!(
            Format::from_content_type("application/x-ndjson"),
            Some(Format::Ndjson)
        );
        assert_eq!(Format::from_content_type("application/json"), None);
        assert_eq!(Format::from_file_name("accounts.CSV"), Some(Format::Csv));
        assert_eq!(Format::from_file_name("a.b.jsonl"), Some(Format::Ndjson));
        assert_eq!(Format::from_file_name("accounts"), None);
        assert_eq!(Format::from_file_name("accounts.xlsx"), None);
    }

    #[test]
    fn uploads_are_known_by_media_type_and_by_file_name_and_read_as_csv_rows() {
        let parquet = Upload::Columnar(Columnar::Parquet);
        let arrow = Upload::Columnar(Columnar::Arrow);
        assert_eq!(
            Upload::from_content_type("application/vnd.apache.parquet; x=1"),
            Some(parquet)
        );
        assert_eq!(
            Upload::from_content_type("application/vnd.apache.arrow.stream"),
            Some(arrow)
        );
        assert_eq!(
            Upload::from_content_type("text/csv"),
            Some(Upload::Text(Format::Csv))
        );
        assert_eq!(Upload::from_file_name("accounts.Parquet"), Some(parquet));
        assert_eq!(Upload::from_file_name("accounts.feather"), Some(arrow));
        assert_eq!(Upload::from_file_name("accounts.xlsx"), None);
        assert_eq!(parquet.records(), Format::Csv);
        assert_eq!(Upload::Text(Format::Ndjson).records(), Format::Ndjson);
    }
}
