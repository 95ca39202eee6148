//! One plain sentence per line item saying why it is there, for people reading the bill.

use rust_decimal::Decimal;

use super::{LineItem, LineKind, Unit};
use crate::measure::combination::Status;
use crate::measure::{Adder, Basis, Measure, Reason};
use crate::tariff::Tariff;

pub fn explain(line: &LineItem, tariff: &Tariff) -> String {
    let Some(reason) = &line.reason else {
        let what = if line.kind == LineKind::BaseWater {
            "water"
        } else {
            "electricity"
        };
        return format!(
            "{what} at the base price of {} yuan/{} given with the request",
            line.rate,
            line.unit.as_str()
        );
    };
    let mut sentence = sentence(reason, line.rate, line.unit, &line.basis, tariff);
    if line.status == Status::Superseded {
        let by = line.superseded_by.map_or("another", Measure::as_str);
        sentence.push_str(&format!(
            "; superseded by the {by} adder, as one kWh carries only the highest (就高不重复)"
        ));
    }
    sentence
}

/// Why a measure found an adder, before combination (for the trace).
pub fn explain_adder(adder: &Adder, tariff: &Tariff) -> String {
    let unit = if adder.measure == Measure::WaterProgressive {
        Unit::M3
    } else {
        Unit::Kwh
    };
    sentence(&adder.reason, adder.rate, unit, &adder.basis, tariff)
}

fn sentence(reason: &Reason, rate: Decimal, unit: Unit, basis: &Basis, tariff: &Tariff) -> String {
    let under = documents(basis, tariff);
    let unit = unit.as_str();
    match reason {
        Reason::Differential { industry, class, overdue, .. } => {
            let overdue = if *overdue { " (capacity cut overdue, priced as eliminated)" } else { "" };
            format!("{}, {} class{overdue}: differential adder {} yuan/{unit} under {under}", industry.as_str(), class.as_str(), rate)
        }
        Reason::SteelTier { tier, processes_over, not_assessed } => {
            let unassessed = if not_assessed.is_empty() {
                String::new()
            } else {
                format!(" ({} not assessed: no limit in force)", not_assessed.names())
            };
            format!(
                "steel, {processes_over} main process{} over its energy limit last year{unassessed}: tier {tier}, adder {} yuan/{unit} under {under}",
                if *processes_over == 1 { "" } else { "es" },
                rate
            )
        }
        Reason::CementTier { tier, plant, kwh_per_t, limit } => format!(
            "cement {} plant at {kwh_per_t} kWh/t against a limit of {limit} kWh/t: tier {tier}, adder {} yuan/{unit} under {under}",
            plant.as_str(),
            rate
        ),
        Reason::AluminumTier { tier, kwh_per_t } => {
            format!("electrolytic aluminium at {kwh_per_t} kWh/t: tier {tier}, adder {} yuan/{unit} under {under}", rate)
        }
        Reason::AluminumSteps { steps, kwh_per_t } => format!(
            "electrolytic aluminium at {kwh_per_t} kWh/t: {steps} started step{} over the threshold, adder {} yuan/{unit} under {under}",
            if *steps == Decimal::ONE { "" } else { "s" },
            rate
        ),
        Reason::Punitive { value, limit, over_double } => format!(
            "energy consumption {value} against a limit of {limit} ({} over): punitive adder {} yuan/{unit} under {under}",
            if *over_double { "more than 100%" } else { "at most 100%" },
            rate
        ),
        Reason::Water { band, multiple, supply_restricted } => {
            let (from, to) = band_edges(basis, tariff, usize::from(*band) - 1);
            let base_price = rate.checked_div(*multiple).map(|b| b.normalize().to_string()).unwrap_or_else(|| "?".into());
            let restricted = if *supply_restricted { "; the excess also restricts or cuts supply" } else { "" };
            format!("water band {band}, {from}–{to} over quota: {multiple} × base price {base_price} = {rate} yuan/{unit} under {under}{restricted}")
        }
    }
}

/// The band's lower and upper share of the quota, from the schedule the line rests on.
fn band_edges(basis: &Basis, tariff: &Tariff, band: usize) -> (String, String) {
    let brackets = basis
        .as_slice()
        .first()
        .and_then(|r| tariff.entry(*r).1.value.brackets());
    let edge = |i: usize| brackets.and_then(|b| b.get(i)).and_then(|b| b.above);
    (
        percent(edge(band).unwrap_or(Decimal::ZERO)),
        edge(band + 1).map(percent).unwrap_or_else(|| "∞".into()),
    )
}

fn percent(share: Decimal) -> String {
    format!("{}%", (share * Decimal::ONE_HUNDRED).normalize())
}

/// The documents behind the rate (the first parameter of the basis).
fn documents(basis: &Basis, tariff: &Tariff) -> String {
    let refs = basis.as_slice();
    let Some(first) = refs.first() else {
        return "no cited document".into();
    };
    let mut numbers: Vec<&str> = Vec::new();
    for r in refs.iter().filter(|r| r.param == first.param) {
        let number = tariff.document(tariff.entry(*r).1.source).number.as_str();
        if !numbers.contains(&number) {
            numbers.push(number);
        }
    }
    numbers.join(" and ")
}
