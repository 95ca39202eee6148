//! What a client sends to have its tables made into a spreadsheet (`POST /v1/exports`), and
//! its checks: each bad sheet name, row or cell named by its pointer.

use serde::Deserialize;
use serde_json::Value as Json;
use utoipa::ToSchema;

use crate::export::{fits_a_cell, sheet_name_problem, Cell, Column, Kind, Table, MAX_TEXT};
use crate::wire::problem::{ApiError, FieldError};

/// A workbook of up to this many sheets.
const MAX_SHEETS: usize = 32;
/// Columns of a sheet.
const MAX_COLUMNS: usize = 256;
/// Cells over all sheets: a workbook is built in memory, so this bounds what it holds.
const MAX_CELLS: usize = 2_000_000;
/// Errors listed in one answer; the rest are counted.
const MAX_ERRORS: usize = 20;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportBody {
    pub format: ExportFormat,
    /// The download's name without extension (Chinese welcome; at most 100 characters, no
    /// quotes or path separators). Default `tariffd`.
    #[serde(default)]
    pub file_name: Option<String>,
    /// One sheet per table; CSV takes exactly one.
    pub sheets: Vec<SheetBody>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    /// An Excel workbook (`.xlsx`).
    Xlsx,
    /// UTF-8 CSV with a byte-order mark.
    Csv,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SheetBody {
    /// 1–31 characters, none of `[ ] : * ? / \`, no `'` at either end, not `History`, unique
    /// in the workbook (as Excel requires).
    pub name: String,
    pub columns: Vec<ColumnBody>,
    /// Each row has one cell per column: a string, a number (a decimal string or a JSON
    /// number in a `number` or `money` column) or `null` for an empty cell.
    #[schema(value_type = Vec<Vec<Object>>)]
    pub rows: Vec<Vec<Json>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ColumnBody {
    pub title: String,
    #[serde(default)]
    pub kind: ColumnKind,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    #[default]
    Text,
    Number,
    /// Yuan: a number shown as `#,##0.00`.
    Money,
}

impl ExportBody {
    /// The tables to write, or every problem found (up to a limit).
    pub fn into_tables(self) -> Result<(ExportFormat, String, Vec<Table>), ApiError> {
        let mut errors = Errors::default();
        if self.sheets.is_empty() || self.sheets.len() > MAX_SHEETS {
            errors.add("/sheets", format!("give 1 to {MAX_SHEETS} sheets"));
        }
        if self.format == ExportFormat::Csv && self.sheets.len() > 1 {
            errors.add("/sheets", "CSV holds one sheet: send one, or ask for xlsx");
        }
        let cells: usize = self
            .sheets
            .iter()
            .map(|s| s.columns.len().max(1) * (s.rows.len() + 1))
            .sum();
        if cells > MAX_CELLS {
            errors.add(
                "/sheets",
                format!("{cells} cells, over the {MAX_CELLS} one export may hold"),
            );
            return Err(errors.into_error());
        }
        let mut names: Vec<String> = Vec::new();
        let mut tables = Vec::with_capacity(self.sheets.len());
        for (s, sheet) in self.sheets.into_iter().enumerate() {
            let at = format!("/sheets/{s}");
            check_name(&mut errors, &at, &sheet.name, &mut names);
            tables.push(table(&mut errors, &at, sheet));
        }
        let name = file_name(self.file_name.as_deref());
        errors.finish().map(|()| (self.format, name, tables))
    }
}

fn check_name(errors: &mut Errors, at: &str, name: &str, seen: &mut Vec<String>) {
    if let Some(problem) = sheet_name_problem(name) {
        errors.add(format!("{at}/name"), problem);
    }
    let folded = name.to_lowercase();
    if seen.contains(&folded) {
        errors.add(format!("{at}/name"), "another sheet has this name");
    }
    seen.push(folded);
}

fn table(errors: &mut Errors, at: &str, sheet: SheetBody) -> Table {
    if sheet.columns.is_empty() || sheet.columns.len() > MAX_COLUMNS {
        errors.add(
            format!("{at}/columns"),
            format!("give 1 to {MAX_COLUMNS} columns"),
        );
    }
    for (c, column) in sheet.columns.iter().enumerate() {
        if !fits_a_cell(&column.title) {
            errors.add(format!("{at}/columns/{c}/title"), too_long());
        }
    }
    let columns: Vec<Column> = sheet
        .columns
        .into_iter()
        .map(|c| Column {
            title: c.title,
            kind: match c.kind {
                ColumnKind::Text => Kind::Text,
                ColumnKind::Number => Kind::Number,
                ColumnKind::Money => Kind::Money,
            },
        })
        .collect();
    let mut rows = Vec::with_capacity(sheet.rows.len());
    for (r, cells) in sheet.rows.into_iter().enumerate() {
        if cells.len() != columns.len() {
            errors.add(
                format!("{at}/rows/{r}"),
                format!("{} cells for {} columns", cells.len(), columns.len()),
            );
            continue;
        }
        let row = cells
            .into_iter()
            .zip(&columns)
            .enumerate()
            .map(|(c, (value, column))| {
                cell(value, column.kind).unwrap_or_else(|message| {
                    errors.add(format!("{at}/rows/{r}/{c}"), message);
                    Cell::Empty
                })
            })
            .collect();
        rows.push(row);
    }
    Table {
        name: sheet.name,
        columns,
        rows,
    }
}

/// One cell as its column reads it; a number is read exactly (never through a float).
fn cell(value: Json, kind: Kind) -> Result<Cell, String> {
    let text = match value {
        Json::Null => return Ok(Cell::Empty),
        Json::String(text) => text,
        Json::Number(n) if kind != Kind::Text => n.to_string(),
        Json::Number(n) => return Ok(Cell::Text(n.to_string())),
        Json::Bool(b) => return Ok(Cell::Text(b.to_string())),
        _ => return Err("a string, a number or null".into()),
    };
    match kind {
        Kind::Text if !fits_a_cell(&text) => Err(too_long()),
        Kind::Text => Ok(Cell::Text(text)),
        Kind::Number | Kind::Money if text.trim().is_empty() => Ok(Cell::Empty),
        Kind::Number | Kind::Money => text
            .trim()
            .parse()
            .map(Cell::Number)
            .map_err(|_| format!("`{text}` is not a decimal number")),
    }
}

fn too_long() -> String {
    format!("over the {MAX_TEXT} characters a spreadsheet cell holds")
}

/// The download's name: at most 100 characters, no control characters, quotes or path
/// separators; `tariffd` when nothing is left.
fn file_name(wanted: Option<&str>) -> String {
    let name: String = wanted
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '/' | '\\'))
        .take(100)
        .collect();
    match name.trim().trim_matches('.').is_empty() {
        true => "tariffd".into(),
        false => name.trim().to_string(),
    }
}

