//! Comparing each enterprise's baseline and reformed bills, and adding the comparisons up.
//!
//! Money is summed as whole fen in `i128`: every bill amount has exactly two decimals, so
//! the sums are exact and cheap, and partial sums from several threads add up in any order.

use std::collections::BinaryHeap;

use rust_decimal::Decimal;

use crate::bill::{charge, BillError, BillRequest, LineKind, Options};
use crate::enterprise::{CatalogueClass, Industry};
use crate::measure::combination::Status;
use crate::measure::Measure;
use crate::tariff::{ParamSet, Tariff};

use super::members::Group;

/// What a simulation keeps of one bill.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outcome {
    pub surcharge: i128,
    pub total: i128,
    /// Applied surcharge by measure, in the order of [`Measure::ALL`].
    pub by_measure: [i128; 4],
    /// Bit `i` set: measure `Measure::ALL[i]` applies.
    pub measures: u8,
    /// The highest tier applied (or started steps of a stepped schedule).
    pub tier: Option<Decimal>,
}

/// Prices `request` and keeps what a comparison needs.
pub fn outcome(tariff: &Tariff, request: &BillRequest) -> Result<Outcome, BillError> {
    reading(tariff, request).map(|(outcome, _)| outcome)
}

/// [`outcome`], and every parameter the bill looked up.
pub fn reading(tariff: &Tariff, request: &BillRequest) -> Result<(Outcome, ParamSet), BillError> {
    let bill = charge(tariff, request, Options::default())?;
    let mut outcome = Outcome {
        surcharge: fen(bill.totals.surcharge),
        total: fen(bill.totals.total),
        ..Outcome::default()
    };
    for line in &bill.lines {
        let LineKind::Surcharge(measure) = line.kind else {
            continue;
        };
        if line.status != Status::Applied {
            continue;
        }
        outcome.by_measure[measure.index()] += fen(line.amount);
        outcome.measures |= 1 << measure.index();
        let tier = line
            .reason
            .as_ref()
            .and_then(|r| r.tier().map(Decimal::from).or(r.steps()));
        outcome.tier = outcome.tier.max(tier);
    }
    Ok((outcome, bill.read))
}

/// An amount with two decimals as whole fen.
pub fn fen(amount: Decimal) -> i128 {
    let mut amount = amount;
    amount.rescale(2);
    amount.mantissa()
}

/// Money summed over a population, in whole fen: exact at any population size the
/// service accepts (a bill is below 10^29 yuan, `i128` holds 10^36 yuan), where a
/// `Decimal` sum could overflow. Written as yuan with two decimals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fen(pub i128);

impl std::fmt::Display for Fen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

impl serde::Serialize for Fen {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl utoipa::PartialSchema for Fen {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("Yuan with exactly two decimals"))
            .examples([serde_json::json!("125000.00")])
            .into()
    }
}

impl utoipa::ToSchema for Fen {}

impl std::ops::Add for Fen {
    type Output = Fen;
    fn add(self, other: Fen) -> Fen {
        Fen(self.0.saturating_add(other.0))
    }
}

impl std::ops::Sub for Fen {
    type Output = Fen;
    fn sub(self, other: Fen) -> Fen {
        Fen(self.0.saturating_sub(other.0))
    }
}

impl std::iter::Sum for Fen {
    fn sum<I: Iterator<Item = Fen>>(iter: I) -> Fen {
        iter.fold(Fen(0), |a, b| a + b)
    }
}

/// Enterprises and money in one group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sums {
    pub enterprises: u64,
    /// Of them, priced under another class than their own (an overdue steel capacity cut is
    /// priced as eliminated).
    pub priced_as_another_class: u64,
    pub surcharge: i128,
    pub total: i128,
}

impl Sums {
    fn add(&mut self, surcharge: i128, total: i128, another_class: bool) {
        self.enterprises += 1;
        self.priced_as_another_class += u64::from(another_class);
        self.surcharge = self.surcharge.saturating_add(surcharge);
        self.total = self.total.saturating_add(total);
    }

