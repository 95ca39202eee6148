//! The flat CSV layout of batches, as a billing database or a spreadsheet exports it: the
//! input columns ([`input`]), the bill table written back ([`bills`]), and the cells both
//! are made of. Headers come in English or Chinese ([`Lang`]); input accepts either.

pub mod bills;
pub mod input;

use std::borrow::Cow;

use bytes::BufMut;

pub use bills::{Sums, Table};
pub use input::{input_header, request_row, with_column, Columns, INPUT_COLUMNS};

/// The language of a table's headers and status words.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Lang {
    #[default]
    En,
    Zh,
}

impl Lang {
    pub fn parse(text: &str) -> Option<Lang> {
        match text {
            "en" => Some(Lang::En),
            "zh" => Some(Lang::Zh),
            _ => None,
        }
    }

    /// The English or the Chinese of a name.
    fn pick(self, (en, zh): (&'static str, &'static str)) -> &'static str {
        match self {
            Lang::En => en,
            Lang::Zh => zh,
        }
    }
}

/// The UTF-8 byte-order mark: Excel reads a CSV file as UTF-8 (and shows Chinese) only
/// when it starts with one.
pub const BOM: &[u8] = "\u{feff}".as_bytes();

/// The cells of one CSV line, trimmed. A line without quotes or line breaks (nearly every
/// line a billing system writes) is split on its commas here; any other goes to the csv
/// crate. A property test holds the two to the same cells.
pub fn fields(line: &[u8]) -> Result<Vec<Cow<'_, str>>, csv::Error> {
    if !line.iter().any(|b| matches!(b, b'"' | b'\r' | b'\n')) {
        if let Ok(text) = std::str::from_utf8(line) {
            if text.is_empty() {
                return Ok(Vec::new());
            }
            let mut cells = Vec::with_capacity(32);
            let mut start = 0;
            // Commas are ASCII, so every cut falls on a character boundary.
            for comma in memchr::memchr_iter(b',', line).chain([line.len()]) {
                cells.push(Cow::Borrowed(text[start..comma].trim()));
                start = comma + 1;
            }
            return Ok(cells);
        }
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(line);
    let mut record = csv::StringRecord::new();
    reader.read_record(&mut record)?;
    Ok(record
        .iter()
        .map(|f| Cow::Owned(f.trim().to_string()))
        .collect())
}

/// An output row whose text cannot run as a spreadsheet formula (see [`inert`]).
pub fn inert_row<I: IntoIterator<Item = S>, S: AsRef<str>>(cells: I) -> Vec<u8> {
    let cells: Vec<S> = cells.into_iter().collect();
    row(cells.iter().map(|c| inert(c.as_ref())))
}

/// One CSV row with a trailing newline, quoting where needed (cells as they are).
pub fn row<I: IntoIterator<Item = S>, S: AsRef<str>>(cells: I) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    for (i, cell) in cells.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_cell(&mut out, cell.as_ref());
    }
    out.push(b'\n');
    out
}

/// Appends a cell, in quotes (inner quotes doubled) when it holds a comma, a quote or a
/// line break, as RFC 4180 and the csv crate write it.
pub fn push_cell(out: &mut impl BufMut, cell: &str) {
    if cell
        .bytes()
        .any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n'))
    {
        out.put_u8(b'"');
        for byte in cell.bytes() {
            if byte == b'"' {
                out.put_u8(b'"');
            }
            out.put_u8(byte);
        }
        out.put_u8(b'"');
    } else {
        out.put_slice(cell.as_bytes());
    }
}

/// A text cell that a spreadsheet would read as a formula (it begins with `=`, `+`, `-`,
/// `@`, a tab or a carriage return) gets a leading `'`, as OWASP's guidance on CSV
/// injection advises; numbers, negative ones included, stay numbers.
pub fn inert(cell: &str) -> Cow<'_, str> {
    let risky = matches!(
        cell.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    );
    if risky && !is_number(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// A plain decimal number: a sign, digits, at most one point.
fn is_number(cell: &str) -> bool {
    let digits = cell.strip_prefix(['-', '+']).unwrap_or(cell);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    !(whole.is_empty() && fraction.is_empty())
        && whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn by_the_crate(line: &[u8]) -> Option<Vec<String>> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(line);
        let mut record = csv::StringRecord::new();
        reader.read_record(&mut record).ok()?;
        Some(record.iter().map(|f| f.trim().to_string()).collect())
    }

    fn cells(line: &[u8]) -> Option<Vec<String>> {
        fields(line)
            .ok()
            .map(|cells| cells.into_iter().map(Cow::into_owned).collect())
    }

    proptest! {
        #[test]
        fn lines_split_by_hand_split_as_the_csv_crate_splits_them(
            line in prop::collection::vec(prop::sample::select(
                vec![b'a', b'7', b',', b',', b' ', b'"', b'\r', b'\n', b'\t', b'=', 0xe4, 0xb8, 0xad, 0xff]
            ), 0..40)
        ) {
            prop_assert_eq!(cells(&line), by_the_crate(&line), "{:?}", String::from_utf8_lossy(&line));
        }

        #[test]
        fn rows_written_read_back_as_the_same_cells(
            cells in prop::collection::vec("[a-c,\"\r\n 中=-]{0,6}", 1..6)
        ) {
            // A row of one empty cell is a blank line, which CSV cannot tell from no row.
            prop_assume!(cells != [""]);
            let written = row(&cells);
            let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(written.as_slice());
            let record = reader.records().next().expect("a row").expect("valid CSV");
            let read: Vec<&str> = record.iter().collect();
            prop_assert_eq!(read, cells.iter().map(String::as_str).collect::<Vec<_>>());
        }
    }

    #[test]
    fn text_that_a_spreadsheet_would_run_is_made_inert_and_numbers_stay_numbers() {
        for formula in [
            "=cmd|' /C calc'!A0",
            "+1+1",
            "-1+1",
            "@SUM(1+1)",
            "\tx",
            "\r=1",
            "-",
            "+",
            "-.",
        ] {
            assert_eq!(inert(formula), format!("'{formula}"), "{formula:?}");
        }
        for plain in ["-12.50", "+3", "0.5", "-.5", "XZ-1", "a=b", "", "steel"] {
            assert_eq!(inert(plain), plain, "{plain:?}");
        }
    }
}
