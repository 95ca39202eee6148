//! The shapes a parameter value can take.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::enterprise::IndustrySet;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Combination {
    /// 就高不重复: the highest adder applies, the others are superseded.
    Max,
    /// Every applicable adder applies.
    Sum,
}

/// One bracket of a schedule: applies to values strictly above `above` (the first
/// bracket has no lower bound).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bracket {
    pub above: Option<Decimal>,
    pub rate: Decimal,
}

/// `rate_per_step` for every started `step` above `above`: ceil((x − above) / step) × rate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stepped {
    pub above: Decimal,
    pub step: Decimal,
    pub rate_per_step: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// Nothing in force from this date (the parameter ends, or is not set here).
    Absent,
    Number(Decimal),
    Date(NaiveDate),
    Industries(IndustrySet),
    Combination(Combination),
    Brackets(Vec<Bracket>),
    Stepped(Stepped),
}

impl Value {
    pub fn number(&self) -> Option<Decimal> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    pub fn date(&self) -> Option<NaiveDate> {
        match self {
            Value::Date(d) => Some(*d),
            _ => None,
        }
    }

    pub fn industries(&self) -> IndustrySet {
        match self {
            Value::Industries(set) => *set,
            _ => IndustrySet::default(),
        }
    }

    pub fn brackets(&self) -> Option<&[Bracket]> {
        match self {
            Value::Brackets(b) => Some(b),
            _ => None,
        }
    }

    /// A short, human-readable rendering for listings and traces.
    pub fn display(&self) -> String {
        match self {
            Value::Absent => "none".into(),
            Value::Number(n) => n.to_string(),
            Value::Date(d) => d.to_string(),
            Value::Industries(set) => set
                .iter()
                .map(|i| i.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            Value::Combination(Combination::Max) => "max".into(),
            Value::Combination(Combination::Sum) => "sum".into(),
            Value::Brackets(brackets) => brackets
                .iter()
                .map(|b| match b.above {
                    None => b.rate.to_string(),
                    Some(above) => format!("> {above}: {}", b.rate),
                })
                .collect::<Vec<_>>()
                .join("; "),
            Value::Stepped(s) => format!(
                "{} per started {} above {}",
                s.rate_per_step, s.step, s.above
            ),
        }
    }

    /// The value as JSON, for the parameter listing and the digest.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            Value::Absent => serde_json::Value::Null,
            Value::Number(n) => json!(n.to_string()),
            Value::Date(d) => json!(d.to_string()),
            Value::Industries(set) => json!(set.iter().map(|i| i.as_str()).collect::<Vec<_>>()),
            Value::Combination(c) => json!(c),
            Value::Brackets(brackets) => json!(brackets
                .iter()
                .map(|b| json!({ "above": b.above.map(|a| a.to_string()), "rate": b.rate.to_string() }))
                .collect::<Vec<_>>()),
            Value::Stepped(s) => json!({
                "above": s.above.to_string(), "step": s.step.to_string(), "rate_per_step": s.rate_per_step.to_string()
            }),
        }
    }
}

/// Index of the highest bracket `x` is strictly above (0 for the first bracket).
pub fn bracket_index(brackets: &[Bracket], mut exceeds: impl FnMut(Decimal) -> bool) -> usize {
    brackets
        .iter()
        .rposition(|b| b.above.is_none_or(&mut exceeds))
        .unwrap_or(0)
}
