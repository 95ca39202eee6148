//! A registry file: one CSV row per enterprise, with its master data and, where the row gives
//! them, a classification decision and a year's assessment. The whole file is read and
//! checked first; every bad cell is reported with its row and column, and the file is
//! recorded only if none is bad (in one transaction: all or nothing).

use serde_json::{Map, Value};

use super::{Decision, MasterData, Record, YearAssessment};
use chrono::NaiveDate;

use crate::wire::csv::input::{flag, processes_cell, processes_value, text};
use crate::wire::csv::BOM;
use crate::wire::json::pointer_of;
use crate::wire::problem::FieldError;

/// The columns a registry file may have, and the record field each fills.
const COLUMNS: [(&str, Part, &str); 21] = [
    ("enterprise_id", Part::Id, ""),
    ("name", Part::Master, "name"),
    ("industry", Part::Master, "industry"),
    ("region", Part::Master, "region"),
    ("class_from", Part::Decision, "from"),
    ("class_to", Part::Decision, "to"),
    ("catalogue_class", Part::Decision, "catalogue_class"),
    (
        "capacity_cut_overdue",
        Part::Decision,
        "capacity_cut_overdue",
    ),
    ("card", Part::Decision, "card"),
    ("class_document", Part::Decision, "document"),
    ("assessment_year", Part::Year, ""),
    ("steel_processes", Part::Assessment, "steel_processes"),
    ("cement_plant", Part::Assessment, "cement/plant"),
    (
        "cement_commissioned",
        Part::Assessment,
        "cement/commissioned",
    ),
    ("cement_kwh_per_t", Part::Assessment, "cement/kwh_per_t"),
    ("aluminum_kwh_per_t", Part::Assessment, "aluminum_kwh_per_t"),
    (
        "energy_intensity_value",
        Part::Assessment,
        "energy_intensity/value",
    ),
    (
        "energy_intensity_limit",
        Part::Assessment,
        "energy_intensity/limit",
    ),
    ("water_quota_m3", Part::Assessment, "water_quota_m3"),
    (
        "water_meets_standard",
        Part::Assessment,
        "water_meets_standard",
    ),
    ("assessment_document", Part::Assessment, "document"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Id,
    Master,
    Decision,
    Year,
    Assessment,
}

/// The registry file's header, every column.
pub fn header() -> Vec<&'static str> {
    COLUMNS.map(|(name, _, _)| name).to_vec()
}

/// A registry row for what a bill request (JSON, as generated populations write them)
/// says of its enterprise: its master data, its class as a decision from `from` by
/// `document`, and its assessment and water quota (recorded under `document` too).
pub fn row_of_request(request: &Value, from: NaiveDate, document: &str) -> Vec<String> {
    let at = |pointer: &str| match request.pointer(pointer) {
        None | Some(Value::Null) => String::new(),
        Some(Value::Array(items)) => processes_cell(items),
        Some(value) => text(value),
    };
    let assessed = request.pointer("/assessment/year").is_some();
    COLUMNS
        .iter()
        .map(|(name, part, field)| match (part, *name) {
            (Part::Id, _) => at("/enterprise/id"),
            (Part::Master, "name") => match at("/enterprise/name") {
                name if name.is_empty() => at("/enterprise/id"),
                name => name,
            },
            (Part::Master, _) => at(&format!("/enterprise/{field}")),
            (Part::Decision, "class_from") => from.to_string(),
            (Part::Decision, "class_document") => document.to_string(),
            (Part::Decision, "catalogue_class") => match at("/enterprise/catalogue_class") {
                class if class.is_empty() => "permitted".to_string(),
                class => class,
            },
            (Part::Decision, _) => at(&format!("/enterprise/{field}")),
            (Part::Year, _) => at("/assessment/year"),
            (Part::Assessment, _) if !assessed => String::new(),
            (Part::Assessment, "assessment_document") => document.to_string(),
            (Part::Assessment, _) => match field.strip_prefix("water_") {
                Some(water) => at(&format!("/water/{water}")),
                None => at(&format!("/assessment/{field}")),
            },
        })
        .collect()
}

