//! What-if simulation for the price bureau: a population priced under a tariff and under a
//! reform of it, compared enterprise by enterprise and added up. Sweeps and goal-seeking
//! repeat the reform pass with one parameter varied. Every bill is priced by the engine
//! (`bill::charge`); nothing here knows a rule of the policy.

pub mod baseline;
pub mod compare;
pub mod intake;
pub mod kept;
pub mod members;
mod packed;
pub mod reform;
pub mod render;
pub mod report;
mod search;
pub mod single_pass;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use chrono::NaiveDate;
use rayon::prelude::*;
use rust_decimal::Decimal;

use crate::bill::BillRequest;
use crate::tariff::{ParamSet, Tariff, TariffSet};
pub use baseline::Baseline;
use baseline::Known;
use compare::{outcome, Outcome, Tally};
pub use members::Members;
pub use reform::{Override, Reform};
pub use report::Report;

/// Where a simulation request is wrong (a JSON pointer into it), and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub pointer: String,
    pub message: String,
}

impl Problem {
    pub fn at(pointer: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem {
            pointer: pointer.into(),
            message: message.into(),
        }
    }
}

/// Vary one parameter over `from..=to` in steps of `step`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sweep {
    /// An override key (see [`Override::key`]) naming a number.
    pub key: String,
    pub from: Decimal,
    pub to: Decimal,
    pub step: Decimal,
    /// The day the varied value takes effect; `None`: on every dated entry.
    pub effective: Option<NaiveDate>,
}

/// Which money a goal is about.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    Surcharge,
    Total,
}

impl Metric {
    pub fn as_str(self) -> &'static str {
        crate::names::name_of(&self)
    }
}

/// Find the value of one parameter, on the grid `lo, lo + step, … ≤ hi`, whose change of
/// `metric` over the population comes closest to `target` (yuan; negative: give back).
#[derive(Debug, Clone, PartialEq)]
pub struct Goal {
    pub key: String,
    pub target: Decimal,
    pub metric: Metric,
    pub lo: Decimal,
    pub hi: Decimal,
    pub step: Decimal,
    pub effective: Option<NaiveDate>,
}

/// What to simulate, over whichever population.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Spec {
    pub reform: Reform,
    pub sweep: Option<Sweep>,
    pub goal: Option<Goal>,
    /// How many of the enterprises whose bills change most to list.
    pub top: usize,
}

impl Spec {
    /// Whether one pass over the population answers it: no sweep or goal passes again.
    pub fn in_one_pass(&self) -> bool {
        self.sweep.is_none() && self.goal.is_none()
    }
}

/// Most points a sweep may have; each is one pass over the population.
pub const MAX_SWEEP_POINTS: u64 = 1_000;

/// A record left out of a simulation, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Excluded {
    /// The record's line in its input; inline, its position from 1 (its NDJSON line).
    pub record: u64,
    pub message: String,
}

/// The scenario whose bill for a member could not be priced, named first in the message
/// that excludes it.
#[derive(Debug, Clone, Copy)]
enum Side {
    Baseline,
    Reform,
}

impl Side {
    fn failed(self, error: impl std::fmt::Display) -> String {
        let side = match self {
            Side::Baseline => "baseline",
            Side::Reform => "reform",
        };
        format!("{side}: {error}")
    }
}

/// Why a member was left out whose request could not be packed (never, while every
/// registry pointer is listed).
const UNKEPT: &str = "its request names a registry input this version cannot keep";

/// How many excluded records a report lists (all are counted).
pub const EXCLUDED_EXAMPLES: usize = 20;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Population {
    /// Each member's request, and its record: its line in its input (NDJSON, or CSV after
    /// its header line); for an inline population its position from 1, the line it would
    /// have in NDJSON.
    pub members: Members,
    /// Records that could not be read, counted; the first few kept as examples.
    pub rejected: u64,
    pub rejected_examples: Vec<Excluded>,
}

impl Population {
    /// `requests` as a population, numbered from 1.
    pub fn of(requests: impl IntoIterator<Item = BillRequest>) -> Population {
        let mut population = Population::default();
        for (i, request) in requests.into_iter().enumerate() {
            population.add(i as u64 + 1, &request);
        }
        population
    }

    /// Adds a member; one whose request cannot be kept is rejected instead.
    pub fn add(&mut self, record: u64, request: &BillRequest) {
        if !self.members.push(record, request) {
            self.reject(record, UNKEPT.into());
        }
    }

    pub fn reject(&mut self, record: u64, message: String) {
        self.rejected += 1;
        if self.rejected_examples.len() < EXCLUDED_EXAMPLES {
            self.rejected_examples.push(Excluded { record, message });
        }
    }
}

/// `baseline` with `reform` applied (a draft tariff file is read among the loaded tariffs).
pub fn reformed(
    tariffs: &TariffSet,
    baseline: &Tariff,
    reform: &Reform,
) -> Result<Tariff, Vec<Problem>> {
    let loaded: Vec<Arc<Tariff>> = tariffs.iter().cloned().collect();
    reform::apply(baseline, &loaded, reform)
}

/// Whether a member's bill must be priced again under the reform: the reform reaches it
/// (`reached`) and changes a parameter it `read` (`touched`; `None`: maybe any).
fn reprices(reached: bool, touched: Option<&ParamSet>, read: &ParamSet) -> bool {
    reached && touched.is_none_or(|t| t.intersects(read))
}

/// Members per unit of parallel work.
pub(crate) const CHUNK: usize = 2048;

