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

/// The first worksheet of `workbook` as CSV text, or why it cannot be read.
pub fn to_csv(workbook: &[u8], max_unpacked: u64) -> Result<Vec<u8>, FieldError> {
    unpacks_within(workbook, max_unpacked)?;
    let unreadable =
        |e: &dyn std::fmt::Display| FieldError::note(format!("not an XLSX workbook: {e}"));
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(workbook)).map_err(|e| unreadable(&e))?;
    let sheet = book
        .worksheet_range_at(0)
        .ok_or_else(|| FieldError::note("the workbook has no worksheet"))?
        .map_err(|e| unreadable(&e))?;
    let mut csv = csv::Writer::from_writer(Vec::new());
    // Rows keep their numbers: a sheet starting below row 1 gets blank rows before it.
    let first = sheet.start().map_or(0, |(row, _)| row);
    for _ in 0..first {
        csv.write_record([""]).map_err(|e| unreadable(&e))?;
    }
    for row in sheet.rows() {
        let cells: Vec<String> = row.iter().map(cell).collect::<Result<_, _>>()?;
        csv.write_record(&cells).map_err(|e| unreadable(&e))?;
    }
    csv.into_inner().map_err(|e| unreadable(&e))
}

/// A cell as the CSV layout writes it: dates as `YYYY-MM-DD`, whole numbers without a point.
fn cell(data: &Data) -> Result<String, FieldError> {
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
