//! The input columns of a CSV batch: a header line naming columns (any order, any subset of
//! [`INPUT_COLUMNS`] that says who, when and how much, in English or Chinese), then one row
//! per enterprise; an empty cell is an absent value. Each row is written as the JSON request
//! a client could send and read by the same reader, so it is validated by the same code and
//! as fast. Steel processes fit one cell: `blast_furnace:440;electric_arc_furnace:180:special`.

use std::borrow::Cow;

use serde_json::Value;

use super::{fields, Lang};
use crate::wire::problem::{ApiError, FieldError};
use crate::wire::request::BillRequestBody;

/// How a cell is written into the JSON request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cell {
    Text,
    Bool,
    Integer,
    Processes,
}

/// One input column: its English and Chinese names and the field of the request it fills.
#[derive(Debug, Clone, Copy)]
pub struct InputColumn {
    pub name: &'static str,
    pub zh: &'static str,
    /// The field's path in the JSON request.
    pub path: &'static [&'static str],
    cell: Cell,
}

impl InputColumn {
    /// The RFC 6901 pointer of the field.
    pub fn pointer(&self) -> String {
        self.path.iter().map(|key| format!("/{key}")).collect()
    }
}

const fn column(
    name: &'static str,
    zh: &'static str,
    path: &'static [&'static str],
    cell: Cell,
) -> InputColumn {
    InputColumn {
        name,
        zh,
        path,
        cell,
    }
}

use Cell::{Bool, Integer, Processes, Text};

/// Input columns, grouped by the object they fill (the JSON request is written in this order).
pub const INPUT_COLUMNS: [InputColumn; 25] = [
    column("tariff", "价目表", &["tariff"], Text),
    column("period_start", "起始日期", &["period", "start"], Text),
    column("period_end", "截止日期", &["period", "end"], Text),
    column("period_month", "计费月份", &["period", "month"], Text),
    column("enterprise_id", "企业编号", &["enterprise", "id"], Text),
    column("enterprise_name", "企业名称", &["enterprise", "name"], Text),
    column("industry", "行业", &["enterprise", "industry"], Text),
    column(
        "catalogue_class",
        "目录类别",
        &["enterprise", "catalogue_class"],
        Text,
    ),
    column(
        "capacity_cut_overdue",
        "逾期未完成化解产能",
        &["enterprise", "capacity_cut_overdue"],
        Bool,
    ),
    column("card", "挂牌", &["enterprise", "card"], Text),
    column(
        "assessment_year",
        "考核年度",
        &["assessment", "year"],
        Integer,
    ),
    column(
        "steel_processes",
        "钢铁工序",
        &["assessment", "steel_processes"],
        Processes,
    ),
    column(
        "cement_plant",
        "水泥企业类型",
        &["assessment", "cement", "plant"],
        Text,
    ),
    column(
        "cement_commissioned",
        "水泥投产日期",
        &["assessment", "cement", "commissioned"],
        Text,
    ),
    column(
        "cement_kwh_per_t",
        "水泥单位电耗",
        &["assessment", "cement", "kwh_per_t"],
        Text,
    ),
    column(
        "aluminum_kwh_per_t",
        "电解铝交流电耗",
        &["assessment", "aluminum_kwh_per_t"],
        Text,
    ),
    column(
        "energy_intensity_value",
        "单位产品能耗",
        &["assessment", "energy_intensity", "value"],
        Text,
    ),
    column(
        "energy_intensity_limit",
        "能耗限额",
        &["assessment", "energy_intensity", "limit"],
        Text,
    ),
    column("kwh", "用电量", &["electricity", "kwh"], Text),
    column(
        "base_price",
        "基础电价",
        &["electricity", "base_price"],
        Text,
    ),
    column(
        "self_generated_kwh",
        "自备电厂电量",
        &["electricity", "self_generated_kwh"],
        Text,
    ),
    column("water_m3", "用水量", &["water", "m3"], Text),
    column("water_quota_m3", "用水定额", &["water", "quota_m3"], Text),
    column(
        "water_base_price",
        "基础水价",
        &["water", "base_price"],
        Text,
    ),
    column(
        "water_meets_standard",
        "节水达标",
        &["water", "meets_standard"],
        Bool,
    ),
];

