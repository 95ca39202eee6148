//! Columnar uploads — Parquet and Arrow IPC — read as the CSV layout: the file's column
//! names are the header, each row becomes the CSV line it would be, numbered as in a CSV
//! file (the header is line 1). Every later step (parsing, validation, errors naming the
//! column, pricing) is the CSV path's own.
//!
//! Such a file is read whole (its index is at its end) within `max_file_bytes`, and what it
//! claims is checked before any decoder believes it: sizes, codecs, encodings, types.

pub mod convert;
mod ipc;
mod parquet;
mod thrift;

use std::ops::Range;

use arrow_array::RecordBatch;
use arrow_cast::display::{ArrayFormatter, FormatOptions};
use arrow_schema::{ArrowError, DataType, Field, SchemaRef};
use bytes::{BufMut, Bytes, BytesMut};
use rayon::prelude::*;

use super::{Limits, Record};
use crate::wire::csv::push_cell;
use crate::wire::problem::ApiError;

/// The columnar formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Columnar {
    Parquet,
    /// Arrow IPC, file ("Feather v2") or stream: told apart by the file's first bytes.
    Arrow,
}

/// Every name a columnar format goes by: media types and file extensions.
pub(super) const NAMES: [(Columnar, &[&str], &[&str]); 2] = [
    (
        Columnar::Parquet,
        &["application/vnd.apache.parquet", "application/x-parquet"],
        &["parquet", "pq"],
    ),
    (
        Columnar::Arrow,
        &[
            "application/vnd.apache.arrow.file",
            "application/vnd.apache.arrow.stream",
            "application/x-arrow",
        ],
        &["arrow", "arrows", "feather", "ipc"],
    ),
];

/// Bytes a decoded batch may hold at most, whatever its values repeat.
const BATCH_BYTES: usize = 16 << 20;
const MOST_BATCH_ROWS: usize = 8192;

/// Rows per decoded batch when a row may repeat a value of `longest` bytes in every text
/// cell.
fn batch_rows(longest: usize) -> usize {
    (BATCH_BYTES / longest.max(1)).clamp(1, MOST_BATCH_ROWS)
}

/// A columnar file opened: its schema and its record batches.
pub struct Batches {
    schema: SchemaRef,
    batches: Box<dyn Iterator<Item = Result<RecordBatch, ArrowError>> + Send>,
}

/// Opens `file`, checking it: the CSV header its column names make, and its rows.
pub fn open(kind: Columnar, file: Bytes, limits: Limits) -> Result<(Vec<u8>, Rows), ApiError> {
    let batches = unpanicked(kind, || match kind {
        Columnar::Parquet => parquet::open(file, limits.max_file_bytes, limits.max_decoded_bytes),
        Columnar::Arrow => ipc::open(file),
    })?;
    let mut header = Vec::new();
    for (at, field) in batches.schema.fields().iter().enumerate() {
        if at > 0 {
            header.push(b',');
        }
        push_cell(&mut header, field.name());
    }
    let rows = Rows {
        batches: batches.batches,
        limits,
        line: 2,
        kind,
        done: false,
    };
    Ok((header, rows))
}

/// The types a cell of the CSV layout can come from: text, numbers, booleans, dates, nulls,
/// and dictionaries of them. Anything else (lists, structs, binary, …) is refused by name.
fn accepted_type(field: &Field) -> Result<(), ApiError> {
    fn accepted(data_type: &DataType) -> bool {
        use DataType::*;
        match data_type {
            Dictionary(_, values) => accepted(values),
            Null | Boolean | Utf8 | LargeUtf8 | Utf8View | Date32 | Date64 | Timestamp(..) => true,
            t => t.is_integer() || t.is_floating() || t.is_decimal(),
        }
    }
    if accepted(field.data_type()) {
        return Ok(());
    }
    Err(ApiError::field(
        "/",
        format!(
            "column `{}` is of type {}; the CSV layout's columns are text, numbers, booleans or dates",
            field.name(),
            field.data_type()
        ),
    ))
}

/// The rows of a columnar file, read a batch at a time as CSV lines.
pub struct Rows {
    batches: Box<dyn Iterator<Item = Result<RecordBatch, ArrowError>> + Send>,
    limits: Limits,
    /// The line number of the next row.
    line: u64,
    kind: Columnar,
    done: bool,
}

