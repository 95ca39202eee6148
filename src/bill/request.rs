//! A validated request for one enterprise's bill over one period.

use std::borrow::Cow;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::assessment::Assessment;
use crate::enterprise::{Enterprise, Reclassification};
use crate::measure::water::Water;
use crate::period::Period;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Electricity {
    /// Production kWh in the period.
    pub kwh: Decimal,
    /// Catalogue or market price the adders sit on, yuan/kWh.
    pub base_price: Option<Decimal>,
    /// Electricity from the enterprise's own power plant in the period: only the electrolytic
    /// aluminium tier's line counts it (2530号); no base charge, no other measure.
    pub self_generated_kwh: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BillRequest {
    /// `None`: the service's default tariff.
    pub tariff: Option<String>,
    pub period: Period,
    pub enterprise: Enterprise,
    pub assessment: Assessment,
    pub electricity: Electricity,
    pub water: Option<Water>,
    /// Inputs the request left out and the engine took at their default.
    pub defaulted: Defaulted,
    /// Inputs filled from the enterprise registry (their pointers), for the trace.
    pub from_registry: Vec<&'static str>,
    /// Classifications taking effect after the period's first day, in date order; the
    /// enterprise's own holds before the first. Empty for nearly every bill.
    pub reclassified: Vec<Reclassification>,
    /// The registry decisions the classification was taken from, each with the first day of
    /// the period it governs, in date order (empty unless filled from the registry).
    pub decisions: Vec<DecisionRef>,
    /// The enterprise's latest registry version when it was filled (`None`: not filled).
    pub registry_version: Option<i64>,
}

/// A registry decision a bill's classification rests on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DecisionRef {
    /// The first day of the bill it governs.
    pub from: NaiveDate,
    pub version: i64,
    pub document: String,
}

impl BillRequest {
    /// The enterprise as classified on `day`.
    pub fn enterprise_on(&self, day: NaiveDate) -> Cow<'_, Enterprise> {
        match self.reclassified.iter().rev().find(|r| r.from <= day) {
            Some(change) => Cow::Owned(self.enterprise.reclassified(change)),
            None => Cow::Borrowed(&self.enterprise),
        }
    }

    /// The registry decision in force on `day`, if the classification came from one.
    pub fn decision_on(&self, day: NaiveDate) -> Option<&DecisionRef> {
        self.decisions.iter().rev().find(|d| d.from <= day)
    }

    /// The days the bill splits at: the tariff's changes and the enterprise's.
    pub fn split_dates<'a>(&self, tariff_changes: &'a [NaiveDate]) -> Cow<'a, [NaiveDate]> {
        if self.reclassified.is_empty() {
            return Cow::Borrowed(tariff_changes);
        }
        let mut dates: Vec<NaiveDate> = tariff_changes.to_vec();
        dates.extend(self.reclassified.iter().map(|r| r.from));
        dates.sort_unstable();
        dates.dedup();
        Cow::Owned(dates)
    }
}

/// Which enterprise inputs were absent and took their default (`permitted`, not overdue, no
/// card): the trace says so, so an auditor can tell a stated class from an assumed one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Defaulted {
    pub catalogue_class: bool,
    pub capacity_cut_overdue: bool,
    pub card: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Keep the full trace: every parameter read and every measure's finding.
    pub trace: bool,
}
