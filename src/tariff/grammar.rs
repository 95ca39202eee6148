//! The value grammar: what a parameter's value may be, whoever writes it — a tariff file in
//! TOML, or a reform in JSON. A value arrives as [`Raw`] (converted once at the edge from
//! either language), is read by its parameter's [`Kind`], and is then checked (signs, sorted
//! brackets, positive steps) by rules that also check a single edited number.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::schema::Kind;
use super::value::{Bracket, Combination, Stepped, Value};
use crate::enterprise::{Industry, IndustrySet};
use crate::number::parse_decimal;

/// A value as written, before it is read by its parameter's kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Raw {
    Text(String),
    /// An exact number (a TOML integer, a JSON number, a value a sweep sets).
    Number(Decimal),
    /// A binary floating-point number: refused, it cannot be read exactly.
    Float(f64),
    Bool(bool),
    Date(NaiveDate),
    List(Vec<Raw>),
    Table(BTreeMap<String, Raw>),
}

/// A field suffix (e.g. `.from`, `.brackets[1].above`) and what is wrong there.
pub type Problem = (String, String);

/// How an entry gives its value: exactly one of the three.
pub struct Given {
    pub value: Option<Raw>,
    pub brackets: Option<Vec<Raw>>,
    pub stepped: Option<Raw>,
}

impl Given {
    /// A value given on its own (a reform's override): a list is a schedule's brackets, a
    /// table its stepped formula when the parameter is a schedule.
    pub fn alone(kind: Kind, raw: Raw) -> Given {
        let none = Given {
            value: None,
            brackets: None,
            stepped: None,
        };
        match (kind, raw) {
            (Kind::Schedule { .. }, Raw::List(items)) => Given {
                brackets: Some(items),
                ..none
            },
            (Kind::Schedule { .. }, table @ Raw::Table(_)) => Given {
                stepped: Some(table),
                ..none
            },
            (_, raw) => Given {
                value: Some(raw),
                ..none
            },
        }
    }
}

/// Reads and checks a value of `kind`.
pub fn read(kind: Kind, given: Given) -> Result<Value, Problem> {
    let at = |field: &str, message: String| (format!(".{field}"), message);
    let Given {
        value,
        brackets,
        stepped,
    } = given;
    let shapes = usize::from(value.is_some())
        + usize::from(brackets.is_some())
        + usize::from(stepped.is_some());
    if shapes != 1 {
        return Err(at(
            "value",
            "give exactly one of `value`, `brackets` or `stepped`".into(),
        ));
    }
    match (kind, value, brackets, stepped) {
        (Kind::Rate, Some(Raw::Text(s)), _, _) if s == "none" => Ok(Value::Absent),
        (Kind::Rate, Some(v), _, _) => non_negative(&v)
            .map(Value::Number)
            .map_err(|m| at("value", m)),
        (Kind::Limit { may_be_negative }, Some(v), _, _) => {
            let n = decimal(&v).map_err(|m| at("value", m))?;
            check_limit(n, may_be_negative).map_err(|m| at("value", m))?;
            Ok(Value::Number(n))
        }
        (Kind::Date, Some(v), _, _) => date(&v).map(Value::Date).map_err(|m| at("value", m)),
        (Kind::Industries, Some(v), _, _) => industries(&v)
            .map(Value::Industries)
            .map_err(|m| at("value", m)),
        (Kind::Combination, Some(v), _, _) => combination(&v)
            .map(Value::Combination)
            .map_err(|m| at("value", m)),
        (Kind::Schedule { .. }, _, Some(b), _) => {
            let brackets = read_brackets(b)?;
            check_brackets(&brackets)?;
            Ok(Value::Brackets(brackets))
        }
        (
            Kind::Schedule {
                stepped_allowed: true,
            },
            _,
            _,
            Some(s),
        ) => {
            let stepped = read_stepped(s)?;
            check_stepped(&stepped)?;
            Ok(Value::Stepped(stepped))
        }
        (Kind::Schedule { .. }, _, _, _) => {
            Err(at("value", "this parameter takes `brackets`".into()))
        }
        (_, _, _, _) => Err(at("value", "this parameter takes a single `value`".into())),
    }
}

