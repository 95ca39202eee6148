//! The four price measures of the policy, each evaluated for one enterprise on one day.
//!
//! A measure reads its parameters through a [`Reader`] (so a trace can list every value
//! read) and answers with a [`Finding`]: an adder with the reason it applies, or why it
//! does not. Combining adders and turning them into money is the bill's job.

pub mod combination;
pub mod differential;
pub mod punitive;
pub mod tiered;
pub mod water;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::assessment::{CementPlant, Processes};
use crate::enterprise::{CatalogueClass, Industry};
use crate::tariff::{Entry, EntryRef, ParamId, ParamSet, Tariff};

/// The policy's price measures, in the order that breaks ties (POLICY.md decision 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    Differential,
    Tiered,
    Punitive,
    WaterProgressive,
}

impl Measure {
    pub const ALL: [Measure; 4] = [
        Measure::Differential,
        Measure::Tiered,
        Measure::Punitive,
        Measure::WaterProgressive,
    ];

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn as_str(self) -> &'static str {
        crate::names::name_of(&self)
    }
}

/// Why an adder applies: the facts its explanation is written from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    Differential {
        industry: Industry,
        class: CatalogueClass,
        overdue: bool,
        industry_row: bool,
    },
    /// `not_assessed`: processes given without a limit in force (not counted).
    SteelTier {
        tier: u8,
        processes_over: u8,
        not_assessed: Processes,
    },
    CementTier {
        tier: u8,
        plant: CementPlant,
        kwh_per_t: Decimal,
        limit: Decimal,
    },
    AluminumTier {
        tier: u8,
        kwh_per_t: Decimal,
    },
    AluminumSteps {
        steps: Decimal,
        kwh_per_t: Decimal,
    },
    Punitive {
        value: Decimal,
        limit: Decimal,
        over_double: bool,
    },
    /// `band` counts from 1 in the schedule the basis names; `supply_restricted` when the
    /// excess reaches the share at which supply is also restricted.
    Water {
        band: u8,
        multiple: Decimal,
        supply_restricted: bool,
    },
}

impl Reason {
    /// The rule a line item is filed under (a parameter path prefix).
    pub fn rule(&self) -> &'static str {
        match self {
            Reason::Differential {
                industry,
                industry_row: true,
                ..
            } => differential::rule(Some(*industry)),
            Reason::Differential {
                industry_row: false,
                ..
            } => differential::rule(None),
            Reason::SteelTier { .. } => "electricity.tiered.steel",
            Reason::CementTier { .. } => "electricity.tiered.cement",
            Reason::AluminumTier { .. } | Reason::AluminumSteps { .. } => {
                "electricity.tiered.electrolytic_aluminum"
            }
            Reason::Punitive { .. } => "electricity.punitive",
            Reason::Water { .. } => "water.progressive",
        }
    }

    /// Whether the adder also charges the enterprise's self-generated electricity: the
    /// electrolytic aluminium tier does (2530号), no other measure.
    pub fn counts_self_generated(&self) -> bool {
        matches!(
            self,
            Reason::AluminumTier { .. } | Reason::AluminumSteps { .. }
        )
    }

    /// Started steps of a stepped schedule.
    pub fn steps(&self) -> Option<Decimal> {
        match self {
            Reason::AluminumSteps { steps, .. } => Some(*steps),
            _ => None,
        }
    }

    pub fn tier(&self) -> Option<u8> {
        match self {
            Reason::SteelTier { tier, .. }
            | Reason::CementTier { tier, .. }
            | Reason::AluminumTier { tier, .. } => Some(*tier),
            _ => None,
        }
    }
}

/// The parameter values an adder rests on: its rate first, then limits and thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Basis {
    refs: [EntryRef; Basis::CAPACITY],
    len: u8,
}

impl Basis {
    const CAPACITY: usize = 8;

    pub fn of(r: EntryRef) -> Basis {
        let mut b = Basis::default();
        b.push(r);
        b
    }

    /// Adds `r` unless present; false when full.
    pub fn push(&mut self, r: EntryRef) -> bool {
        if self.as_slice().contains(&r) {
            return true;
        }
        if usize::from(self.len) == Basis::CAPACITY {
            return false;
        }
        self.refs[usize::from(self.len)] = r;
        self.len += 1;
        true
    }

    /// Both bases together, or `None` if they do not fit.
    pub fn union(&self, other: &Basis) -> Option<Basis> {
        let mut joined = *self;
        other
            .as_slice()
            .iter()
            .all(|r| joined.push(*r))
            .then_some(joined)
    }

