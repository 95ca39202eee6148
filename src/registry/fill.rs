//! A bill request filled from the registry: what the request leaves out (industry and name,
//! the classification, the assessment of the year before, the water quota) is taken from
//! the enterprise's records as of the bill's period; what it gives wins. A decision taking
//! effect inside the period splits the bill there.

use chrono::{Datelike, NaiveDate};

use super::{Decision, History, Snapshot};
use crate::bill::request::DecisionRef;
use crate::bill::BillRequest;
use crate::enterprise::{Card, CatalogueClass, Reclassification};
use crate::period::Period;
use crate::wire::problem::FieldError;
use crate::wire::request::BillRequestBody;

/// Every input the registry may fill, by pointer; `Filled::pointers` holds only these (a
/// kept population's packed requests name them by their place here).
pub const FILLED_POINTERS: [&str; 9] = [
    "/enterprise/industry",
    "/enterprise/name",
    "/enterprise/catalogue_class",
    "/enterprise/capacity_cut_overdue",
    "/enterprise/card",
    "/enterprise/reclassified",
    "/assessment",
    "/water/quota_m3",
    "/water/meets_standard",
];

/// What the registry filled: the inputs' pointers (for the trace) and the classifications
/// taking effect inside the period.
#[derive(Debug, Default)]
pub struct Filled {
    pub pointers: Vec<&'static str>,
    pub reclassified: Vec<Reclassification>,
    /// The decisions the classification was taken from.
    pub decisions: Vec<DecisionRef>,
    /// The enterprise's latest version when it was read.
    pub registry_version: Option<i64>,
}

/// `body` as the engine's request. When it leaves its enterprise to the registry, the
/// enterprise is filled from `registry` (one not in it is an error at `/enterprise/id`);
/// without a registry to read, such a request fails for want of an industry.
pub fn request(
    mut body: BillRequestBody,
    registry: Option<&Snapshot>,
) -> Result<BillRequest, Vec<FieldError>> {
    let filled = match registry {
        Some(registry) if wanted(&body) && !body.enterprise.id.trim().is_empty() => {
            let empty = History::default();
            let history = registry.history(&body.enterprise.id).unwrap_or(&empty);
            fill(history, &mut body).map_err(|e| vec![e])?
        }
        _ => Filled::default(),
    };
    let mut request = body.into_domain("")?;
    request.from_registry = filled.pointers;
    request.reclassified = filled.reclassified;
    request.decisions = filled.decisions;
    request.registry_version = filled.registry_version;
    Ok(request)
}

/// Whether a request leaves its enterprise to the registry: it names no industry.
pub fn wanted(body: &BillRequestBody) -> bool {
    body.enterprise.industry.is_none()
}

