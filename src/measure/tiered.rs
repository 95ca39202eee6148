//! 阶梯电价: an annual tier from the previous year's assessment, whose adder applies to all
//! production kWh of the year (steel, cement, electrolytic aluminium).

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::{Adder, Basis, Finding, Measure, NotApplicable, Reader, Reason};
use crate::assessment::{Assessment, CementPlant, Processes, SteelGrade, SteelProcess};
use crate::enterprise::{Enterprise, Industry};
use crate::tariff::value::{bracket_index, Bracket, Stepped, Value};
use crate::tariff::EntryRef;

pub fn evaluate(
    reader: &mut Reader,
    enterprise: &Enterprise,
    assessment: &Assessment,
    date: NaiveDate,
) -> Finding {
    match enterprise.industry {
        Industry::Steel => steel(reader, assessment, date),
        Industry::Cement => cement(reader, assessment, date),
        Industry::ElectrolyticAluminum => aluminum(reader, assessment, date),
        other => Err(NotApplicable::NoTierSchedule(other)),
    }
}

fn tiered(rate: Decimal, reason: Reason, basis: Basis) -> Finding {
    Ok(Adder {
        measure: Measure::Tiered,
        rate,
        reason,
        basis,
    })
}

/// The schedule an industry's tier is read from, as in force on `date`.
pub fn schedule<'t>(
    reader: &mut Reader<'t>,
    industry: Industry,
    date: NaiveDate,
) -> Result<(EntryRef, &'t Value), NotApplicable> {
    let slots = &reader.tariff.slots;
    let slot = match industry {
        Industry::Steel => slots.steel_schedule,
        Industry::Cement => slots.cement_schedule,
        Industry::ElectrolyticAluminum => slots.aluminum_schedule,
        other => return Err(NotApplicable::NoTierSchedule(other)),
    };
    match reader.read(slot, date) {
        Some((r, e)) if e.value != Value::Absent => Ok((r, &e.value)),
        _ => Err(NotApplicable::NoTierSchedule(industry)),
    }
}

fn brackets_of(value: &Value, industry: Industry) -> Result<&[Bracket], NotApplicable> {
    value
        .brackets()
        .ok_or(NotApplicable::NoTierSchedule(industry))
}

/// Tier by the number of distinct main processes strictly over their limit (decision 3).
fn steel(reader: &mut Reader, assessment: &Assessment, date: NaiveDate) -> Finding {
    let slots = &reader.tariff.slots;
    let (schedule_ref, value) = schedule(reader, Industry::Steel, date)?;
    let brackets = brackets_of(value, Industry::Steel)?;
    if assessment.steel_processes.is_empty() {
        return Err(NotApplicable::MissingInput("/assessment/steel_processes"));
    }
    let mut basis = Basis::of(schedule_ref);
    let (mut over, mut assessed, mut not_assessed) = (0u8, 0u8, Processes::default());
    for process in SteelProcess::ALL {
        let (mut process_over, mut process_assessed) = (false, false);
        for p in assessment
            .steel_processes
            .iter()
            .filter(|p| p.process == process)
        {
            let slot = slots.steel_limits[limit_index(process, p.grade)];
            let limit = reader
                .read(slot, date)
                .and_then(|(r, e)| Some((r, e.value.number()?)));
            // A process without a limit in force is not assessed (decision 3).
            let Some((limit_ref, limit)) = limit else {
                continue;
            };
            basis.push(limit_ref);
            process_assessed = true;
            process_over |= p.intensity > limit;
        }
        over += u8::from(process_over);
        assessed += u8::from(process_assessed);
        let given = assessment
            .steel_processes
            .iter()
            .any(|p| p.process == process);
        if given && !process_assessed {
            not_assessed.insert(process);
        }
    }
    if assessed == 0 {
        return Err(NotApplicable::NoProcessAssessed(not_assessed));
    }
    let count = Decimal::from(over);
    let tier = bracket_index(brackets, |above| count > above);
    tiered(
        brackets[tier].rate,
        Reason::SteelTier {
            tier: tier as u8 + 1,
            processes_over: over,
            not_assessed,
        },
        basis,
    )
}

/// Position in `STEEL_LIMIT_NAMES` of the limit that applies to a process.
fn limit_index(process: SteelProcess, grade: SteelGrade) -> usize {
    match (process, grade) {
        (SteelProcess::ElectricArcFurnace, SteelGrade::Special) => 6,
        _ => process as usize,
    }
}