    fn merge(&mut self, other: &Sums) {
        self.enterprises += other.enterprises;
        self.priced_as_another_class += other.priced_as_another_class;
        self.surcharge = self.surcharge.saturating_add(other.surcharge);
        self.total = self.total.saturating_add(other.total);
    }
}

/// One side (baseline or reform) of a comparison, over the population.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Side {
    pub all: Sums,
    pub by_industry: [Sums; Industry::ALL.len()],
    pub by_class: [Sums; CatalogueClass::ALL.len()],
    pub by_measure: [i128; Measure::ALL.len()],
}

impl Side {
    fn add(&mut self, group: Group, o: &Outcome) {
        let another = group.another_class;
        self.all.add(o.surcharge, o.total, another);
        self.by_industry[group.industry.index()].add(o.surcharge, o.total, another);
        self.by_class[group.catalogue_class as usize].add(o.surcharge, o.total, another);
        for (sum, amount) in self.by_measure.iter_mut().zip(o.by_measure) {
            *sum = sum.saturating_add(amount);
        }
    }

    fn merge(&mut self, other: &Side) {
        self.all.merge(&other.all);
        for (a, b) in self.by_industry.iter_mut().zip(&other.by_industry) {
            a.merge(b);
        }
        for (a, b) in self.by_class.iter_mut().zip(&other.by_class) {
            a.merge(b);
        }
        for (a, b) in self.by_measure.iter_mut().zip(other.by_measure) {
            *a = a.saturating_add(b);
        }
    }
}

/// Upper bounds, in fen, of the histogram's bins of per-enterprise change on each side of
/// zero: 1, 10, … 1 000 000 yuan.
pub const HISTOGRAM_EDGES: [i128; 7] = [
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
];
/// Eight bins of decreases, one of no change, eight of increases.
pub const HISTOGRAM_BINS: usize = 2 * (HISTOGRAM_EDGES.len() + 1) + 1;
const ZERO_BIN: usize = HISTOGRAM_EDGES.len() + 1;

/// The histogram bin of a change.
pub fn bin(delta: i128) -> usize {
    let magnitude = HISTOGRAM_EDGES.partition_point(|edge| *edge < delta.abs());
    match delta.signum() {
        0 => ZERO_BIN,
        1 => ZERO_BIN + 1 + magnitude,
        _ => ZERO_BIN - 1 - magnitude,
    }
}

/// An enterprise among those whose bills change most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mover {
    /// Position in the population.
    pub index: usize,
    pub baseline: Outcome,
    pub reform: Outcome,
}

impl Mover {
    fn key(&self) -> (i128, std::cmp::Reverse<usize>) {
        (
            (self.reform.total - self.baseline.total).abs(),
            std::cmp::Reverse(self.index),
        )
    }
}

impl Ord for Mover {
    /// Reversed, so the heap's top is the weakest of those kept.
    fn cmp(&self, other: &Mover) -> std::cmp::Ordering {
        other.key().cmp(&self.key())
    }
}

impl PartialOrd for Mover {
    fn partial_cmp(&self, other: &Mover) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// The `n` largest changes (by absolute change of the total; earlier enterprises first on ties).
#[derive(Debug, Clone, Default)]
pub struct Movers {
    n: usize,
    heap: BinaryHeap<Mover>,
}

impl Movers {
    pub fn new(n: usize) -> Movers {
        Movers {
            n,
            heap: BinaryHeap::with_capacity(n + 1),
        }
    }

    /// Keeps `mover` if it is among the `n` largest so far; `true` if kept.
    fn offer(&mut self, mover: Mover) -> bool {
        if self.n == 0 {
            return false;
        }
        if self.heap.len() < self.n {
            self.heap.push(mover);
        } else if self.heap.peek().is_some_and(|weakest| mover < *weakest) {
            self.heap.pop();
            self.heap.push(mover);
        } else {
            return false;
        }
        true
    }

    fn merge(&mut self, other: Movers) {
        for mover in other.heap {
            self.offer(mover);
        }
    }

    /// The places of the enterprises kept, in order.
    pub fn indices(&self) -> Vec<usize> {
        let mut indices: Vec<usize> = self.heap.iter().map(|m| m.index).collect();
        indices.sort_unstable();
        indices
    }