/// The baseline and reformed tariffs a population is priced under. Members that name
/// another loaded tariff are priced by it on both sides.
pub struct Scenario<'a> {
    pub tariffs: &'a TariffSet,
    pub baseline: &'a Tariff,
    pub population: &'a Population,
    /// Raised when nobody waits for the answer any more: the rest of the work is skipped,
    /// and what `run` answers then is incomplete.
    pub cancel: Option<&'a AtomicBool>,
    /// Re-price under a reform only the members whose baseline bill looked up a parameter
    /// it changes (the answer is the same either way; off, every member is priced again).
    pub incremental: bool,
}

impl Scenario<'_> {
    pub fn cancelled(&self) -> bool {
        self.cancel.is_some_and(|c| c.load(Ordering::Relaxed))
    }

    /// Runs the whole simulation `spec` describes.
    pub fn run(&self, spec: &Spec) -> Result<Report, Vec<Problem>> {
        let reformed = self.reformed(&spec.reform)?;
        self.run_on(spec, reformed, &Baseline::price(self))
    }

    /// Runs `spec` on the population's `baseline` priced before (under the same tariffs).
    pub fn run_on(
        &self,
        spec: &Spec,
        reformed: Tariff,
        baseline: &Baseline,
    ) -> Result<Report, Vec<Problem>> {
        let (tally, failures) = self.compare(&reformed, spec.top, baseline);
        let sweep = spec
            .sweep
            .as_ref()
            .map(|s| search::sweep(self, &spec.reform, s, baseline))
            .transpose()?;
        let goal = spec
            .goal
            .as_ref()
            .map(|g| search::goal(self, &spec.reform, g, baseline))
            .transpose()?;
        let population = self.population;
        let members = &population.members;
        let counts = report::Counts {
            members: members.len() as u64,
            rejected: population.rejected,
            failed: failures.len() as u64,
            examples: population
                .rejected_examples
                .iter()
                .cloned()
                .chain(failures)
                .collect(),
        };
        let tariffs = (self.baseline, &spec.reform, &reformed);
        let mut report = Report::new(tariffs, counts, tally, |i| {
            report::Who::of(members.record(i), &members.request(i))
        });
        report.sweep = sweep;
        report.goal = goal;
        Ok(report)
    }

    pub fn reformed(&self, reform: &Reform) -> Result<Tariff, Vec<Problem>> {
        reformed(self.tariffs, self.baseline, reform)
    }

    /// What `reformed` changes, if only some members need pricing again.
    fn touched(&self, reformed: &Tariff) -> Option<ParamSet> {
        self.incremental
            .then(|| baseline::touched(self.baseline, reformed))
            .flatten()
    }

    /// A member's reformed bill: its baseline where the reform does not reach it or changes
    /// nothing it looked up, else priced again.
    fn reform_of(
        &self,
        (reformed, touched): (&Tariff, Option<&ParamSet>),
        baseline: &Baseline,
        member: usize,
        known: &Known,
    ) -> Result<Outcome, crate::bill::BillError> {
        if !reprices(known.reached, touched, baseline.read(known)) {
            return Ok(known.outcome());
        }
        outcome(reformed, &self.population.members.request(member))
    }

    /// Compares every member's bills.
    fn compare(
        &self,
        reformed: &Tariff,
        top: usize,
        baseline: &Baseline,
    ) -> (Tally, Vec<Excluded>) {
        let touched = self.touched(reformed);
        let members = &self.population.members;
        members
            .ranges(CHUNK)
            .into_par_iter()
            .map(|range| {
                let mut tally = Tally::new(top);
                let mut failures = Vec::new();
                if self.cancelled() {
                    return (tally, failures);
                }
                for (i, known) in range.clone().zip(&baseline.members[range]) {
                    let both = match known {
                        Ok(known) => self
                            .reform_of((reformed, touched.as_ref()), baseline, i, known)
                            .map(|r| (known.outcome(), r))
                            .map_err(|e| Side::Reform.failed(e)),
                        Err(e) => Err(Side::Baseline.failed(e)),
                    };
                    match both {
                        Ok((b, r)) => {
                            tally.add(i, members.group(i), b, r);
                        }
                        Err(message) => failures.push(Excluded {
                            record: members.record(i),
                            message,
                        }),
                    }
                }
                (tally, failures)
            })
            .collect::<Vec<_>>()
            .into_iter()
            .fold(
                (Tally::new(top), Vec::new()),
                |(a, mut failures), (b, more)| {
                    failures.extend(more);
                    (a.merge(b), failures)
                },
            )
    }

    /// The reform's totals against the baseline's, over members priced on both sides.
    fn point(&self, reformed: &Tariff, baseline: &Baseline) -> search::Point {
        let touched = self.touched(reformed);
        self.population
            .members
            .ranges(CHUNK)
            .into_par_iter()
            .map(|range| {
                let mut point = search::Point::default();
                if self.cancelled() {
                    return point;
                }
                for (i, known) in range.clone().zip(&baseline.members[range]) {
                    let Ok(known) = known else {
                        continue;
                    };
                    let b = known.outcome();
                    match self.reform_of((reformed, touched.as_ref()), baseline, i, known) {
                        Ok(r) => point.add((b.surcharge, b.total), (r.surcharge, r.total)),
                        Err(_) => point.failed += 1,
                    }
                }
                point
            })
            .reduce(search::Point::default, search::Point::merge)
    }
}
