//! A reform: edits of a tariff's parameters by path, laid over a loaded tariff to build a
//! new one through the same validation as a tariff file. The loaded tariff is never changed.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::Problem;
use crate::tariff::grammar::{self, in_words, Given, Raw};
use crate::tariff::schema::{self, Kind};
use crate::tariff::value::{Bracket, Stepped, Value};
use crate::tariff::{parse_tariff_str, Document, Entry, Parameter, Tariff};
use chrono::NaiveDate;
use rust_decimal::Decimal;

/// One edit of a parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    /// A parameter path, or one number of a schedule: `<path>.brackets[i].above`,
    /// `<path>.brackets[i].rate`, `<path>.stepped.above|step|rate_per_step`.
    pub key: String,
    /// As a tariff file writes it: a number (or numeric string), `"none"`, a date, a list
    /// of industries, `max`/`sum`, a list of brackets or a stepped table; read by the
    /// tariff's own value grammar.
    pub value: Raw,
    /// The value holds from this day on and earlier values stay; `None`: it replaces the
    /// value of every dated entry the parameter has.
    pub from: Option<NaiveDate>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reform {
    pub name: String,
    /// A whole draft tariff file (TOML) that replaces the target before the overrides.
    pub draft: Option<String>,
    pub overrides: Vec<Override>,
}

impl Reform {
    /// This reform with `key` set to `value` (replacing an override of the same key).
    pub fn with(&self, key: &str, value: Decimal, from: Option<NaiveDate>) -> Reform {
        let mut reform = self.clone();
        reform.overrides.retain(|o| o.key != key);
        reform.overrides.push(Override {
            key: key.to_string(),
            value: Raw::Number(value),
            from,
        });
        reform
    }
}