impl Rows {
    /// Pushes the next batch's records onto `out`; `false` once there are no more. Past
    /// `max_lines` rows one `OverLimit` record is pushed and the rest is not read.
    pub fn read(&mut self, out: &mut Vec<Record>) -> Result<bool, ApiError> {
        if self.done {
            return Ok(false);
        }
        let next = unpanicked(self.kind, || Ok(self.batches.next()));
        let Some(batch) = next? else {
            self.done = true;
            return Ok(false);
        };
        let batch = batch.map_err(|e| self.unreadable(e))?;
        // Rows past `max_lines` are not read; the first of them is reported.
        let room = self.limits.max_lines.saturating_sub(self.line - 2);
        let rows = batch
            .num_rows()
            .min(usize::try_from(room).unwrap_or(usize::MAX));
        let (first, max_line_bytes) = (self.line, self.limits.max_line_bytes);
        // Rows are written as text in pieces on every core (the drive loop's one thread
        // would otherwise be the bound of a columnar upload).
        let pieces: Vec<Range<usize>> = (0..rows)
            .step_by(ROWS_PER_PIECE)
            .map(|start| start..(start + ROWS_PER_PIECE).min(rows))
            .collect();
        let written = unpanicked(self.kind, || {
            pieces
                .into_par_iter()
                .map(|rows| write_rows(&batch, first, rows, max_line_bytes))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| self.unreadable(e))
        })?;
        written.into_iter().for_each(|records| out.extend(records));
        self.line += rows as u64;
        if rows < batch.num_rows() {
            out.push(Record::OverLimit {
                line: self.line,
                max_lines: self.limits.max_lines,
            });
            self.done = true;
        }
        Ok(true)
    }
}

/// The records of `rows` of `batch` (its first row being line `first`), each a CSV line;
/// one over `max` bytes is reported, not kept.
fn write_rows(
    batch: &RecordBatch,
    first: u64,
    rows: Range<usize>,
    max: usize,
) -> Result<Vec<Record>, ArrowError> {
    let formatters = batch
        .columns()
        .iter()
        .map(|column| ArrayFormatter::try_new(column.as_ref(), &CELLS))
        .collect::<Result<Vec<_>, _>>()?;
    let mut text = BytesMut::new();
    let mut lines = Vec::with_capacity(rows.len());
    let mut cell = String::new();
    for row in rows {
        let line = first + row as u64;
        let start = text.len();
        for (at, formatter) in formatters.iter().enumerate() {
            if at > 0 {
                text.put_u8(b',');
            }
            cell.clear();
            let room = (max + 1).saturating_sub(text.len() - start);
            let mut bounded = Bounded {
                text: &mut cell,
                room,
            };
            let _ = formatter.value(row).write(&mut bounded);
            push_cell(&mut text, &cell);
            if text.len() - start > max {
                break;
            }
        }
        let length = text.len() - start;
        if length > max {
            text.truncate(start);
            lines.push(Err(Record::TooLong { line, length }));
        } else {
            lines.push(Ok((line, start..text.len())));
        }
    }
    let text = text.freeze();
    Ok(lines
        .into_iter()
        .map(|line| match line {
            Ok((line, range)) => Record::Line {
                line,
                text: text.slice(range),
            },
            Err(record) => record,
        })
        .collect())
}

impl Rows {
    fn unreadable(&self, error: ArrowError) -> ApiError {
        ApiError::field(
            "/",
            format!(
                "the {} cannot be read at line {}: {error}",
                self.kind.noun(),
                self.line
            ),
        )
    }
}

impl Columnar {
    fn noun(self) -> &'static str {
        match self {
            Columnar::Parquet => "Parquet file",
            Columnar::Arrow => "Arrow IPC data",
        }
    }
}

/// Runs a decoder's step. The readers assert on some damage instead of answering an
/// error; such a file is a problem of the request, never a failed worker.
fn unpanicked<T>(
    kind: Columnar,
    step: impl FnOnce() -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(step)).unwrap_or_else(|_| {
        tracing::warn!(
            kind = kind.noun(),
            "a damaged columnar upload made its reader panic"
        );
        Err(ApiError::field(
            "/",
            format!("the {} is damaged and cannot be read", kind.noun()),
        ))
    })
}

/// Rows written as text by one task.
const ROWS_PER_PIECE: usize = 1024;

/// Cells as the CSV layout writes them: a null is an empty cell.
const CELLS: FormatOptions<'static> = FormatOptions::new().with_null("");

/// A `fmt::Write` that keeps at most `room` bytes (a line longer than the limit is reported,
/// not kept, so a cell need never be read further than that).
struct Bounded<'a> {
    text: &'a mut String,
    room: usize,
}

impl std::fmt::Write for Bounded<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        if s.len() > self.room {
            let mut end = self.room;
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            self.text.push_str(&s[..end]);
            self.room = 0;
            // At least one more byte than the room: enough to tell the line is too long.
            self.text.push('…');
            return Err(std::fmt::Error);
        }
        self.room -= s.len();
        self.text.push_str(s);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