/// Tier by comparable electricity against the plant's limit, which depends on when it was
/// commissioned (decision 4).
fn cement(reader: &mut Reader, assessment: &Assessment, date: NaiveDate) -> Finding {
    let slots = &reader.tariff.slots;
    let (schedule_ref, value) = schedule(reader, Industry::Cement, date)?;
    let brackets = brackets_of(value, Industry::Cement)?;
    let cement = assessment
        .cement
        .as_ref()
        .ok_or(NotApplicable::MissingInput("/assessment/cement"))?;
    let commissioned = cement.commissioned.ok_or(NotApplicable::MissingInput(
        "/assessment/cement/commissioned",
    ))?;
    let (new_from_ref, new_from) = reader
        .read(slots.cement_new_plants_from, date)
        .and_then(|(r, e)| Some((r, e.value.date()?)))
        .ok_or(NotApplicable::NoTierSchedule(Industry::Cement))?;
    let new = commissioned >= new_from;
    let plant_row = match cement.plant {
        CementPlant::Clinker => 0,
        CementPlant::Grinding => 1,
    };
    let (limit_ref, limit) = reader
        .read(slots.cement_limits[plant_row][usize::from(new)], date)
        .and_then(|(r, e)| Some((r, e.value.number()?)))
        .ok_or(NotApplicable::NoTierSchedule(Industry::Cement))?;
    // Compare x > limit × multiple exactly, without dividing.
    let mut tier = 0;
    for (i, b) in brackets.iter().enumerate().skip(1) {
        let threshold = b
            .above
            .and_then(|a| a.checked_mul(limit))
            .ok_or(NotApplicable::Overflow("/assessment/cement/kwh_per_t"))?;
        if cement.kwh_per_t > threshold {
            tier = i;
        }
    }
    let mut basis = Basis::of(schedule_ref);
    basis.push(limit_ref);
    basis.push(new_from_ref);
    let reason = Reason::CementTier {
        tier: tier as u8 + 1,
        plant: cement.plant,
        kwh_per_t: cement.kwh_per_t,
        limit,
    };
    tiered(brackets[tier].rate, reason, basis)
}

/// Brackets on AC electricity per tonne (2014), or the stepped formula (2022).
fn aluminum(reader: &mut Reader, assessment: &Assessment, date: NaiveDate) -> Finding {
    let (schedule_ref, value) = schedule(reader, Industry::ElectrolyticAluminum, date)?;
    let kwh_per_t = assessment
        .aluminum_kwh_per_t
        .ok_or(NotApplicable::MissingInput(
            "/assessment/aluminum_kwh_per_t",
        ))?;
    let basis = Basis::of(schedule_ref);
    match value {
        Value::Brackets(brackets) => {
            let tier = bracket_index(brackets, |above| kwh_per_t > above);
            tiered(
                brackets[tier].rate,
                Reason::AluminumTier {
                    tier: tier as u8 + 1,
                    kwh_per_t,
                },
                basis,
            )
        }
        Value::Stepped(stepped) => {
            let steps = started_steps(stepped, kwh_per_t)
                .ok_or(NotApplicable::Overflow("/assessment/aluminum_kwh_per_t"))?;
            let rate = steps
                .checked_mul(stepped.rate_per_step)
                .ok_or(NotApplicable::Overflow("/assessment/aluminum_kwh_per_t"))?;
            tiered(rate, Reason::AluminumSteps { steps, kwh_per_t }, basis)
        }
        _ => Err(NotApplicable::NoTierSchedule(
            Industry::ElectrolyticAluminum,
        )),
    }
}

/// ceil((x − above) / step), or 0 at or below `above`; exact even where the division is not.
pub fn started_steps(stepped: &Stepped, x: Decimal) -> Option<Decimal> {
    if x <= stepped.above {
        return Some(Decimal::ZERO);
    }
    let excess = x.checked_sub(stepped.above)?;
    let mut steps = excess.checked_div(stepped.step)?.floor();
    while steps.checked_mul(stepped.step)? > excess {
        steps -= Decimal::ONE;
    }
    while steps.checked_mul(stepped.step)? < excess {
        steps += Decimal::ONE;
    }
    Some(steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn started_steps_count_every_started_step() {
        let s = Stepped {
            above: d("13650"),
            step: d("20"),
            rate_per_step: d("0.01"),
        };
        for (x, steps) in [
            ("13650", "0"),
            ("13600", "0"),
            ("13650.000000000001", "1"),
            ("13670", "1"),
            ("13671", "2"),
            ("13700", "3"),
        ] {
            assert_eq!(started_steps(&s, d(x)), Some(d(steps)), "{x}");
        }
        let thirds = Stepped {
            above: d("0"),
            step: d("0.3"),
            rate_per_step: d("1"),
        };
        assert_eq!(started_steps(&thirds, d("0.9")), Some(d("3")));
        assert_eq!(started_steps(&thirds, d("0.900000000001")), Some(d("4")));
    }
}