/// The input column a header cell names, in English or Chinese.
fn known_column(name: &str) -> Option<usize> {
    INPUT_COLUMNS
        .iter()
        .position(|c| c.name == name || c.zh == name)
}

/// The columns of a CSV batch's header line.
#[derive(Debug, Clone)]
pub struct Columns {
    /// How many cells each row has.
    width: usize,
    /// For each of [`INPUT_COLUMNS`], where its cell is in a row.
    cell_of: [Option<usize>; INPUT_COLUMNS.len()],
}

impl Columns {
    /// Reads a header line; unknown or repeated names and a missing `enterprise_id` or
    /// `kwh` are refused, naming the column. Without `industry`, rows name their
    /// enterprise only, for the registry to fill.
    pub fn from_header(line: &[u8]) -> Result<Columns, ApiError> {
        let names = fields(line)
            .map_err(|e| ApiError::field("/", format!("the header line is not CSV: {e}")))?;
        let mut errors = Vec::new();
        let mut cell_of = [None; INPUT_COLUMNS.len()];
        for (at, name) in names.iter().enumerate() {
            match known_column(name) {
                Some(i) if cell_of[i].is_some() => {
                    errors.push(column_error(name, "appears twice in the header"))
                }
                Some(i) => cell_of[i] = Some(at),
                None => errors.push(column_error(
                    name,
                    &format!(
                        "unknown column; known: {} (or their Chinese names: {})",
                        INPUT_COLUMNS.map(|c| c.name).join(", "),
                        INPUT_COLUMNS.map(|c| c.zh).join("、")
                    ),
                )),
            }
        }
        for required in ["enterprise_id", "kwh"] {
            let i = known_column(required).expect("a known column");
            if cell_of[i].is_none() {
                errors.push(column_error(required, "is required in the header"));
            }
        }
        if errors.is_empty() {
            Ok(Columns {
                width: names.len(),
                cell_of,
            })
        } else {
            Err(ApiError::Invalid(errors))
        }
    }

    /// One row as a bill request.
    pub fn parse(&self, line: &[u8]) -> Result<BillRequestBody, ApiError> {
        let cells = fields(line).map_err(|e| ApiError::MalformedCsv(e.to_string()))?;
        if cells.len() != self.width {
            return Err(ApiError::field(
                "/",
                format!(
                    "the row has {} cells; the header names {}",
                    cells.len(),
                    self.width
                ),
            ));
        }
        BillRequestBody::from_json(&self.request_json(&cells))
    }

    /// The row as the JSON request it stands for (what the ledger keeps of a CSV record).
    pub fn request_text(&self, line: &[u8]) -> Option<Vec<u8>> {
        let cells = fields(line).ok()?;
        Some(self.request_json(&cells))
    }

    /// The enterprise id a row names, if it can be read (for the output row of a bad one).
    pub fn enterprise_id(&self, line: &[u8]) -> Option<String> {
        let at = self.cell_of[known_column("enterprise_id")?]?;
        let cells = fields(line).ok()?;
        let id = cells.get(at)?;
        (!id.is_empty()).then(|| id.to_string())
    }

