//! The flat CSV layout of batch records, as a billing database or a spreadsheet exports it.
//!
//! Input: a header line naming columns (any order, any subset of [`INPUT_COLUMNS`] that
//! says who, when and how much), then one row per enterprise; an empty cell is an absent
//! value. Each row becomes the same JSON request a client could send, so it is validated by
//! the same code. Steel processes fit one cell: `blast_furnace:440;electric_arc_furnace:180:special`.
//!
//! Output: one row per input row ([`OUTPUT_COLUMNS`]), then a summary row.

use bytes::Bytes;
use serde_json::{Map, Value};

use crate::bill::{Bill, LineKind};
use crate::measure::combination::Status;
use crate::measure::Measure;
use crate::wire::json::pointer_of;
use crate::wire::problem::{ApiError, FieldError, Problem};
use crate::wire::request::BillRequestBody;
use crate::wire::view::BillResponse;

/// How a cell is read into the JSON request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cell {
    Text,
    Bool,
    Integer,
    Processes,
}

/// Input columns and the JSON pointer each one fills.
pub const INPUT_COLUMNS: [(&str, &str); 25] = [
    ("tariff", "/tariff"),
    ("period_start", "/period/start"),
    ("period_end", "/period/end"),
    ("period_month", "/period/month"),
    ("enterprise_id", "/enterprise/id"),
    ("enterprise_name", "/enterprise/name"),
    ("industry", "/enterprise/industry"),
    ("catalogue_class", "/enterprise/catalogue_class"),
    ("capacity_cut_overdue", "/enterprise/capacity_cut_overdue"),
    ("card", "/enterprise/card"),
    ("assessment_year", "/assessment/year"),
    ("steel_processes", "/assessment/steel_processes"),
    ("cement_plant", "/assessment/cement/plant"),
    ("cement_commissioned", "/assessment/cement/commissioned"),
    ("cement_kwh_per_t", "/assessment/cement/kwh_per_t"),
    ("aluminum_kwh_per_t", "/assessment/aluminum_kwh_per_t"),
    (
        "energy_intensity_value",
        "/assessment/energy_intensity/value",
    ),
    (
        "energy_intensity_limit",
        "/assessment/energy_intensity/limit",
    ),
    ("kwh", "/electricity/kwh"),
    ("base_price", "/electricity/base_price"),
    ("self_generated_kwh", "/electricity/self_generated_kwh"),
    ("water_m3", "/water/m3"),
    ("water_quota_m3", "/water/quota_m3"),
    ("water_base_price", "/water/base_price"),
    ("water_meets_standard", "/water/meets_standard"),
];

fn cell_kind(column: &str) -> Cell {
    match column {
        "capacity_cut_overdue" | "water_meets_standard" => Cell::Bool,
        "assessment_year" => Cell::Integer,
        "steel_processes" => Cell::Processes,
        _ => Cell::Text,
    }
}

/// The columns of a CSV batch's header line, in order.
#[derive(Debug, Clone)]
pub struct Columns(Vec<usize>);

impl Columns {
    /// Reads a header line; unknown or repeated names and a missing `enterprise_id`,
    /// `industry` or `kwh` are refused, naming the column.
    pub fn from_header(line: &[u8]) -> Result<Columns, ApiError> {
        let names = fields(line)
            .map_err(|e| ApiError::field("/", format!("the header line is not CSV: {e}")))?;
        let mut errors = Vec::new();
        let mut indices = Vec::with_capacity(names.len());
        for name in &names {
            match INPUT_COLUMNS.iter().position(|(n, _)| n == name) {
                Some(i) if indices.contains(&i) => {
                    errors.push(column_error(name, "appears twice in the header"))
                }
                Some(i) => indices.push(i),
                None => errors.push(column_error(
                    name,
                    &format!(
                        "unknown column; known: {}",
                        INPUT_COLUMNS.map(|(n, _)| n).join(", ")
                    ),
                )),
            }
        }
        for required in ["enterprise_id", "industry", "kwh"] {
            if !names.iter().any(|n| n == required) {
                errors.push(column_error(required, "is required in the header"));
            }
        }
        if errors.is_empty() {
            Ok(Columns(indices))
        } else {
            Err(ApiError::Invalid(errors))
        }
    }

