//! Tables as spreadsheets for a meeting: an XLSX workbook with one sheet per table and typed
//! cells, or one table as CSV with a UTF-8 byte-order mark (without it Excel reads Chinese
//! headers in the local code page). Text never becomes a formula in either.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use rust_xlsxwriter::{Format, FormatAlign, Workbook, XlsxError};

use crate::wire::csv::{inert, row};

/// One table: a sheet of the workbook, or the whole CSV.
pub struct Table {
    pub name: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
}

pub struct Column {
    pub title: String,
    pub kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    /// A number shown as it is.
    Number,
    /// Yuan, shown with thousands separators and two decimals.
    Money,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(Decimal),
}

/// Excel's limit on the text of a cell, in UTF-16 units.
pub const MAX_TEXT: usize = 32_767;

/// Why Excel would refuse `name` for a sheet, if it would: blank, over 31 UTF-16 units, one
/// of `[ ] : * ? / \`, an apostrophe at either end, or the reserved `History`.
pub fn sheet_name_problem(name: &str) -> Option<String> {
    if name.eq_ignore_ascii_case("history") {
        return Some("`History` is reserved by Excel".into());
    }
    rust_xlsxwriter::check_sheet_name(name)
        .err()
        .map(|e| e.to_string())
}

/// Whether a text fits in a cell.
pub fn fits_a_cell(text: &str) -> bool {
    text.len() <= MAX_TEXT || text.encode_utf16().count() <= MAX_TEXT
}

/// The XLSX workbook: a bold, frozen header row on each sheet, numbers as numeric cells.
/// A spreadsheet cell holds a binary double: the decimal's nearest one, which shows every
/// amount of up to 15 significant digits exactly.
pub fn xlsx(tables: &[Table]) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let header = Format::new().set_bold().set_align(FormatAlign::Center);
    let money = Format::new().set_num_format("#,##0.00");
    for table in tables {
        let sheet = book.add_worksheet();
        sheet.set_name(&table.name)?;
        for (c, column) in table.columns.iter().enumerate() {
            let c = c as u16;
            sheet.write_string_with_format(0, c, &column.title, &header)?;
        }
        for (r, cells) in table.rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (c, (cell, column)) in cells.iter().zip(&table.columns).enumerate() {
                let c = c as u16;
                match cell {
                    Cell::Empty => {}
                    // Written as a string cell: an `=` at its start is text, never a formula.
                    Cell::Text(text) => {
                        sheet.write_string(r, c, text)?;
                    }
                    Cell::Number(n) => {
                        let value = n.to_f64().unwrap_or(f64::NAN);
                        match column.kind {
                            Kind::Money => sheet.write_number_with_format(r, c, value, &money)?,
                            _ => sheet.write_number(r, c, value)?,
                        };
                    }
                }
            }
        }
        sheet.set_freeze_panes(1, 0)?;
        sheet.autofit();
    }
    book.save_to_buffer()
}

/// The table as CSV, byte-order mark first; numbers exactly as given, text inert.
pub fn csv(table: &Table) -> Vec<u8> {
    let mut out = "\u{feff}".as_bytes().to_vec();
    out.extend(row(table.columns.iter().map(|c| inert(&c.title))));
    for cells in &table.rows {
        out.extend(row(cells.iter().map(|cell| match cell {
            Cell::Empty => "".into(),
            Cell::Text(text) => inert(text),
            Cell::Number(n) => n.to_string().into(),
        })));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{Data, Reader, Xlsx};
    use std::io::Cursor;

    fn table() -> Table {
        Table {
            name: "按行业 by industry".into(),
            columns: vec![
                Column {
                    title: "行业 industry".into(),
                    kind: Kind::Text,
                },
                Column {
                    title: "加价 surcharge".into(),
                    kind: Kind::Money,
                },
            ],
            rows: vec![
                vec![
                    Cell::Text("=HYPERLINK(\"x\")".into()),
                    Cell::Number("1234567.89".parse().unwrap()),
                ],
                vec![Cell::Text("steel".into()), Cell::Empty],
            ],
        }
    }

    #[test]
    fn a_workbook_reads_back_with_typed_numbers_and_text_that_is_not_a_formula() {
        let bytes = xlsx(&[table()]).unwrap();
        let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).unwrap();
        assert_eq!(book.sheet_names(), ["按行业 by industry"]);
        let range = book.worksheet_range("按行业 by industry").unwrap();
        assert_eq!(
            range.get((0, 1)),
            Some(&Data::String("加价 surcharge".into()))
        );
        assert_eq!(range.get((1, 1)), Some(&Data::Float(1234567.89)));
        assert_eq!(
            range.get((1, 0)),
            Some(&Data::String("=HYPERLINK(\"x\")".into()))
        );
        let formulas = book.worksheet_formula("按行业 by industry").unwrap();
        assert!(formulas.used_cells().all(|(_, _, f)| f.is_empty()));
    }

    #[test]
    fn csv_starts_with_a_byte_order_mark_and_defuses_formulas() {
        let text = String::from_utf8(csv(&table())).unwrap();
        assert_eq!(
            text,
            "\u{feff}行业 industry,加价 surcharge\n\"'=HYPERLINK(\"\"x\"\")\",1234567.89\nsteel,\n"
        );
    }
}