    /// The row as a JSON request: each non-empty cell at its field, objects opened and
    /// closed as the (grouped) columns pass from one to the next.
    fn request_json(&self, cells: &[Cow<'_, str>]) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + cells.iter().map(|c| c.len() + 24).sum::<usize>());
        out.push(b'{');
        let mut open: &[&str] = &[];
        let mut first = true;
        for (column, at) in INPUT_COLUMNS.iter().zip(self.cell_of) {
            let Some(cell) = at.map(|at| &cells[at]).filter(|c| !c.is_empty()) else {
                continue;
            };
            let (key, parents) = column.path.split_last().expect("a path has a key");
            let common = open
                .iter()
                .zip(parents.iter())
                .take_while(|(a, b)| a == b)
                .count();
            out.extend(std::iter::repeat_n(b'}', open.len() - common));
            for parent in &parents[common..] {
                member(&mut out, &mut first, parent);
                out.push(b'{');
                first = true;
            }
            open = parents;
            member(&mut out, &mut first, key);
            write_value(&mut out, column.cell, cell);
        }
        out.extend(std::iter::repeat_n(b'}', open.len() + 1));
        out
    }
}

/// `,"key":` (no comma before an object's first member).
fn member(out: &mut Vec<u8>, first: &mut bool, key: &str) {
    if !std::mem::take(first) {
        out.push(b',');
    }
    write_string(out, key);
    out.push(b':');
}

/// A JSON string: as it is when nothing in it needs escaping (nearly always), else by serde.
fn write_string(out: &mut Vec<u8>, text: &str) {
    if text.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    } else {
        serde_json::to_writer(&mut *out, text).expect("writing to memory does not fail");
    }
}

/// A cell as its JSON value: a recognised boolean or integer as one, anything else as a
/// string (which the request's reader checks and, if wrong, reports at the field).
fn write_value(out: &mut Vec<u8>, kind: Cell, cell: &str) {
    match kind {
        Text => write_string(out, cell),
        Bool => match flag(cell) {
            Some(true) => out.extend_from_slice(b"true"),
            Some(false) => out.extend_from_slice(b"false"),
            None => write_string(out, cell),
        },
        Integer => match cell.parse::<i64>() {
            Ok(n) => out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes()),
            Err(_) => write_string(out, cell),
        },
        Processes => {
            out.push(b'[');
            for (i, process) in cell.split(';').enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                let mut parts = process.trim().split(':');
                let mut first = true;
                out.push(b'{');
                member(out, &mut first, "process");
                write_string(out, parts.next().unwrap_or_default());
                member(out, &mut first, "intensity");
                write_string(out, parts.next().unwrap_or_default());
                if let Some(grade) = parts.next() {
                    member(out, &mut first, "grade");
                    write_string(out, grade);
                }
                out.push(b'}');
            }
            out.push(b']');
        }
    }
}

/// A yes/no cell as spreadsheets write it (`true`/`1`/`yes`, `false`/`0`/`no`, any case).
pub fn flag(cell: &str) -> Option<bool> {
    match cell.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Some(true),
        "false" | "0" | "no" => Some(false),
        _ => None,
    }
}

/// A `steel_processes` cell (`blast_furnace:440;electric_arc_furnace:180:special`) as the
/// JSON list a request carries.
pub fn processes_value(cell: &str) -> Value {
    let mut json = Vec::new();
    write_value(&mut json, Processes, cell);
    serde_json::from_slice(&json).expect("the processes cell is written as JSON")
}

/// A JSON request as a CSV row in `INPUT_COLUMNS` order (for generated populations).
pub fn request_row(request: &Value) -> Vec<String> {
    INPUT_COLUMNS
        .iter()
        .map(
            |column| match (column.cell, request.pointer(&column.pointer())) {
                (_, None | Some(Value::Null)) => String::new(),
                (Processes, Some(Value::Array(items))) => processes_cell(items),
                (_, Some(v)) => text(v),
            },
        )
        .collect()
}

