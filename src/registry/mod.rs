//! The enterprise registry: who each enterprise is, how the commission classified it and
//! from when, and its yearly assessments, each record citing the document that made it.
//! Nothing is overwritten: every write is a new version of its enterprise, and every read
//! can be made as of any day (and as the registry stood at any version).
//!
//! Classifications are dated decisions. On any day the decision in force is the latest one
//! (highest version) whose period covers the day, so periods never overlap: a new decision
//! closes or splits the ones it covers, and says which when it is recorded.

pub mod cache;
pub mod fill;
pub mod import;
pub mod store;
pub mod xlsx;

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::enterprise::{Card, CatalogueClass, Industry};
use crate::number::Exact;
use crate::wire::request::{AssessmentBody, CementBody, IntensityBody, ProcessBody};

/// Who an enterprise is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MasterData {
    #[schema(example = "忻州某钢铁有限公司")]
    pub name: String,
    pub industry: Industry,
    #[schema(example = "cn-sx-xinzhou")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

/// A dated classification decision: from `from` (and through `to`, if given), the enterprise
/// is of this catalogue class, overdue or not, carded or not, by `document`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    #[schema(value_type = String, format = Date, example = "2020-01-01")]
    pub from: NaiveDate,
    /// The last day, inclusive; open-ended when absent.
    #[schema(value_type = Option<String>, format = Date)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<NaiveDate>,
    pub catalogue_class: CatalogueClass,
    #[serde(default)]
    pub capacity_cut_overdue: bool,
    #[serde(default)]
    pub card: Card,
    /// The notice that made the decision, e.g. the list a commission published.
    #[schema(example = "忻发改价格〔2020〕12号")]
    pub document: String,
}

impl Decision {
    pub fn covers(&self, day: NaiveDate) -> bool {
        self.from <= day && self.to.is_none_or(|to| day <= to)
    }

    /// Whether the two periods share a day.
    fn overlaps(&self, other: &Decision) -> bool {
        self.from <= other.to.unwrap_or(NaiveDate::MAX)
            && other.from <= self.to.unwrap_or(NaiveDate::MAX)
    }
}

/// A year's assessment: the figures a bill's `assessment` carries, and the water figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct YearAssessment {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steel_processes: Vec<ProcessBody>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cement: Option<CementBody>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aluminum_kwh_per_t: Option<Exact>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub energy_intensity: Option<IntensityBody>,
    /// The water quota, m³ per billing month.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub water_quota_m3: Option<Exact>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub water_meets_standard: Option<bool>,
    /// The assessment's document.
    pub document: String,
}

impl YearAssessment {
    /// The assessment as a bill request's `assessment` carries it.
    pub fn as_bill_assessment(&self, year: i32) -> AssessmentBody {
        AssessmentBody {
            year: Some(year),
            steel_processes: self.steel_processes.clone(),
            cement: self.cement.clone(),
            aluminum_kwh_per_t: self.aluminum_kwh_per_t,
            energy_intensity: self.energy_intensity.clone(),
        }
    }
}

/// One recorded change.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// 1, 2, 3, … per enterprise, in the order recorded.
    pub version: i64,
    pub record: Record,
    pub recorded_at: DateTime<Utc>,
    /// The name of the API key that recorded it.
    pub recorded_by: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Master {
        data: MasterData,
    },
    Classification {
        decision: Decision,
    },
    Assessment {
        year: i32,
        assessment: Box<YearAssessment>,
    },
}

/// The whole registry as read at one moment: every enterprise's history (each shared, so a
/// snapshot grown by a few changes copies only the histories they touch).
#[derive(Debug, Default, Clone)]
pub struct Snapshot {
    pub histories: HashMap<String, Arc<History>>,
    /// How many changes it holds (the registry only grows).
    pub changes: i64,
    /// When the newest change it holds was recorded.
    pub newest: Option<DateTime<Utc>>,
}

impl Snapshot {
    /// A registry of one enterprise (all a single bill needs).
    pub fn of(enterprise_id: &str, history: History) -> Snapshot {
        let mut snapshot = Snapshot::default();
        snapshot.insert(enterprise_id, history);
        snapshot
    }

