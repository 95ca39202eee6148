//! How adders on the same kWh combine: the highest wins (就高不重复), or all add up.

use rust_decimal::Decimal;

use chrono::NaiveDate;

use super::{Adder, Reader};
use crate::tariff::value::{Combination, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Applied,
    Superseded,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        crate::names::name_of(&self)
    }
}

/// The rule in force on `date`. Before any is in force, the stricter reading holds: one
/// kWh carries one adder.
pub fn rule_on(reader: &mut Reader, date: NaiveDate) -> Combination {
    match reader
        .read(reader.tariff.slots.combination, date)
        .map(|(_, e)| &e.value)
    {
        Some(Value::Combination(c)) => *c,
        _ => Combination::Max,
    }
}

/// Decides which candidates apply. Candidates come in tie-breaking order (differential,
/// tiered, punitive); a zero adder takes no part.
pub fn combine<const N: usize>(
    rule: Combination,
    candidates: [Option<Adder>; N],
) -> [Option<(Adder, Status)>; N] {
    let statuses = statuses(rule, candidates.each_ref().map(Option::as_ref));
    let mut i = 0;
    candidates.map(|candidate| {
        let status = statuses[i];
        i += 1;
        Some((candidate?, status?))
    })
}

/// `combine` by reference: the status of each candidate that takes part.
pub fn statuses<const N: usize>(
    rule: Combination,
    candidates: [Option<&Adder>; N],
) -> [Option<Status>; N] {
    let winner = match rule {
        Combination::Sum => None,
        Combination::Max => {
            let mut best: Option<(usize, Decimal)> = None;
            for (i, a) in candidates.iter().enumerate() {
                if let Some(a) = a.filter(|a| a.rate > Decimal::ZERO) {
                    if best.is_none_or(|(_, rate)| a.rate > rate) {
                        best = Some((i, a.rate));
                    }
                }
            }
            best.map(|(i, _)| i)
        }
    };
    let mut i = 0;
    candidates.map(|candidate| {
        let index = i;
        i += 1;
        candidate.filter(|a| a.rate > Decimal::ZERO)?;
        Some(match winner {
            Some(w) if w != index => Status::Superseded,
            _ => Status::Applied,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enterprise::{CatalogueClass, Industry};
    use crate::measure::{Basis, Measure, Reason};

    fn adder(measure: Measure, rate: &str) -> Option<Adder> {
        Some(Adder {
            measure,
            rate: rate.parse().unwrap(),
            reason: Reason::Differential {
                industry: Industry::Ferroalloy,
                class: CatalogueClass::Restricted,
                overdue: false,
                industry_row: false,
            },
            basis: Basis::default(),
        })
    }

    fn statuses(result: [Option<(Adder, Status)>; 3]) -> [Option<Status>; 3] {
        result.map(|r| r.map(|(_, s)| s))
    }

    #[test]
    fn the_highest_adder_wins_and_the_first_breaks_a_tie() {
        let r = combine(
            Combination::Max,
            [
                adder(Measure::Differential, "0.10"),
                None,
                adder(Measure::Punitive, "0.30"),
            ],
        );
        assert_eq!(
            statuses(r),
            [Some(Status::Superseded), None, Some(Status::Applied)]
        );
        let r = combine(
            Combination::Max,
            [
                adder(Measure::Differential, "0.10"),
                None,
                adder(Measure::Punitive, "0.10"),
            ],
        );
        assert_eq!(
            statuses(r),
            [Some(Status::Applied), None, Some(Status::Superseded)]
        );
    }

    #[test]
    fn sum_applies_everything_and_zero_adders_drop_out() {
        let r = combine(
            Combination::Sum,
            [
                adder(Measure::Differential, "0.10"),
                adder(Measure::Tiered, "0"),
                adder(Measure::Punitive, "0.30"),
            ],
        );
        assert_eq!(
            statuses(r),
            [Some(Status::Applied), None, Some(Status::Applied)]
        );
    }
}