/// A problem as one line: `field: message`, or the message alone for the value itself.
pub fn in_words((field, message): Problem) -> String {
    match field.as_str() {
        ".value" => message,
        field => format!("{}: {message}", field.trim_start_matches('.')),
    }
}

fn read_brackets(raw: Vec<Raw>) -> Result<Vec<Bracket>, Problem> {
    let at = |i: usize, field: &str, message: String| (format!(".brackets[{i}].{field}"), message);
    raw.into_iter()
        .enumerate()
        .map(|(i, item)| {
            let mut fields =
                table(item, &["above", "rate"]).map_err(|m| (format!(".brackets[{i}]"), m))?;
            let rate = fields
                .remove("rate")
                .ok_or_else(|| at(i, "rate", "missing".into()))?;
            let rate = decimal(&rate).map_err(|m| at(i, "rate", m))?;
            let above = fields.remove("above").map(|a| decimal(&a)).transpose();
            Ok(Bracket {
                above: above.map_err(|m| at(i, "above", m))?,
                rate,
            })
        })
        .collect()
}

/// A schedule's rules, for a value edited number by number.
pub fn check_schedule(value: &Value) -> Result<(), Problem> {
    match value {
        Value::Brackets(brackets) => check_brackets(brackets),
        Value::Stepped(stepped) => check_stepped(stepped),
        _ => Ok(()),
    }
}

/// Brackets start at the bottom, rise strictly, and charge no negative rate.
fn check_brackets(brackets: &[Bracket]) -> Result<(), Problem> {
    let at = |i: usize, field: &str, message: String| (format!(".brackets[{i}].{field}"), message);
    if brackets.is_empty() {
        return Err((".brackets".into(), "needs at least one bracket".into()));
    }
    let mut previous: Option<Decimal> = None;
    for (i, b) in brackets.iter().enumerate() {
        check_non_negative(b.rate).map_err(|m| at(i, "rate", m))?;
        match (i, b.above, previous) {
            (0, Some(_), _) => {
                return Err(at(
                    0,
                    "above",
                    "the first bracket starts at the bottom: leave out `above`".into(),
                ))
            }
            (1.., None, _) => {
                return Err(at(
                    i,
                    "above",
                    "every bracket after the first needs `above`".into(),
                ))
            }
            (_, Some(a), Some(prev)) if a <= prev => {
                return Err(at(
                    i,
                    "above",
                    format!("brackets must be sorted: {a} does not come after {prev}"),
                ));
            }
            _ => {}
        }
        previous = b.above;
    }
    Ok(())
}

fn read_stepped(raw: Raw) -> Result<Stepped, Problem> {
    let at = |field: &str, message: String| (format!(".stepped.{field}"), message);
    let mut fields =
        table(raw, &["above", "step", "rate_per_step"]).map_err(|m| (".stepped".into(), m))?;
    let mut number = |field: &'static str| {
        let raw = fields
            .remove(field)
            .ok_or_else(|| at(field, "missing".into()))?;
        decimal(&raw).map_err(|m| at(field, m))
    };
    Ok(Stepped {
        above: number("above")?,
        step: number("step")?,
        rate_per_step: number("rate_per_step")?,
    })
}

/// A positive step and a non-negative rate per step.
fn check_stepped(stepped: &Stepped) -> Result<(), Problem> {
    let at = |field: &str, message: String| (format!(".stepped.{field}"), message);
    if stepped.step <= Decimal::ZERO {
        return Err(at("step", "the step must be greater than 0".into()));
    }
    check_non_negative(stepped.rate_per_step).map_err(|m| at("rate_per_step", m))
}

/// A table holding only `known` fields.
fn table(raw: Raw, known: &[&str]) -> Result<BTreeMap<String, Raw>, String> {
    let Raw::Table(fields) = raw else {
        return Err(format!("expected a table of {}", known.join(", ")));
    };
    match fields.keys().find(|k| !known.contains(&k.as_str())) {
        Some(unknown) => Err(format!(
            "unknown field `{unknown}`; expected {}",
            known.join(", ")
        )),
        None => Ok(fields),
    }
}