    /// Holds `history` as `enterprise_id`'s, counted.
    pub fn insert(&mut self, enterprise_id: &str, history: History) {
        let newest = history.0.iter().map(|c| c.recorded_at).max();
        self.newest = self.newest.max(newest);
        self.changes += history.0.len() as i64;
        let held = self
            .histories
            .insert(enterprise_id.to_string(), Arc::new(history));
        self.changes -= held.map_or(0, |h| h.0.len() as i64);
    }

    pub fn history(&self, enterprise_id: &str) -> Option<&History> {
        self.histories.get(enterprise_id).map(Arc::as_ref)
    }

    /// Adds `change` of `enterprise_id` if it is that enterprise's next version: one held
    /// already is passed over, and one after a missing version too (the count then tells).
    pub fn add(&mut self, enterprise_id: &str, change: Change) {
        let history = self.histories.entry(enterprise_id.to_string()).or_default();
        let next = history.0.last().map_or(1, |last| last.version + 1);
        if change.version == next {
            self.newest = self.newest.max(Some(change.recorded_at));
            Arc::make_mut(history).0.push(change);
            self.changes += 1;
        }
    }

    /// The registry as it stood at the end of `day` (UTC): the changes recorded by then.
    pub fn as_of(&self, day: NaiveDate) -> Snapshot {
        let end = day
            .and_hms_opt(23, 59, 59)
            .expect("a time of day")
            .and_utc();
        let mut snapshot = Snapshot::default();
        for (id, history) in &self.histories {
            let known: Vec<Change> = history
                .0
                .iter()
                .filter(|c| c.recorded_at <= end)
                .cloned()
                .collect();
            if !known.is_empty() {
                snapshot.insert(id, History(known));
            }
        }
        snapshot
    }
}

/// Every change of one enterprise, in version order.
#[derive(Debug, Clone, Default)]
pub struct History(pub Vec<Change>);

/// A decision in force, with the version that recorded it.
#[derive(Debug, Clone, Copy)]
pub struct InForce<'a, T> {
    pub version: i64,
    pub value: &'a T,
}

/// What a new decision does to the decisions in force before it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Effect {
    /// The earlier decision's version.
    pub version: i64,
    /// `replaces` (wholly covered), `closes` (its end or start cut off) or `splits` (the new
    /// period falls inside it).
    pub effect: &'static str,
}

impl History {
    /// The history as the registry stood after `version` (all of it when `None`).
    pub fn known_at(&self, version: Option<i64>) -> History {
        History(
            self.0
                .iter()
                .filter(|c| version.is_none_or(|v| c.version <= v))
                .cloned()
                .collect(),
        )
    }

    pub fn latest_version(&self) -> i64 {
        self.0.last().map_or(0, |c| c.version)
    }