/// Fills `body` from `history`. An enterprise the registry does not know is an error at
/// `/enterprise/id`; a period that does not read is left for validation to report.
fn fill(history: &History, body: &mut BillRequestBody) -> Result<Filled, FieldError> {
    let master = history.master().ok_or_else(|| {
        FieldError::at(
            "/enterprise/id",
            format!(
                "`{}` is not in the registry: give the enterprise's industry (and class), or record it first",
                body.enterprise.id
            ),
        )
    })?;
    let mut filled = Filled {
        registry_version: Some(history.latest_version()),
        ..Filled::default()
    };
    let e = &mut body.enterprise;
    e.industry = Some(master.value.industry);
    filled.pointers.push("/enterprise/industry");
    if e.name.is_none() {
        e.name = Some(master.value.name.clone());
        filled.pointers.push("/enterprise/name");
    }
    let Some(period) = body.period.period() else {
        return Ok(filled);
    };
    let classified_in_request =
        e.catalogue_class.is_some() || e.capacity_cut_overdue.is_some() || e.card.is_some();
    if !classified_in_request {
        let first = classification(history, period.start());
        e.catalogue_class = Some(first.catalogue_class);
        e.capacity_cut_overdue = Some(first.capacity_cut_overdue);
        e.card = Some(first.card);
        filled.pointers.extend([
            "/enterprise/catalogue_class",
            "/enterprise/capacity_cut_overdue",
            "/enterprise/card",
        ]);
        filled.reclassified = reclassifications(history, period, first);
        let starts =
            std::iter::once(period.start()).chain(filled.reclassified.iter().map(|r| r.from));
        filled.decisions = starts
            .filter_map(|day| {
                history.classification_on(day).map(|d| DecisionRef {
                    from: day,
                    version: d.version,
                    document: d.value.document.clone(),
                })
            })
            .collect();
        if !filled.reclassified.is_empty() {
            filled.pointers.push("/enterprise/reclassified");
        }
    }
    if body.assessment.is_none() {
        let year = period.start().year() - 1;
        if let Some(assessment) = history.assessment_of(year) {
            body.assessment = Some(assessment.value.as_bill_assessment(year));
            filled.pointers.push("/assessment");
        }
    }
    if let Some(water) = body.water.as_mut() {
        let year = period.start().year() - 1;
        let recorded = history.assessment_of(year).map(|a| a.value);
        if water.quota_m3.is_none() {
            if let Some(quota) = recorded.and_then(|a| a.water_quota_m3) {
                water.quota_m3 = Some(quota);
                filled.pointers.push("/water/quota_m3");
            }
        }
        if water.meets_standard.is_none() {
            if let Some(meets) = recorded.and_then(|a| a.water_meets_standard) {
                water.meets_standard = Some(meets);
                filled.pointers.push("/water/meets_standard");
            }
        }
    }
    Ok(filled)
}

/// The classification in force on `day` (the defaults where no decision covers it).
fn classification(history: &History, day: NaiveDate) -> Class {
    history
        .classification_on(day)
        .map_or(Class::default(), |d| Class::of(d.value))
}

/// Each day inside `period` after its first on which the classification changes.
fn reclassifications(history: &History, period: Period, first: Class) -> Vec<Reclassification> {
    let mut days: Vec<NaiveDate> = history
        .0
        .iter()
        .filter_map(|c| match &c.record {
            super::Record::Classification { decision } => Some(decision),
            _ => None,
        })
        .flat_map(|d| [Some(d.from), d.to.and_then(|to| to.succ_opt())])
        .flatten()
        .filter(|day| period.start() < *day && *day <= period.end())
        .collect();
    days.sort_unstable();
    days.dedup();
    let mut current = first;
    let mut changes = Vec::new();
    for day in days {
        let class = classification(history, day);
        if class != current {
            changes.push(Reclassification {
                from: day,
                catalogue_class: class.catalogue_class,
                capacity_cut_overdue: class.capacity_cut_overdue,
                card: class.card,
            });
            current = class;
        }
    }
    changes
}

/// The three classification fields of a decision.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Class {
    catalogue_class: CatalogueClass,
    capacity_cut_overdue: bool,
    card: Card,
}

impl Class {
    fn of(d: &Decision) -> Class {
        Class {
            catalogue_class: d.catalogue_class,
            capacity_cut_overdue: d.capacity_cut_overdue,
            card: d.card,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::FILLED_POINTERS;

    /// Every pointer this module fills is listed (a packed request could not name another).
    #[test]
    fn every_pointer_filled_is_listed() {
        let source = include_str!("fill.rs");
        let code =
            &source[source.find("pub fn request").unwrap()..source.find("#[cfg(test)]").unwrap()];
        let quoted = code.split('"').skip(1).step_by(2);
        let pointers: Vec<&str> = quoted.filter(|q| q.starts_with('/')).collect();
        assert!(pointers.len() >= FILLED_POINTERS.len(), "{pointers:?}");
        for pointer in pointers {
            assert!(
                pointer == "/enterprise/id" || FILLED_POINTERS.contains(&pointer),
                "{pointer}"
            );
        }
    }
}