fn check_limit(n: Decimal, may_be_negative: bool) -> Result<(), String> {
    if !may_be_negative && n <= Decimal::ZERO {
        return Err(format!("a limit must be greater than 0, not {n}"));
    }
    Ok(())
}

fn check_non_negative(n: Decimal) -> Result<(), String> {
    if n < Decimal::ZERO {
        return Err(format!("must not be negative, found {n}"));
    }
    Ok(())
}

pub fn decimal(v: &Raw) -> Result<Decimal, String> {
    match v {
        Raw::Text(s) => parse_decimal(s).map_err(|e| e.to_string()),
        Raw::Number(n) => Ok(*n),
        Raw::Float(f) => Err(format!(
            "write {f} as a string (\"{f}\") so it is read exactly"
        )),
        other => Err(format!("expected a number, found {}", other.type_name())),
    }
}

fn non_negative(v: &Raw) -> Result<Decimal, String> {
    let n = decimal(v)?;
    check_non_negative(n)?;
    Ok(n)
}

pub fn date(v: &Raw) -> Result<NaiveDate, String> {
    match v {
        Raw::Date(d) => Ok(*d),
        Raw::Text(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map_err(|_| format!("`{text}` is not a date (YYYY-MM-DD)")),
        other => Err(format!(
            "expected a date (YYYY-MM-DD), found {}",
            other.type_name()
        )),
    }
}

fn industries(v: &Raw) -> Result<IndustrySet, String> {
    let Raw::List(items) = v else {
        return Err("expected a list of industries".into());
    };
    items
        .iter()
        .map(|item| {
            let name = match item {
                Raw::Text(s) => Industry::parse(s),
                _ => None,
            };
            name.ok_or_else(|| {
                format!(
                    "`{}` is not an industry (one of: {})",
                    item.shown(),
                    Industry::ALL.map(Industry::as_str).join(", ")
                )
            })
        })
        .collect()
}

fn combination(v: &Raw) -> Result<Combination, String> {
    match v {
        Raw::Text(s) if s == "max" => Ok(Combination::Max),
        Raw::Text(s) if s == "sum" => Ok(Combination::Sum),
        other => Err(format!(
            "`{}` is not a combination rule (max or sum)",
            other.shown()
        )),
    }
}

impl Raw {
    fn type_name(&self) -> &'static str {
        match self {
            Raw::Text(_) => "string",
            Raw::Number(_) => "number",
            Raw::Float(_) => "float",
            Raw::Bool(_) => "boolean",
            Raw::Date(_) => "date",
            Raw::List(_) => "array",
            Raw::Table(_) => "table",
        }
    }

    /// The value as a message quotes it.
    fn shown(&self) -> String {
        match self {
            Raw::Text(s) => s.clone(),
            Raw::Number(n) => n.to_string(),
            Raw::Float(f) => f.to_string(),
            Raw::Bool(b) => b.to_string(),
            Raw::Date(d) => d.to_string(),
            other => other.type_name().to_string(),
        }
    }
}

impl From<toml::Value> for Raw {
    fn from(value: toml::Value) -> Raw {
        match value {
            toml::Value::String(s) => Raw::Text(s),
            toml::Value::Integer(i) => Raw::Number(Decimal::from(i)),
            toml::Value::Float(f) => Raw::Float(f),
            toml::Value::Boolean(b) => Raw::Bool(b),
            // A bare date; a date-time is not a date and is read (and refused) as text.
            toml::Value::Datetime(d) => match (d.date, d.time) {
                (Some(date), None) => {
                    NaiveDate::from_ymd_opt(date.year.into(), date.month.into(), date.day.into())
                        .map_or_else(|| Raw::Text(d.to_string()), Raw::Date)
                }
                _ => Raw::Text(d.to_string()),
            },
            toml::Value::Array(items) => Raw::List(items.into_iter().map(Raw::from).collect()),
            toml::Value::Table(table) => {
                Raw::Table(table.into_iter().map(|(k, v)| (k, Raw::from(v))).collect())
            }
        }
    }
}

