//! A registry file as an Excel workbook (XLSX): its first worksheet read as the CSV layout
//! reads (a header row, then one row per enterprise), so both formats are checked by the one
//! reader and a bad cell is named by the same row number and column.
//!
//! A workbook is a zip archive, and a small one can unpack into gigabytes. Before the
//! spreadsheet reader sees it, every part is unpacked once, counting: a part unpacking to
//! more than it declares, or parts declaring more than `max_unpacked` bytes in all, refuse
//! the file. Cells are read as their stored values; formulas are never evaluated.

use std::io::{Cursor, Read};

use calamine::{Data, Reader, Xlsx};

use crate::wire::problem::FieldError;

/// The media type of an XLSX workbook.
pub const MEDIA_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The first worksheet of `workbook` as CSV text, or why it cannot be read. Cells are read
/// one at a time and kept only where they hold something: what a sheet claims of its size
/// (its dimension, a cell's address) is checked against `columns` (the most the file's
/// layout has) and the rows `max_unpacked` bytes of CSV could carry before anything is
/// allocated for it.
pub fn to_csv(workbook: &[u8], max_unpacked: u64, columns: usize) -> Result<Vec<u8>, FieldError> {
    unpacks_within(workbook, max_unpacked)?;
    let unreadable =
        |e: &dyn std::fmt::Display| FieldError::note(format!("not an XLSX workbook: {e}"));
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(workbook)).map_err(|e| unreadable(&e))?;
    let first = book.sheet_names().into_iter().next();
    let first = first.ok_or_else(|| FieldError::note("the workbook has no worksheet"))?;
    let mut sheet = book
        .worksheet_cells_reader(&first)
        .map_err(|e| unreadable(&e))?;
    let bounds = Bounds {
        columns,
        rows: max_unpacked.min(MOST_ROWS),
    };
    let claimed = sheet.dimensions();
    bounds.check(claimed.end)?;
    let mut cells = Vec::new();
    while let Some(cell) = sheet.next_cell().map_err(|e| unreadable(&e))? {
        let value = Data::from(cell.get_value().clone());
        if value != Data::Empty {
            bounds.check(cell.get_position())?;
            cells.push((cell.get_position(), text(&value)?));
        }
    }
    write_csv(cells, max_unpacked)
}

/// Excel's own last row: no sheet has more.
const MOST_ROWS: u64 = 1 << 20;

/// How far a registry sheet may reach.
struct Bounds {
    columns: usize,
    rows: u64,
}

impl Bounds {
    /// A cell at `(row, column)` (from 0) lies within the bounds, or is named as outside.
    fn check(&self, (row, column): (u32, u32)) -> Result<(), FieldError> {
        let address = || format!("{}{}", column_name(column), u64::from(row) + 1);
        if column as usize >= self.columns {
            return Err(FieldError::note(format!(
                "the sheet reaches cell {}, past column {}: a registry file has {} columns at most",
                address(),
                column_name(self.columns.saturating_sub(1) as u32),
                self.columns
            )));
        }
        if u64::from(row) >= self.rows {
            return Err(FieldError::note(format!(
                "the sheet reaches cell {}, past row {}: more rows than a registry file within the body limit holds",
                address(),
                self.rows
            )));
        }
        Ok(())
    }
}

/// A column's letters (0 is `A`, 16383 is `XFD`).
fn column_name(mut column: u32) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push(b'A' + (column % 26) as u8);
        if column < 26 {
            break;
        }
        column = column / 26 - 1;
    }
    letters.reverse();
    String::from_utf8(letters).expect("ASCII letters")
}

/// The cells as CSV: every row kept at its number (a blank row where none was given), and
/// the columns from the first used one, as the sheet's used range has them.
fn write_csv(mut cells: Vec<((u32, u32), String)>, most_bytes: u64) -> Result<Vec<u8>, FieldError> {
    cells.sort_by_key(|(at, _)| *at);
    let first_column = cells.iter().map(|((_, c), _)| *c).min().unwrap_or(0);
    let width = cells
        .iter()
        .map(|((_, c), _)| (c - first_column) as usize + 1)
        .max()
        .unwrap_or(1);
    let rows = cells.last().map_or(0, |((r, _), _)| *r as u64 + 1);
    // Each row takes a comma per column at least: refused before any is written.
    if rows.saturating_mul(width as u64) > most_bytes {
        return Err(FieldError::note(format!(
            "the sheet's {rows} rows of {width} columns are more than the body limit of {most_bytes} bytes holds as CSV"
        )));
    }
    let unwritable = |e: csv::Error| FieldError::note(format!("not an XLSX workbook: {e}"));
    let mut csv = csv::Writer::from_writer(Vec::new());
    let mut cells = cells.into_iter().peekable();
    let mut record = vec![String::new(); width];
    for row in 0..rows as u32 {
        record.iter_mut().for_each(String::clear);
        while let Some(((_, column), value)) = cells.next_if(|((r, _), _)| *r == row) {
            record[(column - first_column) as usize] = value;
        }
        csv.write_record(&record).map_err(unwritable)?;
    }
    csv.into_inner()
        .map_err(|e| FieldError::note(format!("not an XLSX workbook: {e}")))
}

/// A cell as the CSV layout writes it: dates as `YYYY-MM-DD`, whole numbers without a point.
fn text(data: &Data) -> Result<String, FieldError> {
    Ok(match data {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(n) => n.to_string(),
        // The shortest text that reads back as the same double: what Excel shows.
        Data::Float(x) => x.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => match d.as_datetime() {
            Some(t) => t.date().to_string(),
            None => d.as_f64().to_string(),
        },
        Data::Error(e) => {
            return Err(FieldError::note(format!(
                "a cell holds the spreadsheet error {e}; correct it and save again"
            )))
        }
    })
}

/// Unpacks every part of the archive once (discarding it), refusing parts that declare more
/// than `max_unpacked` bytes in all or unpack to more than they declare.
fn unpacks_within(workbook: &[u8], max_unpacked: u64) -> Result<(), FieldError> {
    let unreadable =
        |e: &dyn std::fmt::Display| FieldError::note(format!("not an XLSX workbook: {e}"));
    let mut archive = zip::ZipArchive::new(Cursor::new(workbook)).map_err(|e| unreadable(&e))?;
    let too_big = || {
        FieldError::note(format!(
            "the workbook unpacks to more than {max_unpacked} bytes, the limit of a registry file"
        ))
    };
    let mut declared = 0u64;
    for i in 0..archive.len() {
        let part = archive.by_index(i).map_err(|e| unreadable(&e))?;
        declared = declared.saturating_add(part.size());
        if declared > max_unpacked {
            return Err(too_big());
        }
        let size = part.size();
        let unpacked = std::io::copy(&mut part.take(size + 1), &mut std::io::sink())
            .map_err(|e| unreadable(&e))?;
        if unpacked > size {
            return Err(too_big());
        }
    }
    Ok(())
}