    pub fn as_slice(&self) -> &[EntryRef] {
        &self.refs[..usize::from(self.len)]
    }
}

/// A candidate surcharge on one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adder {
    pub measure: Measure,
    /// Yuan per unit (kWh, or m³ for water), unrounded.
    pub rate: Decimal,
    pub reason: Reason,
    pub basis: Basis,
}

/// Why a measure does not apply: shown in the trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotApplicable {
    IndustryNotListed,
    ClassNotTargeted,
    NoRateInForce,
    UnderDifferential,
    NoTierSchedule(Industry),
    /// Steel processes were given, but none has a limit in force.
    NoProcessAssessed(Processes),
    MissingInput(&'static str),
    WithinLimit,
    Exempt,
    MeetsStandard,
    WithinQuota,
    NoWaterRule,
    NotOnWaterList,
    /// The inputs could not be priced exactly (a product overflowed).
    Overflow(&'static str),
}

impl NotApplicable {
    pub fn describe(&self) -> String {
        match self {
            NotApplicable::IndustryNotListed => {
                "the industry is not under differential pricing".into()
            }
            NotApplicable::ClassNotTargeted => {
                "the catalogue class is neither restricted nor eliminated".into()
            }
            NotApplicable::NoRateInForce => {
                "no adder is in force for this case on this date".into()
            }
            NotApplicable::UnderDifferential => {
                "the enterprise is under differential pricing, which excludes tiered pricing".into()
            }
            NotApplicable::NoTierSchedule(i) => {
                format!("no tier schedule for {} on this date", i.as_str())
            }
            NotApplicable::MissingInput(pointer) => format!("input {pointer} was not given"),
            NotApplicable::NoProcessAssessed(processes) => format!(
                "no process given has a limit in force, so none is assessed ({})",
                processes.names()
            ),
            NotApplicable::WithinLimit => "energy consumption is within the limit".into(),
            NotApplicable::Exempt => "the industry is exempt from punitive pricing".into(),
            NotApplicable::MeetsStandard => "water use meets the mandatory standard".into(),
            NotApplicable::WithinQuota => "water use is within quota".into(),
            NotApplicable::NoWaterRule => {
                "no progressive water rule is in force on this date".into()
            }
            NotApplicable::NotOnWaterList => {
                "the progressive water surcharge does not apply to this industry on this date"
                    .into()
            }
            NotApplicable::Overflow(pointer) => {
                format!("input {pointer} is too large to price exactly")
            }
        }
    }
}

pub type Finding = Result<Adder, NotApplicable>;

/// Reads parameters for one day, keeping a log when a trace was asked for.
pub struct Reader<'t> {
    pub tariff: &'t Tariff,
    /// The span of 1 January of the assessment year: parameters chosen by the assessment
    /// year are read on that day.
    assessed_on: usize,
    /// The last day read on, and its span: a segment reads every parameter on one day.
    day: (NaiveDate, usize),
    log: Option<Vec<EntryRef>>,
    /// Every parameter looked up, found in force or not: what a change of the tariff must
    /// touch to change this bill.
    read: ParamSet,
}

impl<'t> Reader<'t> {
    pub fn new(tariff: &'t Tariff, assessed_on: NaiveDate, trace: bool) -> Reader<'t> {
        let assessed = tariff.in_force.span(assessed_on);
        Reader {
            tariff,
            assessed_on: assessed,
            day: (assessed_on, assessed),
            log: trace.then(Vec::new),
            read: ParamSet::default(),
        }
    }

    /// The value in force on `date`, or on the assessment day for a parameter chosen by it.
    pub fn read(
        &mut self,
        slot: Option<ParamId>,
        date: NaiveDate,
    ) -> Option<(EntryRef, &'t Entry)> {
        if let Some(slot) = slot {
            self.read.insert(slot);
        }
        let by_year = slot.is_some_and(|s| self.tariff.by_assessment_year.contains(s));
        let span = if by_year {
            self.assessed_on
        } else {
            self.span(date)
        };
        let found = self.tariff.in_span(slot, span);
        if let (Some(log), Some((r, _))) = (self.log.as_mut(), found) {
            if !log.contains(&r) {
                log.push(r);
            }
        }
        found
    }

    fn span(&mut self, date: NaiveDate) -> usize {
        if self.day.0 != date {
            self.day = (date, self.tariff.in_force.span(date));
        }
        self.day.1
    }

    /// Every value read so far, in reading order (with the trace on), and every parameter
    /// looked up.
    pub fn finish(self) -> (Vec<EntryRef>, ParamSet) {
        (self.log.unwrap_or_default(), self.read)
    }
}