    /// One row as a bill request.
    pub fn parse(&self, line: &[u8]) -> Result<BillRequestBody, ApiError> {
        let cells = fields(line).map_err(|e| ApiError::MalformedCsv(e.to_string()))?;
        if cells.len() != self.0.len() {
            return Err(ApiError::field(
                "/",
                format!(
                    "the row has {} cells; the header names {}",
                    cells.len(),
                    self.0.len()
                ),
            ));
        }
        let mut request = Value::Object(Map::new());
        for (&column, cell) in self.0.iter().zip(&cells) {
            if cell.is_empty() {
                continue;
            }
            let (name, pointer) = INPUT_COLUMNS[column];
            insert(&mut request, pointer, cell_value(name, cell));
        }
        serde_path_to_error::deserialize(request).map_err(|e| {
            let pointer = pointer_of(e.path());
            let pointer = if pointer.is_empty() {
                "/".into()
            } else {
                pointer
            };
            ApiError::field(pointer, e.into_inner().to_string())
        })
    }
}

/// A JSON request as a CSV row in `INPUT_COLUMNS` order (for generated populations).
pub fn request_row(request: &Value) -> Vec<String> {
    INPUT_COLUMNS
        .iter()
        .map(
            |(name, pointer)| match (cell_kind(name), request.pointer(pointer)) {
                (_, None | Some(Value::Null)) => String::new(),
                (Cell::Processes, Some(Value::Array(items))) => items
                    .iter()
                    .map(|p| {
                        let mut cell = format!("{}:{}", text(&p["process"]), text(&p["intensity"]));
                        if p["grade"] == "special" {
                            cell.push_str(":special");
                        }
                        cell
                    })
                    .collect::<Vec<_>>()
                    .join(";"),
                (_, Some(v)) => text(v),
            },
        )
        .collect()
}

pub fn input_header() -> Vec<&'static str> {
    INPUT_COLUMNS.map(|(n, _)| n).to_vec()
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn cell_value(name: &str, cell: &str) -> Value {
    match cell_kind(name) {
        Cell::Text => Value::String(cell.to_string()),
        Cell::Bool => match cell.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Value::Bool(true),
            "false" | "0" | "no" => Value::Bool(false),
            _ => Value::String(cell.to_string()),
        },
        Cell::Integer => cell
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::String(cell.to_string())),
        Cell::Processes => Value::Array(
            cell.split(';')
                .map(|p| {
                    let mut parts = p.trim().split(':');
                    let mut process = Map::new();
                    process.insert(
                        "process".into(),
                        Value::String(parts.next().unwrap_or_default().to_string()),
                    );
                    process.insert(
                        "intensity".into(),
                        Value::String(parts.next().unwrap_or_default().to_string()),
                    );
                    if let Some(grade) = parts.next() {
                        process.insert("grade".into(), Value::String(grade.to_string()));
                    }
                    Value::Object(process)
                })
                .collect(),
        ),
    }
}

fn insert(root: &mut Value, pointer: &str, value: Value) {
    let mut node = root;
    let mut keys = pointer.split('/').skip(1).peekable();
    while let Some(key) = keys.next() {
        let Value::Object(map) = node else { return };
        if keys.peek().is_none() {
            map.insert(key.to_string(), value);
            return;
        }
        node = map
            .entry(key.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
    }
}

fn fields(line: &[u8]) -> Result<Vec<String>, csv::Error> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(line);
    let mut record = csv::StringRecord::new();
    reader.read_record(&mut record)?;
    Ok(record.iter().map(|f| f.trim().to_string()).collect())
}

fn column_error(column: &str, message: &str) -> FieldError {
    FieldError {
        pointer: None,
        parameter: None,
        column: Some(column.to_string()),
        message: message.to_string(),
    }
}

/// Names the CSV column a pointer falls in.
pub fn with_column(mut error: FieldError) -> FieldError {
    if let Some(pointer) = &error.pointer {
        error.column = INPUT_COLUMNS
            .iter()
            .filter(|(_, p)| pointer.starts_with(p))
            .max_by_key(|(_, p)| p.len())
            .map(|(n, _)| n.to_string());
    }
    error
}

/// Output columns, one row per input record, then the summary row.
pub const OUTPUT_COLUMNS: [&str; 22] = [
    "line",
    "status",
    "enterprise_id",
    "bill_id",
    "tariff",
    "period_start",
    "period_end",
    "differential",
    "tiered",
    "punitive",
    "water_progressive",
    "electricity_surcharge",
    "water_surcharge",
    "surcharge",
    "base",
    "total",
    "warnings",
    "error",
    "lines",
    "billed",
    "failed",
    "through",
];

pub fn output_header() -> Bytes {
    Bytes::from(row(OUTPUT_COLUMNS))
}