#[derive(Default)]
struct Errors {
    listed: Vec<FieldError>,
    more: usize,
}

impl Errors {
    fn add(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        match self.listed.len() < MAX_ERRORS {
            true => self.listed.push(FieldError::at(pointer, message)),
            false => self.more += 1,
        }
    }

    fn finish(self) -> Result<(), ApiError> {
        match self.listed.is_empty() {
            true => Ok(()),
            false => Err(self.into_error()),
        }
    }

    fn into_error(mut self) -> ApiError {
        if self.more > 0 {
            self.listed
                .push(FieldError::note(format!("and {} more problems", self.more)));
        }
        ApiError::Invalid(self.listed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: serde_json::Value) -> ExportBody {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn every_bad_cell_and_name_is_named_by_its_pointer() {
        let error = body(serde_json::json!({
            "format": "xlsx",
            "sheets": [
                {"name": "a/b", "columns": [{"title": "x", "kind": "money"}], "rows": [["1.5"], ["abc"], [1, 2]]},
                {"name": "A/B", "columns": [{"title": "y"}], "rows": [[{"no": 1}]]},
                {"name": "'quoted'", "columns": [{"title": "z"}], "rows": [["x".repeat(32_768)]]},
                {"name": "history", "columns": [{"title": "w"}], "rows": []}
            ]
        }))
        .into_tables()
        .err()
        .unwrap();
        let ApiError::Invalid(errors) = error else {
            panic!("{error:?}")
        };
        let places: Vec<&str> = errors.iter().map(|e| e.place()).collect();
        assert_eq!(
            places,
            [
                "/sheets/0/name",
                "/sheets/0/rows/1/0",
                "/sheets/0/rows/2",
                "/sheets/1/name",
                "/sheets/1/name",
                "/sheets/1/rows/0/0",
                "/sheets/2/name",
                "/sheets/2/rows/0/0",
                "/sheets/3/name"
            ]
        );
    }

    #[test]
    fn numbers_are_read_exactly_and_file_names_made_safe() {
        let (format, name, tables) = body(serde_json::json!({
            "format": "csv",
            "file_name": " 模拟 \"report\"/\r\n.xlsx",
            "sheets": [{"name": "s", "columns": [{"title": "n", "kind": "number"}], "rows": [[0.1], ["12345678901234567890.01"], [null]]}]
        }))
        .into_tables()
        .unwrap();
        assert_eq!(format, ExportFormat::Csv);
        assert_eq!(name, "模拟 report.xlsx");
        assert_eq!(
            tables[0].rows,
            [
                vec![Cell::Number("0.1".parse().unwrap())],
                vec![Cell::Number("12345678901234567890.01".parse().unwrap())],
                vec![Cell::Empty]
            ]
        );
    }

    #[test]
    fn csv_takes_one_sheet() {
        let sheet = serde_json::json!({"name": "s", "columns": [{"title": "n"}], "rows": []});
        let other = serde_json::json!({"name": "t", "columns": [{"title": "n"}], "rows": []});
        let error = body(serde_json::json!({"format": "csv", "sheets": [sheet, other]}))
            .into_tables()
            .err()
            .unwrap();
        assert!(error.one_line().contains("/sheets"), "{}", error.one_line());
    }
}