impl Raw {
    /// A JSON value as written in a reform: numbers exactly as their text, `null` (an absent
    /// bracket bound) left out.
    pub fn from_json(value: &serde_json::Value) -> Option<Raw> {
        use serde_json::Value as Json;
        Some(match value {
            Json::Null => return None,
            Json::Bool(b) => Raw::Bool(*b),
            Json::Number(n) => {
                let text = n.to_string();
                parse_decimal(&text).map_or(Raw::Text(text), Raw::Number)
            }
            Json::String(s) => Raw::Text(s.clone()),
            Json::Array(items) => Raw::List(items.iter().filter_map(Raw::from_json).collect()),
            Json::Object(map) => Raw::Table(
                map.iter()
                    .filter_map(|(k, v)| Raw::from_json(v).map(|v| (k.clone(), v)))
                    .collect(),
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Raw {
        Raw::Text(s.into())
    }

    fn bracket(above: Option<&str>, rate: &str) -> Raw {
        let mut fields = BTreeMap::from([("rate".to_string(), text(rate))]);
        if let Some(above) = above {
            fields.insert("above".into(), text(above));
        }
        Raw::Table(fields)
    }

    const SCHEDULE: Kind = Kind::Schedule {
        stepped_allowed: true,
    };

    #[test]
    fn numbers_are_read_exactly_and_floats_refused() {
        assert_eq!(
            read(Kind::Rate, Given::alone(Kind::Rate, text("0.30"))),
            Ok(Value::Number("0.30".parse().unwrap()))
        );
        assert_eq!(
            read(Kind::Rate, Given::alone(Kind::Rate, text("none"))),
            Ok(Value::Absent)
        );
        let float = read(Kind::Rate, Given::alone(Kind::Rate, Raw::Float(0.3)));
        assert!(float.unwrap_err().1.contains("as a string"));
        let negative = read(Kind::Rate, Given::alone(Kind::Rate, text("-1")));
        assert!(negative.unwrap_err().1.contains("negative"));
    }

    #[test]
    fn a_schedule_is_read_then_checked() {
        let good = Raw::List(vec![bracket(None, "0"), bracket(Some("1"), "0.1")]);
        assert!(read(SCHEDULE, Given::alone(SCHEDULE, good)).is_ok());
        let unsorted = Raw::List(vec![
            bracket(None, "0"),
            bracket(Some("2"), "0.1"),
            bracket(Some("1"), "0.2"),
        ]);
        let (field, message) = read(SCHEDULE, Given::alone(SCHEDULE, unsorted)).unwrap_err();
        assert_eq!(field, ".brackets[2].above");
        assert!(message.contains("sorted"), "{message}");
        let bottom = Raw::List(vec![bracket(Some("1"), "0")]);
        let (field, _) = read(SCHEDULE, Given::alone(SCHEDULE, bottom)).unwrap_err();
        assert_eq!(field, ".brackets[0].above");
    }

    #[test]
    fn an_edited_number_is_checked_by_the_same_rules() {
        let mut brackets = vec![
            Bracket {
                above: None,
                rate: Decimal::ZERO,
            },
            Bracket {
                above: Some(Decimal::ONE),
                rate: Decimal::ONE,
            },
        ];
        assert!(check_brackets(&brackets).is_ok());
        brackets[1].rate = Decimal::NEGATIVE_ONE;
        assert_eq!(
            check_brackets(&brackets).unwrap_err().0,
            ".brackets[1].rate"
        );
        let stepped = Stepped {
            above: Decimal::ZERO,
            step: Decimal::ZERO,
            rate_per_step: Decimal::ONE,
        };
        assert_eq!(check_stepped(&stepped).unwrap_err().0, ".stepped.step");
    }

    #[test]
    fn json_and_toml_give_the_same_raw_values() {
        let json: serde_json::Value =
            serde_json::json!([{ "rate": "0" }, { "above": 1.5, "rate": "0.1" }]);
        let toml: toml::Value = toml::from_str::<toml::Table>(
            "v = [{ rate = \"0\" }, { above = \"1.5\", rate = \"0.1\" }]",
        )
        .unwrap()["v"]
            .clone();
        let (json, toml) = (Raw::from_json(&json).unwrap(), Raw::from(toml));
        let read_both = |raw| read(SCHEDULE, Given::alone(SCHEDULE, raw));
        assert_eq!(read_both(json), read_both(toml));
    }
}