/// The JSON list of a request's steel processes as a `steel_processes` cell.
pub fn processes_cell(items: &[Value]) -> String {
    items
        .iter()
        .map(|p| {
            let mut cell = format!("{}:{}", text(&p["process"]), text(&p["intensity"]));
            if p["grade"] == "special" {
                cell.push_str(":special");
            }
            cell
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// A value as a cell: strings as they are, other values as JSON writes them.
pub fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub fn input_header(lang: Lang) -> Vec<&'static str> {
    INPUT_COLUMNS.map(|c| lang.pick((c.name, c.zh))).to_vec()
}

fn column_error(column: &str, message: &str) -> FieldError {
    FieldError {
        pointer: None,
        parameter: None,
        column: Some(column.to_string()),
        message: message.to_string(),
    }
}

/// Names the CSV column a pointer falls in, in the table's language.
pub fn with_column(mut error: FieldError, lang: Lang) -> FieldError {
    if let Some(pointer) = &error.pointer {
        error.column = INPUT_COLUMNS
            .iter()
            .map(|c| (c, c.pointer()))
            .filter(|(_, p)| pointer.starts_with(p.as_str()))
            .max_by_key(|(_, p)| p.len())
            .map(|(c, _)| lang.pick((c.name, c.zh)).to_string());
    }
    error
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::Map;

    /// The reference: the row as a `serde_json::Value` tree read by serde, as it was first
    /// written; the JSON text read by the quick reader must agree with it.
    fn by_value_tree(columns: &Columns, cells: &[&str]) -> Result<BillRequestBody, ()> {
        let mut request = Value::Object(Map::new());
        for (column, at) in INPUT_COLUMNS.iter().zip(columns.cell_of) {
            let Some(cell) = at.map(|at| cells[at]).filter(|c| !c.is_empty()) else {
                continue;
            };
            let mut text = Vec::new();
            write_value(&mut text, column.cell, cell);
            let mut node = &mut request;
            for key in &column.path[..column.path.len() - 1] {
                node = node
                    .as_object_mut()
                    .unwrap()
                    .entry(key.to_string())
                    .or_insert_with(|| Value::Object(Map::new()));
            }
            let value = serde_json::from_slice(&text).unwrap();
            node.as_object_mut()
                .unwrap()
                .insert(column.path.last().unwrap().to_string(), value);
        }
        serde_json::from_value(request).map_err(|_| ())
    }

    const HEADER: &str = "enterprise_id,industry,kwh,period_month,assessment_year,steel_processes,water_m3,water_meets_standard,cement_plant,energy_intensity_value,tariff";

    proptest! {
        #[test]
        fn rows_read_as_their_value_tree_reads(
            cells in prop::collection::vec(prop::sample::select(vec![
                "", "E1", "steel", "cement", "2020-10", "2019", "x", "100", "-1", "1.5", "true", "no",
                "blast_furnace:440", "blast_furnace:440;electric_arc_furnace:180:special", "blast_furnace",
                "new_dry", "cn", "中文", "a\\b", "0019",
            ]), 11)
        ) {
            let columns = Columns::from_header(HEADER.as_bytes()).unwrap();
            let line = cells.join(",");
            let ours = columns.parse(line.as_bytes()).map_err(|_| ());
            let reference = by_value_tree(&columns, &cells);
            prop_assert_eq!(format!("{ours:?}"), format!("{reference:?}"), "{}", line);
        }
    }

    #[test]
    fn chinese_headers_read_as_the_english_ones() {
        let english = Columns::from_header(b"enterprise_id,industry,kwh,period_month").unwrap();
        let chinese = Columns::from_header("企业编号,行业,用电量,计费月份".as_bytes()).unwrap();
        let row = b"E1,steel,1000,2020-10";
        assert_eq!(
            format!("{:?}", english.parse(row)),
            format!("{:?}", chinese.parse(row))
        );
        assert!(english.parse(row).is_ok());
    }

    #[test]
    fn a_bad_rows_enterprise_id_is_still_read() {
        let columns = Columns::from_header(b"industry,enterprise_id,kwh").unwrap();
        assert_eq!(columns.enterprise_id(b"steel,E9,lots"), Some("E9".into()));
        assert_eq!(columns.enterprise_id(b"steel,,lots"), None);
    }
}