/// A priced bill's row. The per-measure amounts come from the bill itself, so they are
/// there at every detail level, whatever the view leaves out.
pub fn bill_row(out: &mut Vec<u8>, line: u64, bill: &BillResponse, priced: &Bill) {
    let applied = |measure: Measure| -> String {
        let mut amounts = priced
            .lines
            .iter()
            .filter(|l| l.kind == LineKind::Surcharge(measure) && l.status == Status::Applied)
            .map(|l| l.amount)
            .peekable();
        if amounts.peek().is_none() {
            return String::new();
        }
        let mut sum: rust_decimal::Decimal = amounts.sum();
        sum.rescale(2);
        sum.to_string()
    };
    let t = &bill.totals;
    let warnings = bill
        .warnings
        .iter()
        .map(|w| w.code)
        .collect::<Vec<_>>()
        .join(";");
    out.extend_from_slice(&output_row([
        ("line", line.to_string()),
        ("status", "billed".into()),
        ("enterprise_id", bill.enterprise_id.to_string()),
        ("bill_id", bill.bill_id.to_string()),
        ("tariff", bill.tariff.id.to_string()),
        ("period_start", bill.period.start.to_string()),
        ("period_end", bill.period.end.to_string()),
        ("differential", applied(Measure::Differential)),
        ("tiered", applied(Measure::Tiered)),
        ("punitive", applied(Measure::Punitive)),
        ("water_progressive", applied(Measure::WaterProgressive)),
        ("electricity_surcharge", t.electricity_surcharge.to_string()),
        ("water_surcharge", t.water_surcharge.to_string()),
        ("surcharge", t.surcharge.to_string()),
        ("base", t.base.to_string()),
        ("total", t.total.to_string()),
        ("warnings", warnings),
    ]));
}

pub fn valid_row(out: &mut Vec<u8>, line: u64) {
    out.extend_from_slice(&output_row([
        ("line", line.to_string()),
        ("status", "valid".into()),
    ]));
}

/// The error of lines `line..=through` (one line when they are equal).
pub fn error_row(out: &mut Vec<u8>, line: u64, problem: &Problem, through: u64) {
    let detail = match problem.errors.as_slice() {
        [] => problem.detail.clone(),
        errors => errors
            .iter()
            .map(|e| match (&e.column, &e.pointer) {
                (Some(c), _) => format!("{c}: {}", e.message),
                (None, Some(p)) => format!("{p}: {}", e.message),
                (None, None) => e.message.clone(),
            })
            .collect::<Vec<_>>()
            .join("; "),
    };
    out.extend_from_slice(&output_row([
        ("line", line.to_string()),
        ("status", "failed".into()),
        ("error", detail),
        (
            "through",
            if through > line {
                through.to_string()
            } else {
                String::new()
            },
        ),
    ]));
}

/// An output row with the named columns filled and the others empty.
pub fn output_row<const N: usize>(cells: [(&str, String); N]) -> Vec<u8> {
    let mut row_cells = vec![String::new(); OUTPUT_COLUMNS.len()];
    for (name, value) in cells {
        let column = OUTPUT_COLUMNS
            .iter()
            .position(|c| *c == name)
            .expect("a known output column");
        row_cells[column] = value;
    }
    inert_row(row_cells)
}

/// An output row whose text cannot run as a spreadsheet formula (see [`inert`]).
pub fn inert_row<I: IntoIterator<Item = S>, S: AsRef<str>>(cells: I) -> Vec<u8> {
    let cells: Vec<S> = cells.into_iter().collect();
    row(cells
        .iter()
        .map(|c| inert(c.as_ref()))
        .collect::<Vec<_>>()
        .iter()
        .map(|c| c.as_bytes()))
}

/// A text cell that a spreadsheet would read as a formula (it begins with `=`, `+`, `-`,
/// `@`, a tab or a carriage return) gets a leading `'`, as OWASP's guidance on CSV
/// injection advises; numbers, negative ones included, stay numbers.
pub fn inert(cell: &str) -> std::borrow::Cow<'_, str> {
    let risky = matches!(
        cell.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    );
    if risky && !is_number(cell) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
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

/// One CSV row with a trailing newline, quoting where needed.
pub fn row<I: IntoIterator<Item = S>, S: AsRef<[u8]>>(cells: I) -> Vec<u8> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::with_capacity(256));
    writer
        .write_record(cells)
        .expect("writing to memory does not fail");
    writer
        .into_inner()
        .expect("writing to memory does not fail")
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn output_rows_carry_inert_text() {
        let problem = ApiError::Invalid(vec![FieldError::note("=HYPERLINK(\"x\")")]).problem();
        let mut out = Vec::new();
        error_row(&mut out, 7, &problem, 7);
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("7,failed,"), "{text}");
        assert!(!text.contains(",=") && !text.contains(",\"="), "{text}");
    }
}
