//! A population's baseline, priced once: every member's bill as a comparison keeps it, and
//! which parameters the bill looked up. A reform then re-prices only the members that looked
//! up a parameter it changes; for every other member the reformed bill is the baseline bill,
//! to the fen (the engine reads a tariff only through its parameters).

use std::collections::HashMap;

use rayon::prelude::*;
use rust_decimal::Decimal;

use super::compare::{reading, Outcome};
use super::{Scenario, CHUNK};
use crate::bill::BillRequest;
use crate::tariff::{ParamSet, Tariff, TariffSet};

/// One member's baseline bill as a baseline keeps it: its amounts in fen (in 64 bits
/// where they fit, as they do for any real bill) and the set of parameters it looked up by
/// its place in the baseline's table: half the bill's size in full.
#[derive(Debug, Clone)]
pub struct Known {
    amounts: Amounts,
    tier: Option<Decimal>,
    /// The place of the parameters it looked up in the baseline's table.
    read: u16,
    measures: u8,
    /// Whether the reform reaches it (it is priced by the tariff the reform changes).
    pub reached: bool,
}

/// Surcharge, total and the four measures' amounts, in fen.
#[derive(Debug, Clone)]
enum Amounts {
    Narrow([i64; 6]),
    Wide(Box<[i128; 6]>),
}

impl Known {
    /// The bill as a comparison reads it.
    pub fn outcome(&self) -> Outcome {
        let [surcharge, total, by_measure @ ..] = match &self.amounts {
            Amounts::Narrow(fen) => fen.map(i128::from),
            Amounts::Wide(fen) => **fen,
        };
        Outcome {
            surcharge,
            total,
            by_measure,
            measures: self.measures,
            tier: self.tier,
        }
    }
}

/// One member's baseline bill as priced, before it is kept: every parameter it looked up.
#[derive(Debug, Clone)]
pub struct Priced {
    pub outcome: Outcome,
    pub read: ParamSet,
    pub reached: bool,
}

impl Priced {
    /// Prices `request`'s baseline: under the tariff it names if that is another loaded
    /// one (the reform of `target` does not reach it), else under `target`.
    pub fn price(
        tariffs: &TariffSet,
        target: &Tariff,
        request: &BillRequest,
    ) -> Result<Priced, Box<str>> {
        let (tariff, reached) = tariff_of(tariffs, target, request);
        reading(tariff, request)
            .map(|(outcome, read)| Priced {
                outcome,
                read,
                reached,
            })
            .map_err(|e| e.to_string().into_boxed_str())
    }
}

/// Every member's baseline bill, in member order; `Err`: why it could not be priced.
#[derive(Debug, Default)]
pub struct Baseline {
    /// The tariffs it was priced under (see [`Baseline::key`]).
    pub key: String,
    pub members: Vec<Result<Known, Box<str>>>,
    /// Each distinct set of parameters a member's bill looked up (a few dozen at most: the
    /// set follows the measures that apply), and where each is in the table.
    read_sets: Vec<ParamSet>,
    places: HashMap<ParamSet, u16>,
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
    pub fn new(key: String) -> Baseline {
        Baseline {
            key,
            ..Baseline::default()
        }
    }

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

    /// Adds the next member's baseline bill.
    pub fn push(&mut self, priced: Result<Priced, Box<str>>) {
        let known = priced.and_then(|p| {
            let o = p.outcome;
            let [a, b, c, d] = o.by_measure;
            let wide = [o.surcharge, o.total, a, b, c, d];
            let amounts = match wide.iter().all(|&n| i64::try_from(n).is_ok()) {
                true => Amounts::Narrow(wide.map(|n| n as i64)),
                false => Amounts::Wide(Box::new(wide)),
            };
            Ok(Known {
                amounts,
                tier: o.tier,
                read: self.place(p.read)?,
                measures: o.measures,
                reached: p.reached,
            })
        });
        self.members.push(known);
    }

    /// The place of `read` in the table, added if new.
    fn place(&mut self, read: ParamSet) -> Result<u16, Box<str>> {
        if let Some(&place) = self.places.get(&read) {
            return Ok(place);
        }
        let place = u16::try_from(self.read_sets.len())
            .map_err(|_| "more distinct sets of parameters read than a baseline keeps")?;
        self.read_sets.push(read);
        self.places.insert(read, place);
        Ok(place)
    }

    /// Every parameter `known`'s bill looked up.
    pub fn read(&self, known: &Known) -> &ParamSet {
        &self.read_sets[usize::from(known.read)]
    }

    /// Prices every member of `scenario`'s population under its baseline tariffs, a few
    /// chunks at a time on every core, each kept as soon as its turn comes.
    pub fn price(scenario: &Scenario) -> Baseline {
        let members = &scenario.population.members;
        let mut baseline = Baseline::new(Baseline::key(scenario.tariffs, scenario.baseline));
        for ranges in members.ranges(CHUNK).chunks(IN_FLIGHT) {
            let priced: Vec<Vec<_>> = ranges
                .par_iter()
                .map(|range| {
                    let cancelled = scenario.cancelled();
                    range
                        .clone()
                        .map(|i| match cancelled {
                            true => Err("cancelled".into()),
                            false => {
                                let request = members.request(i);
                                Priced::price(scenario.tariffs, scenario.baseline, &request)
                            }
                        })
                        .collect()
                })
                .collect();
            priced.into_iter().flatten().for_each(|p| baseline.push(p));
        }
        baseline
    }

    /// Memory it holds.
    pub fn bytes(&self) -> usize {
        use std::mem::size_of;
        let apart: usize = self
            .members
            .iter()
            .map(|m| match m {
                Err(why) => why.len(),
                Ok(Known {
                    amounts: Amounts::Wide(_),
                    ..
                }) => size_of::<[i128; 6]>(),
                Ok(_) => 0,
            })
            .sum();
        self.members.capacity() * size_of::<Result<Known, Box<str>>>()
            + apart
            + self.read_sets.capacity() * 2 * size_of::<ParamSet>()
    }
}

/// Chunks priced at once by [`Baseline::price`]: enough to keep every core busy, few
/// enough that their bills in full stay a few megabytes.
const IN_FLIGHT: usize = 16;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_baseline_bill_is_small_and_reads_back_whole() {
        assert!(std::mem::size_of::<Result<Known, Box<str>>>() <= 80);
        let mut baseline = Baseline::new("key".into());
        let outcome = |fen: i128| Outcome {
            surcharge: fen,
            total: -fen,
            by_measure: [fen, 0, 1, -1],
            measures: 0b101,
            tier: Some(Decimal::new(25, 1)),
        };
        let read: ParamSet = [3, 7].into_iter().collect();
        for fen in [
            0,
            i128::from(i64::MAX),
            i128::from(i64::MAX) + 1,
            -(10i128.pow(30)),
        ] {
            let priced = Priced {
                outcome: outcome(fen),
                read,
                reached: fen > 0,
            };
            baseline.push(Ok(priced));
        }
        baseline.push(Err("no tariff".into()));
        for (known, fen) in baseline.members.iter().zip([
            0,
            i128::from(i64::MAX),
            i128::from(i64::MAX) + 1,
            -(10i128.pow(30)),
        ]) {
            let known = known.as_ref().unwrap();
            assert_eq!(known.outcome(), outcome(fen));
            assert_eq!(baseline.read(known), &read);
            assert_eq!(known.reached, fen > 0);
        }
        assert_eq!(baseline.read_sets.len(), 1, "one distinct set, kept once");
        assert!(baseline.members[4].is_err());
    }
}
