//! What a simulation answers: baseline, reform and delta, broken down, and who moves.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::compare::{Fen, Mover, Outcome, Side, Sums, Tally, HISTOGRAM_EDGES};
use super::{Excluded, Metric, Reform, EXCLUDED_EXAMPLES};
use crate::bill::BillRequest;
use crate::enterprise::{CatalogueClass, Industry};
use crate::measure::Measure;
use crate::tariff::Tariff;

/// A tariff a scenario was priced under.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = ScenarioTariff)]
pub struct TariffRef {
    pub id: String,
    pub digest: String,
}

impl TariffRef {
    fn of(tariff: &Tariff) -> TariffRef {
        TariffRef {
            id: tariff.id().to_string(),
            digest: tariff.digest.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScenarioReport {
    pub name: String,
    /// The reformed tariff: its digest differs from the baseline's unless nothing changed.
    pub tariff: TariffRef,
    pub overrides: usize,
    pub draft: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PopulationReport {
    /// Records received.
    pub records: u64,
    /// Enterprises priced on both sides (all sums are over these).
    pub priced: u64,
    /// Records that could not be read, and enterprises that could not be priced.
    pub excluded: u64,
    /// The first excluded records, with why.
    pub examples: Vec<Excluded>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GroupReport {
    pub enterprises: u64,
    /// Of them, priced under another catalogue class than their own: a steel enterprise that
    /// missed its capacity-cut deadline is priced as eliminated, whatever its class.
    #[serde(skip_serializing_if = "is_zero")]
    pub priced_as_another_class: u64,
    pub surcharge: Fen,
    pub total: Fen,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl GroupReport {
    fn of(sums: &Sums) -> GroupReport {
        GroupReport {
            enterprises: sums.enterprises,
            priced_as_another_class: sums.priced_as_another_class,
            surcharge: Fen(sums.surcharge),
            total: Fen(sums.total),
        }
    }
}

/// Money over the population, and broken down (groups without enterprises are left out).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SideReport {
    pub surcharge: Fen,
    pub total: Fen,
    pub by_industry: BTreeMap<String, GroupReport>,
    pub by_catalogue_class: BTreeMap<String, GroupReport>,
    /// Applied surcharge by measure.
    pub by_measure: BTreeMap<String, Fen>,
}

impl SideReport {
    fn of(side: &Side) -> SideReport {
        let groups = |names: &mut dyn Iterator<Item = &'static str>, sums: &[Sums]| {
            names
                .zip(sums)
                .filter(|(_, s)| s.enterprises > 0)
                .map(|(name, s)| (name.to_string(), GroupReport::of(s)))
                .collect()
        };
        SideReport {
            surcharge: Fen(side.all.surcharge),
            total: Fen(side.all.total),
            by_industry: groups(
                &mut Industry::ALL.iter().map(|i| i.as_str()),
                &side.by_industry,
            ),
            by_catalogue_class: groups(
                &mut CatalogueClass::ALL.iter().map(|c| c.as_str()),
                &side.by_class,
            ),
            by_measure: Measure::ALL
                .iter()
                .map(|m| (m.as_str().to_string(), Fen(side.by_measure[m.index()])))
                .collect(),
        }
    }

    /// Reform minus baseline, group by group.
    fn delta(baseline: &Side, reform: &Side) -> SideReport {
        let minus = |a: &Sums, b: &Sums| Sums {
            enterprises: a.enterprises,
            priced_as_another_class: a.priced_as_another_class,
            surcharge: a.surcharge.saturating_sub(b.surcharge),
            total: a.total.saturating_sub(b.total),
        };
        let mut delta = Side {
            all: minus(&reform.all, &baseline.all),
            ..Side::default()
        };
        for (i, d) in delta.by_industry.iter_mut().enumerate() {
            *d = minus(&reform.by_industry[i], &baseline.by_industry[i]);
        }
        for (i, d) in delta.by_class.iter_mut().enumerate() {
            *d = minus(&reform.by_class[i], &baseline.by_class[i]);
        }
        for (i, d) in delta.by_measure.iter_mut().enumerate() {
            *d = reform.by_measure[i].saturating_sub(baseline.by_measure[i]);
        }
        SideReport::of(&delta)
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Changes {
    /// Enterprises whose bill total rises.
    pub more: u64,
    pub less: u64,
    pub same: u64,
    /// Enterprises placed in another tier (or number of steps) of a tiered schedule.
    pub tier_changed: u64,
    /// Enterprises to which another set of measures applies.
    pub measure_changed: u64,
}

/// Enterprises whose total changes by an amount in `(from, to]` (`[from, to)` below zero;
/// a missing bound is unbounded; the bin with both bounds 0 counts no change).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Bin {
    pub from: Option<Fen>,
    pub to: Option<Fen>,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BillSide {
    pub surcharge: Fen,
    pub total: Fen,
    /// Highest tier (or started steps) of a tiered schedule, if one applies.
    #[schema(value_type = Option<String>)]
    pub tier: Option<Decimal>,
    pub measures: Vec<&'static str>,
}

impl BillSide {
    fn of(o: &Outcome) -> BillSide {
        BillSide {
            surcharge: Fen(o.surcharge),
            total: Fen(o.total),
            tier: o.tier,
            measures: Measure::ALL
                .iter()
                .filter(|m| o.measures & (1 << m.index()) != 0)
                .map(|m| m.as_str())
                .collect(),
        }
    }
}

/// One of the enterprises whose bills change most.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EnterpriseChange {
    pub record: u64,
    pub enterprise_id: String,
    pub industry: Industry,
    pub catalogue_class: CatalogueClass,
    pub baseline: BillSide,
    pub reform: BillSide,
    /// Change of the bill total.
    pub delta: Fen,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PointReport {
    #[schema(value_type = String)]
    pub value: Decimal,
    pub surcharge: Fen,
    pub total: Fen,
    pub delta_surcharge: Fen,
    pub delta_total: Fen,
    pub more: u64,
    pub less: u64,
    pub same: u64,
    /// Enterprises this value could not price (left out of the point's sums).
    pub failed: u64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SweepReport {
    pub parameter: String,
    #[schema(value_type = Option<String>, format = Date)]
    pub effective: Option<NaiveDate>,
    /// The revenue curve: one point per value, in order.
    pub points: Vec<PointReport>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GoalReport {
    pub parameter: String,
    #[schema(value_type = Option<String>, format = Date)]
    pub effective: Option<NaiveDate>,
    pub metric: Metric,
    pub target: Fen,
    /// The grid value whose change comes closest to the target.
    #[schema(value_type = String)]
    pub value: Decimal,
    /// The change that value gives.
    pub achieved: Fen,
    pub exact: bool,
    pub result: PointReport,
    /// The grid value on the other side of the target, if the search saw one.
    pub neighbour: Option<PointReport>,
    /// Passes over the population the search took.
    pub evaluations: u32,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Report {
    pub tariff: TariffRef,
    pub scenario: ScenarioReport,
    pub population: PopulationReport,
    pub baseline: SideReport,
    pub reform: SideReport,
    pub delta: SideReport,
    pub changes: Changes,
    pub histogram: Vec<Bin>,
    /// The enterprises whose totals change most, largest change first.
    pub enterprises: Vec<EnterpriseChange>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sweep: Option<SweepReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub goal: Option<GoalReport>,
}

/// A population as its report counts it.
#[derive(Debug, Clone, Default)]
pub struct Counts {
    /// Records read and kept.
    pub members: u64,
    /// Records that could not be read.
    pub rejected: u64,
    /// Members that could not be priced on one side or both.
    pub failed: u64,
    /// Excluded records (rejected or failed), at least the first few of them all.
    pub examples: Vec<Excluded>,
}

/// Who one of the enterprises whose bills change most is.
#[derive(Debug, Clone)]
pub struct Who {
    pub record: u64,
    pub enterprise_id: String,
    pub industry: Industry,
    pub catalogue_class: CatalogueClass,
}

impl Who {
    pub fn of(record: u64, request: &BillRequest) -> Who {
        let enterprise = &request.enterprise;
        Who {
            record,
            enterprise_id: enterprise.id.clone(),
            industry: enterprise.industry,
            catalogue_class: enterprise.catalogue_class,
        }
    }
}

impl Report {
    /// The comparison `tally` counted over a population priced under `baseline` and under
    /// `reformed` (`reform` applied); `who` names the member at a position. Without a sweep
    /// or goal: the caller adds them.
    pub fn new(
        (baseline, reform, reformed): (&Tariff, &Reform, &Tariff),
        population: Counts,
        tally: Tally,
        who: impl Fn(usize) -> Who,
    ) -> Report {
        let mut examples = population.examples;
        examples.sort_by_key(|e| e.record);
        examples.truncate(EXCLUDED_EXAMPLES);
        let enterprises = tally
            .movers
            .clone()
            .into_sorted()
            .iter()
            .map(|m| change(who(m.index), m))
            .collect();
        Report {
            tariff: TariffRef::of(baseline),
            scenario: ScenarioReport {
                name: reform.name.clone(),
                tariff: TariffRef::of(reformed),
                overrides: reform.overrides.len(),
                draft: reform.draft.is_some(),
            },
            population: PopulationReport {
                records: population.members + population.rejected,
                priced: tally.baseline.all.enterprises,
                excluded: population.rejected + population.failed,
                examples,
            },
            baseline: SideReport::of(&tally.baseline),
            reform: SideReport::of(&tally.reform),
            delta: SideReport::delta(&tally.baseline, &tally.reform),
            changes: Changes {
                more: tally.more,
                less: tally.less,
                same: tally.same,
                tier_changed: tally.tier_changed,
                measure_changed: tally.measure_changed,
            },
            histogram: histogram(&tally.histogram),
            enterprises,
            sweep: None,
            goal: None,
        }
    }
}

fn change(who: Who, m: &Mover) -> EnterpriseChange {
    EnterpriseChange {
        record: who.record,
        enterprise_id: who.enterprise_id,
        industry: who.industry,
        catalogue_class: who.catalogue_class,
        baseline: BillSide::of(&m.baseline),
        reform: BillSide::of(&m.reform),
        delta: Fen(m.reform.total - m.baseline.total),
    }
}

fn histogram(counts: &[u64]) -> Vec<Bin> {
    let below = HISTOGRAM_EDGES.iter().rev().map(|e| Some(Fen(-e)));
    // Bounds in order: -∞, -1e6 … -1, 0, 0, 1 … 1e6, +∞.
    let mut bounds: Vec<Option<Fen>> = vec![None];
    bounds.extend(below);
    bounds.extend([Some(Fen(0)), Some(Fen(0))]);
    bounds.extend(HISTOGRAM_EDGES.iter().map(|e| Some(Fen(*e))));
    bounds.push(None);
    counts
        .iter()
        .enumerate()
        .map(|(i, count)| Bin {
            from: bounds[i],
            to: bounds[i + 1],
            count: *count,
        })
        .collect()
}
