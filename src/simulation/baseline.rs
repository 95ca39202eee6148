//! A population's baseline, priced once: every member's bill as a comparison keeps it, and
//! which parameters the bill looked up. A reform then re-prices only the members that looked
//! up a parameter it changes; for every other member the reformed bill is the baseline bill,
//! to the fen (the engine reads a tariff only through its parameters).

use rayon::prelude::*;

use super::compare::{reading, Outcome};
use super::{Scenario, CHUNK};
use crate::bill::BillRequest;
use crate::tariff::{ParamSet, Tariff, TariffSet};

/// One member's baseline bill.
#[derive(Debug, Clone, Copy)]
pub struct Known {
    pub outcome: Outcome,
    /// Every parameter the bill looked up.
    pub read: ParamSet,
    /// Whether the reform reaches it (it is priced by the tariff the reform changes).
    pub reached: bool,
}

/// Every member's baseline bill, in member order; `Err`: why it could not be priced.
#[derive(Debug)]
pub struct Baseline {
    /// The tariffs it was priced under (see [`Baseline::key`]).
    pub key: String,
    pub members: Vec<Result<Known, Box<str>>>,
}

impl Known {
    /// Prices `request`'s baseline: under the tariff it names if that is another loaded
    /// one (the reform of `target` does not reach it), else under `target`.
    pub fn price(
        tariffs: &TariffSet,
        target: &Tariff,
        request: &BillRequest,
    ) -> Result<Known, Box<str>> {
        let (tariff, reached) = tariff_of(tariffs, target, request);
        reading(tariff, request)
            .map(|(outcome, read)| Known {
                outcome,
                read,
                reached,
            })
            .map_err(|e| e.to_string().into_boxed_str())
    }
}

/// The tariff a member is priced by under the baseline, and whether a reform of `target`
/// reaches it.
pub fn tariff_of<'a>(
    tariffs: &'a TariffSet,
    target: &'a Tariff,
    request: &BillRequest,
) -> (&'a Tariff, bool) {
    match request.tariff.as_deref() {
        Some(id) if id != target.id() => match tariffs.get(id) {
            Some(other) => (other, false),
            None => (target, true),
        },
        _ => (target, true),
    }
}

impl Baseline {
    /// Names the tariffs a baseline is priced under: the reformed one and every loaded one
    /// (members naming another keep it), by digest.
    pub fn key(tariffs: &TariffSet, target: &Tariff) -> String {
        let mut key = target.digest.clone();
        for tariff in tariffs.iter() {
            key.push(' ');
            key.push_str(&tariff.digest);
        }
        key
    }

    /// Prices every member of `scenario`'s population under its baseline tariffs.
    pub fn price(scenario: &Scenario) -> Baseline {
        let members = scenario
            .population
            .members
            .par_chunks(CHUNK)
            .flat_map_iter(|chunk| {
                let cancelled = scenario.cancelled();
                chunk.iter().map(move |member| match cancelled {
                    true => Err("cancelled".into()),
                    false => Known::price(scenario.tariffs, scenario.baseline, &member.request),
                })
            })
            .collect();
        Baseline {
            key: Baseline::key(scenario.tariffs, scenario.baseline),
            members,
        }
    }

    /// Memory it holds.
    pub fn bytes(&self) -> usize {
        let failures: usize = self
            .members
            .iter()
            .filter_map(|m| m.as_ref().err())
            .map(|e| e.len())
            .sum();
        self.members.capacity() * std::mem::size_of::<Result<Known, Box<str>>>() + failures
    }
}

/// The parameters `reformed` changes against `baseline`; `None` when it changes the tariff's
/// make-up (a parameter added or removed, another reading day), and every bill it reaches
/// must be priced again.
pub fn touched(baseline: &Tariff, reformed: &Tariff) -> Option<ParamSet> {
    let same_make_up = baseline.parameters.len() == reformed.parameters.len()
        && baseline.by_assessment_year == reformed.by_assessment_year
        && baseline
            .parameters
            .iter()
            .zip(&reformed.parameters)
            .all(|(a, b)| a.path == b.path);
    if !same_make_up {
        return None;
    }
    let same_values = |a: &crate::tariff::Parameter, b: &crate::tariff::Parameter| {
        a.entries.len() == b.entries.len()
            && a.entries
                .iter()
                .zip(&b.entries)
                .all(|(x, y)| x.from == y.from && x.value == y.value)
    };
    Some(
        baseline
            .parameters
            .iter()
            .zip(&reformed.parameters)
            .enumerate()
            .filter(|(_, (a, b))| !same_values(a, b))
            .map(|(id, _)| id as crate::tariff::ParamId)
            .collect(),
    )
}