    pub fn master(&self) -> Option<InForce<'_, MasterData>> {
        self.0.iter().rev().find_map(|c| match &c.record {
            Record::Master { data } => Some(InForce {
                version: c.version,
                value: data,
            }),
            _ => None,
        })
    }

    fn decisions(&self) -> impl DoubleEndedIterator<Item = InForce<'_, Decision>> {
        self.0.iter().filter_map(|c| match &c.record {
            Record::Classification { decision } => Some(InForce {
                version: c.version,
                value: decision,
            }),
            _ => None,
        })
    }

    /// The decision in force on `day`: the latest recorded one covering it.
    pub fn classification_on(&self, day: NaiveDate) -> Option<InForce<'_, Decision>> {
        self.decisions().rev().find(|d| d.value.covers(day))
    }

    /// The latest assessment of `year`.
    pub fn assessment_of(&self, year: i32) -> Option<InForce<'_, YearAssessment>> {
        self.0.iter().rev().find_map(|c| match &c.record {
            Record::Assessment {
                year: y,
                assessment,
            } if *y == year => Some(InForce {
                version: c.version,
                value: &**assessment,
            }),
            _ => None,
        })
    }

    /// What recording `new` would do to the decisions in force now: each earlier decision
    /// that still governs some day of `new`'s period is replaced, closed or split.
    pub fn effects_of(&self, new: &Decision) -> Vec<Effect> {
        let mut effects = Vec::new();
        for earlier in self.decisions() {
            let d = earlier.value;
            if !d.overlaps(new) || !self.governs_some_day(earlier.version, d, new) {
                continue;
            }
            let starts_before = d.from < new.from;
            let ends_after = match (d.to, new.to) {
                (_, None) => false,
                (None, Some(_)) => true,
                (Some(a), Some(b)) => a > b,
            };
            let effect = match (starts_before, ends_after) {
                (true, true) => "splits",
                (false, false) => "replaces",
                _ => "closes",
            };
            effects.push(Effect {
                version: earlier.version,
                effect,
            });
        }
        effects
    }

    /// Whether decision `version` is still the one in force on a day that `new` covers
    /// (checked at its own edges and at the edges of later decisions: enough, since what
    /// governs changes only at an edge).
    fn governs_some_day(&self, version: i64, d: &Decision, new: &Decision) -> bool {
        let mut days = vec![d.from.max(new.from)];
        for later in self.decisions().filter(|l| l.version > version) {
            days.push(later.value.from);
            if let Some(to) = later.value.to.and_then(|t| t.succ_opt()) {
                days.push(to);
            }
        }
        days.into_iter()
            .filter(|day| d.covers(*day) && new.covers(*day))
            .any(|day| {
                self.classification_on(day)
                    .is_some_and(|f| f.version == version)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn decision(from: &str, to: Option<&str>, class: CatalogueClass) -> Decision {
        Decision {
            from: day(from),
            to: to.map(day),
            catalogue_class: class,
            capacity_cut_overdue: false,
            card: Card::default(),
            document: "doc".into(),
        }
    }

    fn history(decisions: Vec<Decision>) -> History {
        History(
            decisions
                .into_iter()
                .enumerate()
                .map(|(i, decision)| Change {
                    version: i as i64 + 1,
                    record: Record::Classification { decision },
                    recorded_at: Utc::now(),
                    recorded_by: "test".into(),
                })
                .collect(),
        )
    }

    #[test]
    fn the_latest_decision_covering_a_day_is_in_force() {
        let h = history(vec![
            decision("2020-01-01", None, CatalogueClass::Restricted),
            decision("2020-06-01", Some("2020-08-31"), CatalogueClass::Eliminated),
        ]);
        let class = |d: &str| h.classification_on(day(d)).map(|f| f.value.catalogue_class);
        assert_eq!(class("2019-12-31"), None);
        assert_eq!(class("2020-05-31"), Some(CatalogueClass::Restricted));
        assert_eq!(class("2020-06-01"), Some(CatalogueClass::Eliminated));
        assert_eq!(class("2020-08-31"), Some(CatalogueClass::Eliminated));
        assert_eq!(class("2020-09-01"), Some(CatalogueClass::Restricted));
        assert_eq!(
            h.known_at(Some(1))
                .classification_on(day("2020-07-01"))
                .map(|f| f.value.catalogue_class),
            Some(CatalogueClass::Restricted),
            "as the registry stood before the second decision"
        );
    }

    #[test]
    fn a_new_decision_says_what_it_splits_closes_or_replaces() {
        let h = history(vec![decision(
            "2020-01-01",
            None,
            CatalogueClass::Restricted,
        )]);
        let effects = |new: Decision| -> Vec<&'static str> {
            h.effects_of(&new).into_iter().map(|e| e.effect).collect()
        };
        assert_eq!(
            effects(decision(
                "2020-06-01",
                Some("2020-08-31"),
                CatalogueClass::Eliminated
            )),
            ["splits"]
        );
        assert_eq!(
            effects(decision("2020-06-01", None, CatalogueClass::Eliminated)),
            ["closes"]
        );
        assert_eq!(
            effects(decision("2019-01-01", None, CatalogueClass::Eliminated)),
            ["replaces"]
        );
        assert!(effects(decision(
            "2019-01-01",
            Some("2019-12-31"),
            CatalogueClass::Eliminated
        ))
        .is_empty());
        let replaced = history(vec![
            decision("2020-01-01", None, CatalogueClass::Restricted),
            decision("2019-01-01", None, CatalogueClass::Eliminated),
        ]);
        assert!(
            replaced
                .effects_of(&decision("2020-06-01", None, CatalogueClass::Permitted))
                .iter()
                .all(|e| e.version == 2),
            "a decision no longer in force is not touched again"
        );
    }
}