    /// The same movers, each `by` places later in the population (ties still fall the same
    /// way: every index moves alike).
    fn shifted(self, by: usize) -> Movers {
        let heap = self.heap.into_iter().map(|m| Mover {
            index: m.index + by,
            ..m
        });
        Movers {
            n: self.n,
            heap: heap.collect(),
        }
    }

    /// Largest change first.
    pub fn into_sorted(self) -> Vec<Mover> {
        self.heap.into_sorted_vec()
    }
}

/// Everything counted while comparing a population's bills.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    pub baseline: Side,
    pub reform: Side,
    pub more: u64,
    pub less: u64,
    pub same: u64,
    pub tier_changed: u64,
    pub measure_changed: u64,
    pub histogram: [u64; HISTOGRAM_BINS],
    pub movers: Movers,
}

impl Tally {
    pub fn new(top: usize) -> Tally {
        Tally {
            movers: Movers::new(top),
            ..Tally::default()
        }
    }

    /// Counts the enterprise at `index`; `true` if it is kept among the movers for now.
    pub fn add(&mut self, index: usize, group: Group, baseline: Outcome, reform: Outcome) -> bool {
        self.baseline.add(group, &baseline);
        self.reform.add(group, &reform);
        let delta = reform.total - baseline.total;
        match delta.signum() {
            1 => self.more += 1,
            -1 => self.less += 1,
            _ => self.same += 1,
        }
        self.tier_changed += u64::from(baseline.tier != reform.tier);
        self.measure_changed += u64::from(baseline.measures != reform.measures);
        self.histogram[bin(delta)] += 1;
        delta != 0
            && self.movers.offer(Mover {
                index,
                baseline,
                reform,
            })
    }

    /// The same counts, for enterprises `by` places later in the population.
    pub fn shifted(mut self, by: usize) -> Tally {
        self.movers = self.movers.shifted(by);
        self
    }

    pub fn merge(mut self, other: Tally) -> Tally {
        self.baseline.merge(&other.baseline);
        self.reform.merge(&other.reform);
        self.more += other.more;
        self.less += other.less;
        self.same += other.same;
        self.tier_changed += other.tier_changed;
        self.measure_changed += other.measure_changed;
        for (a, b) in self.histogram.iter_mut().zip(other.histogram) {
            *a += b;
        }
        self.movers.merge(other.movers);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_fall_in_bins_by_sign_and_decade() {
        assert_eq!(bin(0), ZERO_BIN);
        assert_eq!(bin(1), ZERO_BIN + 1);
        assert_eq!(bin(100), ZERO_BIN + 1);
        assert_eq!(bin(101), ZERO_BIN + 2);
        assert_eq!(bin(-100), ZERO_BIN - 1);
        assert_eq!(bin(i128::MAX / 2), HISTOGRAM_BINS - 1);
        assert_eq!(bin(-(i128::MAX / 2)), 0);
    }

    #[test]
    fn movers_keep_the_largest_changes_whatever_the_order() {
        let mover = |index: usize, delta: i128| Mover {
            index,
            baseline: Outcome::default(),
            reform: Outcome {
                total: delta,
                ..Outcome::default()
            },
        };
        let mut a = Movers::new(2);
        let mut b = Movers::new(2);
        a.offer(mover(0, 5));
        a.offer(mover(1, -9));
        b.offer(mover(2, 7));
        b.offer(mover(3, 9));
        a.merge(b);
        let kept: Vec<usize> = a.into_sorted().iter().map(|m| m.index).collect();
        assert_eq!(kept, vec![1, 3]);
    }

    #[test]
    fn fen_are_written_as_yuan_with_two_decimals() {
        let amount: Decimal = "125000.05".parse().unwrap();
        assert_eq!(fen(amount), 12_500_005);
        assert_eq!(Fen(fen(amount)).to_string(), "125000.05");
        assert_eq!(Fen(-5).to_string(), "-0.05");
        assert_eq!(Fen(i128::MIN).to_string().len(), 41);
    }
}