/// Where in a parameter an override writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Whole,
    Bracket(usize, BracketField),
    Stepped(SteppedField),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BracketField {
    Above,
    Rate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SteppedField {
    Above,
    Step,
    RatePerStep,
}

/// The JSON pointer of an override in a simulation request.
pub fn pointer(key: &str) -> String {
    format!(
        "/reform/parameters/{}",
        key.replace('~', "~0").replace('/', "~1")
    )
}

/// Splits an override key into its parameter path and part, or says what the key should be.
fn target(key: &str) -> Result<(&str, Kind, Part), String> {
    let (path, part) = if schema::spec(key).is_some() {
        (key, Part::Whole)
    } else if let Some((path, rest)) = key.split_once(".brackets[") {
        let (index, field) = rest
            .split_once("].")
            .ok_or("write a bracket as `<path>.brackets[i].above` or `.rate`")?;
        let index = index
            .parse()
            .map_err(|_| format!("`{index}` is not a bracket index"))?;
        let field = match field {
            "above" => BracketField::Above,
            "rate" => BracketField::Rate,
            other => return Err(format!("a bracket has `above` and `rate`, not `{other}`")),
        };
        (path, Part::Bracket(index, field))
    } else if let Some((path, field)) = key.split_once(".stepped.") {
        let field = match field {
            "above" => SteppedField::Above,
            "step" => SteppedField::Step,
            "rate_per_step" => SteppedField::RatePerStep,
            other => {
                return Err(format!(
                    "a stepped formula has `above`, `step` and `rate_per_step`, not `{other}`"
                ))
            }
        };
        (path, Part::Stepped(field))
    } else {
        (key, Part::Whole)
    };
    let Some(spec) = schema::spec(path) else {
        let hint = schema::closest(path, 3).join(", ");
        return Err(format!(
            "unknown parameter path `{path}`; did you mean one of: {hint}?"
        ));
    };
    if part != Part::Whole && !matches!(spec.kind, Kind::Schedule { .. }) {
        return Err(format!("`{path}` is a single value, not a schedule"));
    }
    Ok((path, spec.kind, part))
}

/// Builds the reformed tariff: `base` (or the draft file) with every override applied, then
/// validated as a whole; every problem is reported at once.
pub fn apply(
    base: &Tariff,
    loaded: &[Arc<Tariff>],
    reform: &Reform,
) -> Result<Tariff, Vec<Problem>> {
    let mut tariff = match &reform.draft {
        None => base.clone(),
        Some(text) => parse_tariff_str("tariff_file", text, loaded).map_err(|problems| {
            problems
                .into_iter()
                .map(|p| Problem::at("/reform/tariff_file", format!("{}: {}", p.key, p.message)))
                .collect::<Vec<_>>()
        })?,
    };
    if reform.overrides.is_empty() {
        return Ok(tariff);
    }
    let mut problems = Vec::new();
    let mut edits: BTreeMap<&str, Vec<(&Override, Kind, Part)>> = BTreeMap::new();
    for o in &reform.overrides {
        match target(&o.key) {
            Ok((path, kind, part)) => edits.entry(path).or_default().push((o, kind, part)),
            Err(message) => problems.push(Problem::at(pointer(&o.key), message)),
        }
    }
    let source = tariff.documents.len() as u16;
    tariff.documents.push(Document {
        number: format!("reform: {}", reform.name),
        title: format!("What-if reform \"{}\" (not in force)", reform.name),
        url: None,
        issuers: Vec::new(),
        evidence: Vec::new(),
    });
    let origin: Arc<str> = Arc::from(tariff.meta.id.as_str());
    for (path, edits) in edits {
        let first = &edits[0].0;
        if edits.iter().any(|(o, _, _)| o.from != first.from) {
            problems.push(Problem::at(
                pointer(&first.key),
                format!("every override of `{path}` must take effect on the same day"),
            ));
            continue;
        }
        let new = Entry {
            from: first.from.unwrap_or(NaiveDate::MIN),
            value: Value::Absent,
            display: String::new(),
            citation: Default::default(),
            source,
            provisional: false,
            note: Some(format!("reform: {}", reform.name)),
            defined_in: origin.clone(),
        };
        let index = tariff.parameters.iter().position(|p| p.path == path);
        let result = match (index, first.from) {
            (Some(i), None) => replace_every(&mut tariff.parameters[i], &edits, &new),
            (existing, Some(day)) => {
                let parameter = existing.map(|i| &mut tariff.parameters[i]);
                let added = set_from(parameter, path, day, &edits, new);
                added.map(|p| p.into_iter().for_each(|p| tariff.parameters.push(p)))
            }
            (None, None) => Err(format!(
                "`{path}` has no value in tariff `{}`; give `from` to introduce one",
                tariff.meta.id
            )),
        };
        if let Err(message) = result {
            problems.push(Problem::at(pointer(&first.key), message));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    tariff.meta.version = format!("{} + reform \"{}\"", tariff.meta.version, reform.name);
    Ok(Tariff::new(
        tariff.meta,
        tariff.documents,
        tariff.parameters,
    ))
}

/// Every dated value of the parameter edited (values that are `none` keep no schedule to
/// edit a part of, and stay).
fn replace_every(
    parameter: &mut Parameter,
    edits: &[(&Override, Kind, Part)],
    template: &Entry,
) -> Result<(), String> {
    for entry in &mut parameter.entries {
        if entry.value == Value::Absent && edits.iter().any(|(_, _, p)| *p != Part::Whole) {
            continue;
        }
        let value = edited(Some(entry.value.clone()), edits)?;
        *entry = Entry {
            from: entry.from,
            value,
            ..template.clone()
        };
    }
    Ok(())
}

/// The parameter's values from `day` on replaced by one edited value; returns a new
/// parameter when the tariff had none at that path.
fn set_from(
    parameter: Option<&mut Parameter>,
    path: &str,
    day: NaiveDate,
    edits: &[(&Override, Kind, Part)],
    mut entry: Entry,
) -> Result<Option<Parameter>, String> {
    let current = parameter
        .as_ref()
        .and_then(|p| p.at(day))
        .map(|(_, e)| e.value.clone());
    entry.value = edited(current, edits)?;
    match parameter {
        Some(p) => {
            p.entries.retain(|e| e.from < day);
            p.entries.push(entry);
            Ok(None)
        }
        None => {
            let spec = schema::spec(path).expect("targets are known paths");
            Ok(Some(Parameter {
                path: path.to_string(),
                kind: spec.kind,
                unit: spec.unit,
                description: spec.about.to_string(),
                entries: vec![entry],
            }))
        }
    }
}

/// `current` (`None`: the parameter has no value then) with the edits written into it, then
/// checked as a whole by the tariff file's rules (several numbers of one schedule may move
/// together).
fn edited(mut current: Option<Value>, edits: &[(&Override, Kind, Part)]) -> Result<Value, String> {
    for (o, kind, part) in edits {
        current = Some(write(current, *kind, *part, &o.value)?);
    }
    let value = current.ok_or_else(|| "no edit".to_string())?;
    grammar::check_schedule(&value).map_err(in_words)?;
    Ok(value)
}

fn write(current: Option<Value>, kind: Kind, part: Part, raw: &Raw) -> Result<Value, String> {
    match (part, current) {
        (Part::Whole, _) => grammar::read(kind, Given::alone(kind, raw.clone())).map_err(in_words),
        (Part::Bracket(i, field), Some(Value::Brackets(mut brackets))) => {
            let n = brackets.len();
            let bracket = brackets
                .get_mut(i)
                .ok_or_else(|| format!("the schedule has {n} brackets, numbered from 0"))?;
            set_bracket(bracket, field, grammar::decimal(raw)?);
            Ok(Value::Brackets(brackets))
        }
        (Part::Stepped(field), Some(Value::Stepped(mut stepped))) => {
            set_stepped(&mut stepped, field, grammar::decimal(raw)?);
            Ok(Value::Stepped(stepped))
        }
        (Part::Bracket(..), _) => Err("no brackets in force to edit".into()),
        (Part::Stepped(_), _) => Err("no stepped formula in force to edit".into()),
    }
}

fn set_bracket(bracket: &mut Bracket, field: BracketField, number: Decimal) {
    match field {
        BracketField::Above => bracket.above = Some(number),
        BracketField::Rate => bracket.rate = number,
    }
}

fn set_stepped(stepped: &mut Stepped, field: SteppedField, number: Decimal) {
    match field {
        SteppedField::Above => stepped.above = number,
        SteppedField::Step => stepped.step = number,
        SteppedField::RatePerStep => stepped.rate_per_step = number,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tariff::load_dir;
    use serde_json::Value as Json;

    fn xinzhou() -> Tariff {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tariffs");
        let tariffs = load_dir(&dir).unwrap();
        tariffs
            .into_iter()
            .find(|t| t.id() == "cn-sx-xinzhou")
            .unwrap()
    }

    fn reform(overrides: &[(&str, Json, Option<&str>)]) -> Reform {
        let none = Raw::Text("none".into());
        Reform {
            name: "test".into(),
            draft: None,
            overrides: overrides
                .iter()
                .map(|(key, value, from)| Override {
                    key: key.to_string(),
                    value: Raw::from_json(value).unwrap_or(none.clone()),
                    from: from.map(|d| d.parse().unwrap()),
                })
                .collect(),
        }
    }

    fn value_on(tariff: &Tariff, path: &str, day: &str) -> Value {
        let p = tariff.parameter(path).unwrap();
        p.at(day.parse().unwrap()).unwrap().1.value.clone()
    }

    #[test]
    fn an_override_without_a_date_replaces_every_dated_value() {
        let base = xinzhou();
        let key = "electricity.differential.steel.eliminated";
        let reformed = apply(&base, &[], &reform(&[(key, "0.8".into(), None)])).unwrap();
        for day in ["2012-01-01", "2020-10-01"] {
            assert_eq!(
                value_on(&reformed, key, day),
                Value::Number("0.8".parse().unwrap())
            );
        }
        assert_ne!(reformed.digest, base.digest);
        assert_eq!(
            base.parameter(key).unwrap().entries[1].value,
            Value::Number("0.50".parse().unwrap()),
            "the loaded tariff is untouched"
        );
    }

    #[test]
    fn a_dated_override_keeps_earlier_values_and_cites_the_reform() {
        let base = xinzhou();
        let key = "electricity.differential.steel.eliminated";
        let reformed = apply(
            &base,
            &[],
            &reform(&[(key, "0.8".into(), Some("2021-01-01"))]),
        )
        .unwrap();
        assert_eq!(
            value_on(&reformed, key, "2020-12-31"),
            Value::Number("0.50".parse().unwrap())
        );
        let (_, entry) = reformed
            .parameter(key)
            .unwrap()
            .at("2021-01-01".parse().unwrap())
            .unwrap();
        assert_eq!(entry.value, Value::Number("0.8".parse().unwrap()));
        assert_eq!(reformed.document(entry.source).number, "reform: test");
        assert!(reformed
            .change_dates
            .contains(&"2021-01-01".parse().unwrap()));
    }

    #[test]
    fn several_numbers_of_one_schedule_are_checked_together() {
        let base = xinzhou();
        let path = "electricity.tiered.cement.schedule";
        // Moving both boundaries up: one at a time the first would pass the second.
        let edits = [
            (&*format!("{path}.brackets[1].above"), "1.2".into(), None),
            (&*format!("{path}.brackets[2].above"), "1.3".into(), None),
        ];
        let reformed = apply(&base, &[], &reform(&edits)).unwrap();
        let Value::Brackets(b) = value_on(&reformed, path, "2020-10-01") else {
            panic!("a schedule")
        };
        assert_eq!(b[1].above, Some("1.2".parse().unwrap()));
        assert_eq!(b[2].above, Some("1.3".parse().unwrap()));
    }

    #[test]
    fn a_parameter_the_tariff_lacks_needs_a_date() {
        let base = xinzhou();
        let key = "electricity.differential.ferroalloy.restricted";
        if base.parameter(key).is_some() {
            return; // the bundled tariff sets it; nothing to introduce
        }
        let problems = apply(&base, &[], &reform(&[(key, "0.1".into(), None)])).unwrap_err();
        assert!(problems[0].message.contains("give `from`"), "{problems:?}");
        let reformed = apply(
            &base,
            &[],
            &reform(&[(key, "0.1".into(), Some("2021-01-01"))]),
        )
        .unwrap();
        assert!(reformed.parameter(key).is_some());
    }

    #[test]
    fn every_bad_override_is_reported_at_its_key() {
        let problems = apply(
            &xinzhou(),
            &[],
            &reform(&[
                ("electricity.punitive.over_dubble", "0.1".into(), None),
                (
                    "water.progressive.schedule.brackets[9].rate",
                    "1".into(),
                    None,
                ),
                ("electricity.combination", "most".into(), None),
            ]),
        )
        .unwrap_err();
        let pointers: Vec<&str> = problems.iter().map(|p| p.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/reform/parameters/electricity.punitive.over_dubble",
                "/reform/parameters/electricity.combination",
                "/reform/parameters/water.progressive.schedule.brackets[9].rate",
            ]
        );
        assert!(problems[0]
            .message
            .contains("electricity.punitive.over_double"));
    }
}