/// The request with what `row_of_request` moved to the registry taken out: it names only
/// its enterprise, for the registry to fill.
pub fn by_reference(request: &mut Value) {
    if let Some(enterprise) = request["enterprise"].as_object_mut() {
        enterprise.retain(|name, _| name == "id");
    }
    if let Some(request) = request.as_object_mut() {
        request.remove("assessment");
    }
    if let Some(water) = request["water"].as_object_mut() {
        water.remove("quota_m3");
        water.remove("meets_standard");
    }
}

/// The records a file holds, in file order, or every problem with it.
pub fn read(body: &[u8]) -> Result<Vec<(String, Record)>, Vec<FieldError>> {
    let body = body.strip_prefix(BOM).unwrap_or(body);
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(body);
    let header = reader
        .headers()
        .map_err(|e| vec![FieldError::note(format!("the header line is not CSV: {e}"))])?
        .clone();
    let mut errors = Vec::new();
    let mut columns = Vec::with_capacity(header.len());
    for name in &header {
        match COLUMNS.iter().find(|(n, _, _)| *n == name) {
            Some(column) => columns.push(*column),
            None => errors.push(cell_error(1, name, "unknown column")),
        }
    }
    if !header.iter().any(|h| h == "enterprise_id") {
        errors.push(cell_error(1, "enterprise_id", "is required in the header"));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut records = Vec::new();
    for (i, row) in reader.records().enumerate() {
        let line = i + 2;
        match row {
            Ok(row) => match read_row(&columns, &row, line) {
                Ok(mut row_records) => records.append(&mut row_records),
                Err(mut row_errors) => errors.append(&mut row_errors),
            },
            Err(e) => errors.push(cell_error(line, "", &format!("not CSV: {e}"))),
        }
    }
    if records.is_empty() && errors.is_empty() {
        errors.push(FieldError::note("the file has no rows"));
    }
    if errors.is_empty() {
        Ok(records)
    } else {
        Err(errors)
    }
}

fn read_row(
    columns: &[(&'static str, Part, &'static str)],
    row: &csv::StringRecord,
    line: usize,
) -> Result<Vec<(String, Record)>, Vec<FieldError>> {
    let mut id = String::new();
    let mut year = None;
    let mut parts = [Map::new(), Map::new(), Map::new()];
    let mut errors = Vec::new();
    for ((name, part, field), cell) in columns.iter().zip(row.iter()) {
        if cell.is_empty() {
            continue;
        }
        // The texts stored as they are: the id, the name and the documents.
        let checked = match (part, *name) {
            (Part::Id, _) => crate::text::identifier(cell),
            (_, "name" | "class_document" | "assessment_document") => crate::text::free_text(cell),
            _ => Ok(()),
        };
        if let Err(why) = checked {
            errors.push(cell_error(line, name, &why));
            continue;
        }
        let slot = match part {
            Part::Id => {
                id = cell.to_string();
                continue;
            }
            Part::Year => {
                match cell.parse::<i32>() {
                    Ok(y) if (1900..=2200).contains(&y) => year = Some(y),
                    _ => errors.push(cell_error(line, name, "not a year (1900–2200)")),
                }
                continue;
            }
            Part::Master => 0,
            Part::Decision => 1,
            Part::Assessment => 2,
        };
        insert(&mut parts[slot], field, cell_value(name, cell));
    }
    if id.is_empty() {
        errors.push(cell_error(line, "enterprise_id", "must not be empty"));
    }
    let [master, decision, assessment] = parts;
    let mut records = Vec::new();
    if !master.is_empty() {
        match typed::<MasterData>(master, line) {
            Ok(data) => records.push(Record::Master { data }),
            Err(e) => errors.push(e),
        }
    }
    if !decision.is_empty() {
        match typed::<Decision>(decision, line) {
            Ok(decision) => records.push(Record::Classification { decision }),
            Err(e) => errors.push(e),
        }
    }
    match (year, assessment.is_empty()) {
        (Some(year), false) => match typed::<YearAssessment>(assessment, line) {
            Ok(assessment) => records.push(Record::Assessment {
                year,
                assessment: Box::new(assessment),
            }),
            Err(e) => errors.push(e),
        },
        (None, false) => errors.push(cell_error(
            line,
            "assessment_year",
            "is needed for the assessment's figures",
        )),
        (Some(_), true) => errors.push(cell_error(
            line,
            "assessment_document",
            "an assessment needs its document",
        )),
        (None, true) => {}
    }
    if errors.is_empty() {
        Ok(records.into_iter().map(|r| (id.clone(), r)).collect())
    } else {
        Err(errors)
    }
}

/// A cell as JSON: flags and processes in their own shapes, the rest as text (which the
/// record's reader checks).
fn cell_value(column: &str, cell: &str) -> Value {
    match column {
        "capacity_cut_overdue" | "water_meets_standard" => {
            flag(cell).map_or_else(|| Value::String(cell.to_string()), Value::Bool)
        }
        "steel_processes" => processes_value(cell),
        _ => Value::String(cell.to_string()),
    }
}

fn insert(object: &mut Map<String, Value>, path: &str, value: Value) {
    match path.split_once('/') {
        Some((parent, rest)) => {
            let child = object
                .entry(parent.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(child) = child {
                insert(child, rest, value);
            }
        }
        None => {
            object.insert(path.to_string(), value);
        }
    }
}

/// The part's record, or the error naming the column its field came from.
fn typed<T: serde::de::DeserializeOwned>(
    part: Map<String, Value>,
    line: usize,
) -> Result<T, FieldError> {
    serde_path_to_error::deserialize(Value::Object(part)).map_err(|e| {
        let pointer = pointer_of(e.path());
        let message = e.into_inner().to_string();
        let field = pointer.trim_start_matches('/');
        // A missing field is reported at its parent; serde names it in the message.
        let missing = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
            .unwrap_or("");
        let field = if field.is_empty() { missing } else { field };
        let column = COLUMNS
            .iter()
            .find(|(_, _, f)| !f.is_empty() && (*f == field || field.starts_with(&format!("{f}/"))))
            .map_or("", |(name, _, _)| name);
        cell_error(line, column, &message)
    })
}

fn cell_error(line: usize, column: &str, message: &str) -> FieldError {
    FieldError {
        pointer: Some(format!("/rows/{line}")),
        parameter: None,
        column: (!column.is_empty()).then(|| column.to_string()),
        message: message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_of_enterprises_decisions_and_assessments_reads_in_order() {
        let file = "enterprise_id,name,industry,class_from,catalogue_class,class_document,assessment_year,steel_processes,assessment_document\n\
                    A,甲钢铁,steel,2020-01-01,restricted,list 1,2019,blast_furnace:440,assessed\n\
                    B,乙水泥,cement,,,,,,\n";
        let records = read(file.as_bytes()).unwrap();
        let kinds: Vec<(&str, &str)> = records
            .iter()
            .map(|(id, r)| {
                let kind = match r {
                    Record::Master { .. } => "master",
                    Record::Classification { .. } => "classification",
                    Record::Assessment { .. } => "assessment",
                };
                (id.as_str(), kind)
            })
            .collect();
        assert_eq!(
            kinds,
            [
                ("A", "master"),
                ("A", "classification"),
                ("A", "assessment"),
                ("B", "master")
            ]
        );
    }

    #[test]
    fn every_bad_cell_is_named_by_row_and_column() {
        let file = "enterprise_id,name,industry,class_from,catalogue_class,class_document\n\
                    A,甲,steel,2020-01-01,restricted,d\n\
                    B,乙,textiles,2020-01-01,restricted,d\n\
                    C,丙,steel,someday,restricted,d\n\
                    D,丁,steel,2020-01-01,restricted,\n";
        let errors = read(file.as_bytes()).unwrap_err();
        let places: Vec<(String, String)> = errors
            .iter()
            .map(|e| {
                (
                    e.pointer.clone().unwrap(),
                    e.column.clone().unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(
            places,
            [
                ("/rows/3".to_string(), "industry".to_string()),
                ("/rows/4".to_string(), "class_from".to_string()),
                ("/rows/5".to_string(), "class_document".to_string()),
            ],
            "{errors:?}"
        );
    }
}
