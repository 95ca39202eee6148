//! The audit trail of a bill: every parameter read, every measure's finding, every input.

use crate::assessment::Processes;
use crate::bill::request::BillRequest;
use crate::enterprise::Industry;
use crate::measure::water::Band;
use crate::measure::{Adder, Finding, NotApplicable, Reason};
use crate::period::Period;
use crate::tariff::value::Combination;
use crate::tariff::EntryRef;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trace {
    /// Every parameter value the bill read, in reading order.
    pub parameters: Vec<EntryRef>,
    /// What each measure found, for each run of days with the same parameters.
    pub days: Vec<DayTrace>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayTrace {
    pub period: Period,
    /// Differential, tiered, punitive.
    pub findings: [Finding; 3],
    pub water: Result<Vec<Band>, NotApplicable>,
    pub combination: Combination,
}

impl DayTrace {
    /// Every parameter value the findings of these days rest on, zero adders included.
    pub fn rested_on(&self) -> impl Iterator<Item = EntryRef> + '_ {
        let electricity = self.findings.iter().flat_map(|f| f.as_ref().ok());
        let water = self.water.iter().flatten().map(|band| &band.adder);
        electricity
            .chain(water)
            .flat_map(|adder| adder.basis.as_slice().iter().copied())
    }

    /// Steel processes the tier could not assess on these days, for want of a limit.
    pub fn not_assessed(&self) -> Processes {
        match &self.findings[1] {
            Ok(Adder {
                reason: Reason::SteelTier { not_assessed, .. },
                ..
            }) => *not_assessed,
            Err(NotApplicable::NoProcessAssessed(processes)) => *processes,
            _ => Processes::default(),
        }
    }
}

/// An input the measures consult, with its value as given (`None`: missing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputUse {
    pub pointer: &'static str,
    pub value: Option<String>,
    pub origin: Origin,
}

/// Where an input's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Given,
    /// Absent from the request and taken at its default.
    Defaulted,
    /// Filled from the enterprise registry.
    Registry,
}

/// The inputs the measures consulted for this enterprise.
pub fn inputs(request: &BillRequest) -> Vec<InputUse> {
    let e = &request.enterprise;
    let a = &request.assessment;
    let mut used = vec![
        input("/enterprise/industry", Some(e.industry.as_str())),
        defaulted(
            input(
                "/enterprise/catalogue_class",
                Some(e.catalogue_class.as_str()),
            ),
            request.defaulted.catalogue_class,
        ),
        defaulted(
            input("/enterprise/card", Some(e.card.as_str())),
            request.defaulted.card,
        ),
        input("/period/start", Some(request.period.start())),
        input("/period/end", Some(request.period.end())),
        input("/assessment/year", a.year),
    ];
    match e.industry {
        Industry::Steel => {
            used.push(defaulted(
                input(
                    "/enterprise/capacity_cut_overdue",
                    Some(e.capacity_cut_overdue),
                ),
                request.defaulted.capacity_cut_overdue,
            ));
            let processes = a
                .steel_processes
                .iter()
                .map(|p| {
                    format!(
                        "{} {}{}",
                        p.process.as_str(),
                        p.intensity,
                        if p.grade == crate::assessment::SteelGrade::Special {
                            " (special)"
                        } else {
                            ""
                        }
                    )
                })
                .collect::<Vec<_>>();
            used.push(input(
                "/assessment/steel_processes",
                (!processes.is_empty()).then(|| processes.join(", ")),
            ));
        }
        Industry::Cement => {
            let c = a.cement.as_ref();
            used.push(input(
                "/assessment/cement/plant",
                c.map(|c| c.plant.as_str()),
            ));
            used.push(input(
                "/assessment/cement/commissioned",
                c.and_then(|c| c.commissioned),
            ));
            used.push(input(
                "/assessment/cement/kwh_per_t",
                c.map(|c| c.kwh_per_t),
            ));
        }
        Industry::ElectrolyticAluminum => {
            used.push(input(
                "/assessment/aluminum_kwh_per_t",
                a.aluminum_kwh_per_t,
            ));
            used.push(input(
                "/electricity/self_generated_kwh",
                request.electricity.self_generated_kwh,
            ));
        }
        _ => {}
    }
    let intensity = a.energy_intensity.as_ref();
    used.push(input(
        "/assessment/energy_intensity/value",
        intensity.map(|i| i.value),
    ));
    used.push(input(
        "/assessment/energy_intensity/limit",
        intensity.map(|i| i.limit),
    ));
    used.push(input("/electricity/kwh", Some(request.electricity.kwh)));
    used.push(input(
        "/electricity/base_price",
        request.electricity.base_price,
    ));
    let w = request.water.as_ref();
    used.push(input("/water/m3", w.map(|w| w.m3)));
    used.push(input("/water/quota_m3", w.and_then(|w| w.quota_m3)));
    used.push(input("/water/base_price", w.and_then(|w| w.base_price)));
    used.push(input(
        "/water/meets_standard",
        w.and_then(|w| w.meets_standard),
    ));
    if !request.reclassified.is_empty() {
        let changes = request
            .reclassified
            .iter()
            .map(|r| format!("{}: {}", r.from, r.catalogue_class.as_str()))
            .collect::<Vec<_>>();
        used.push(input("/enterprise/reclassified", Some(changes.join(", "))));
    }
    for used in &mut used {
        if request
            .from_registry
            .iter()
            .any(|filled| used.pointer.starts_with(filled))
        {
            used.origin = Origin::Registry;
        }
    }
    used
}

fn input(pointer: &'static str, value: Option<impl ToString>) -> InputUse {
    InputUse {
        pointer,
        value: value.map(|v| v.to_string()),
        origin: Origin::Given,
    }
}

fn defaulted(mut input: InputUse, defaulted: bool) -> InputUse {
    if defaulted {
        input.origin = Origin::Defaulted;
    }
    input
}
