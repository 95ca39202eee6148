//! Tariffs: the policy as effective-dated parameters, loaded from `tariffs/*.toml`.
//!
//! A [`Tariff`] is immutable once built; a reform (what-if) builds a new one from edited
//! parameters through the same validation, never by mutating a loaded set.

mod archive;
mod file;
pub mod grammar;
mod load;
pub mod schema;
mod store;
pub mod value;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::NaiveDate;
use serde_json::json;
use sha2::{Digest, Sha256};

pub use load::{load_dir, parse_tariff_str, LoadError, Problem};
use schema::Kind;
pub use store::TariffStore;
use value::Value;

use crate::assessment::CementPlant;
use crate::enterprise::{CatalogueClass, Industry};
use crate::period::Dates;

/// A policy document that parameter values rest on (e.g. 发改价格〔2016〕2803号).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub number: String,
    pub title: String,
    pub url: Option<String>,
    /// The authorities that issued it.
    pub issuers: Vec<String>,
    /// Where its values were checked, and what each place confirms.
    pub evidence: Vec<Evidence>,
}

/// A place a document's values were checked (a relay of the notice, a provincial notice).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Evidence {
    /// An address (URL) or a citation of the relay.
    pub address: String,
    pub confirms: String,
}

pub type DocId = u16;
pub type ParamId = u16;

/// One dated value of a parameter, in force from `from` until the next entry.
#[derive(Debug, Clone)]
pub struct Entry {
    pub from: NaiveDate,
    pub value: Value,
    /// `value` as bills cite it, rendered once when the tariff is built.
    pub display: String,
    /// The JSON a bill line cites this value with (`{document, parameter, value,
    /// provisional}`), rendered once when the tariff is built.
    pub citation: Box<serde_json::value::RawValue>,
    pub source: DocId,
    pub provisional: bool,
    pub note: Option<String>,
    /// The tariff file that set this value (a child inherits its parent's earlier entries).
    pub defined_in: Arc<str>,
}

#[derive(Debug, Clone)]
pub struct Parameter {
    pub path: String,
    pub kind: Kind,
    pub unit: &'static str,
    pub description: String,
    /// Sorted by `from`, strictly increasing.
    pub entries: Vec<Entry>,
}

impl Parameter {
    /// The entry in force on `date`, with its index.
    pub fn at(&self, date: NaiveDate) -> Option<(u16, &Entry)> {
        let i = self.entries.partition_point(|e| e.from <= date);
        i.checked_sub(1).map(|i| (i as u16, &self.entries[i]))
    }

    /// The last day entry `i` is in force, if a later entry replaces it.
    pub fn until(&self, i: usize) -> Option<NaiveDate> {
        self.entries
            .get(i + 1)
            .and_then(|next| next.from.pred_opt())
    }
}

/// Which entry of every parameter is in force, for each span of days between the dates any
/// entry starts. Within a span nothing changes, so a bill finds its span once per segment
/// and then reads each parameter by index instead of searching its entries' dates.
#[derive(Debug, Clone, Default)]
pub struct InForce {
    /// Every date an entry starts, sorted, distinct: span `k` starts on `starts[k - 1]`.
    starts: Dates,
    params: usize,
    /// `[span][param]`: the index of the entry in force, if one is.
    table: Vec<Option<u16>>,
}

impl InForce {
    fn new(parameters: &[Parameter]) -> InForce {
        let starts = Dates::new(
            parameters
                .iter()
                .flat_map(|p| p.entries.iter().map(|e| e.from))
                .collect(),
        );
        let first_days = std::iter::once(None).chain(starts.iter().copied().map(Some));
        let table = first_days
            .flat_map(|first| {
                parameters
                    .iter()
                    .map(move |p| first.and_then(|day| p.at(day)).map(|(entry, _)| entry))
            })
            .collect();
        InForce {
            starts,
            params: parameters.len(),
            table,
        }
    }

    /// The span `date` falls in.
    pub fn span(&self, date: NaiveDate) -> usize {
        self.starts.through(date)
    }

    /// The index of `param`'s entry in force over `span`, if one is.
    pub fn entry(&self, span: usize, param: ParamId) -> Option<u16> {
        self.table[span * self.params + usize::from(param)]
    }
}

/// A set of parameters of one tariff, without allocating.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ParamSet([u64; ParamSet::WORDS]);

impl ParamSet {
    const WORDS: usize = 4;
    /// Tariffs may hold at most this many parameters (the schema knows far fewer paths).
    pub const CAPACITY: usize = ParamSet::WORDS * 64;

    pub fn insert(&mut self, id: ParamId) {
        let id = usize::from(id);
        self.0[id / 64] |= 1 << (id % 64);
    }

    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|w| *w == 0)
    }

    /// Whether the two share a parameter.
    pub fn intersects(&self, other: &ParamSet) -> bool {
        self.0.iter().zip(&other.0).any(|(a, b)| a & b != 0)
    }

    pub fn contains(&self, id: ParamId) -> bool {
        let id = usize::from(id);
        self.0[id / 64] & (1 << (id % 64)) != 0
    }

    /// Ids in increasing order.
    pub fn iter(&self) -> impl Iterator<Item = ParamId> + '_ {
        (0..ParamSet::CAPACITY)
            .filter(|i| self.0[i / 64] & (1 << (i % 64)) != 0)
            .map(|i| i as ParamId)
    }
}

impl FromIterator<ParamId> for ParamSet {
    fn from_iter<T: IntoIterator<Item = ParamId>>(iter: T) -> ParamSet {
        let mut set = ParamSet::default();
        iter.into_iter().for_each(|id| set.insert(id));
        set
    }
}

/// A reference to one dated value, small enough to copy into every line item.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntryRef {
    pub param: ParamId,
    pub entry: u16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TariffMeta {
    pub id: String,
    pub name: String,
    pub version: String,
    pub inherits: Option<String>,
    pub description: Option<String>,
}

/// Where the engine finds each parameter it reads, resolved once per tariff so pricing a
/// bill never looks a path up by string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Slots {
    pub combination: Option<ParamId>,
    pub differential_industries: Option<ParamId>,
    /// `[restricted, eliminated]`, general row.
    pub differential_general: [Option<ParamId>; 2],
    /// `[industry][restricted, eliminated]`, industry-specific rows.
    pub differential_specific: [[Option<ParamId>; 2]; 9],
    pub steel_schedule: Option<ParamId>,
    /// In the order of [`schema::STEEL_LIMIT_NAMES`].
    pub steel_limits: [Option<ParamId>; 7],
    pub cement_schedule: Option<ParamId>,
    /// `[clinker, grinding][existing, new]`.
    pub cement_limits: [[Option<ParamId>; 2]; 2],
    pub cement_new_plants_from: Option<ParamId>,
    pub aluminum_schedule: Option<ParamId>,
    pub punitive_within_double: Option<ParamId>,
    pub punitive_over_double: Option<ParamId>,
    pub punitive_exempt: Option<ParamId>,
    pub water_industries: Option<ParamId>,
    pub water_schedule: Option<ParamId>,
    pub water_supply_restricted_from: Option<ParamId>,
}

impl Slots {
    fn resolve(index: &HashMap<String, ParamId>) -> Slots {
        let id = |path: &str| index.get(path).copied();
        let targeted = [CatalogueClass::Restricted, CatalogueClass::Eliminated];
        let cement = |plant| {
            [
                id(&schema::cement_limit(plant, false)),
                id(&schema::cement_limit(plant, true)),
            ]
        };
        Slots {
            combination: id(schema::COMBINATION),
            differential_industries: id(schema::DIFFERENTIAL_INDUSTRIES),
            differential_general: targeted.map(|c| id(&schema::differential(None, c))),
            differential_specific: Industry::ALL
                .map(|i| targeted.map(|c| id(&schema::differential(Some(i), c)))),
            steel_schedule: id(schema::STEEL_SCHEDULE),
            steel_limits: schema::STEEL_LIMIT_NAMES.map(|n| id(&schema::steel_limit(n))),
            cement_schedule: id(schema::CEMENT_SCHEDULE),
            cement_limits: [cement(CementPlant::Clinker), cement(CementPlant::Grinding)],
            cement_new_plants_from: id(schema::CEMENT_NEW_PLANTS_FROM),
            aluminum_schedule: id(schema::ALUMINUM_SCHEDULE),
            punitive_within_double: id(schema::PUNITIVE_WITHIN_DOUBLE),
            punitive_over_double: id(schema::PUNITIVE_OVER_DOUBLE),
            punitive_exempt: id(schema::PUNITIVE_EXEMPT),
            water_industries: id(schema::WATER_INDUSTRIES),
            water_schedule: id(schema::WATER_SCHEDULE),
            water_supply_restricted_from: id(schema::WATER_SUPPLY_RESTRICTED_FROM),
        }
    }
}

/// A jurisdiction's resolved parameter set (its own values over those it inherits).
#[derive(Debug, Clone)]
pub struct Tariff {
    pub meta: TariffMeta,
    pub documents: Vec<Document>,
    /// Sorted by path.
    pub parameters: Vec<Parameter>,
    /// `sha256:` of the canonical resolved content: same content, same digest.
    pub digest: String,
    /// The same digest as bytes, for hashing into bill ids.
    pub digest_bytes: [u8; 32],
    /// First day the tariff's own file sets anything (before it, the parent's values rule).
    pub effective_from: Option<NaiveDate>,
    pub slots: Slots,
    /// Every date a parameter read by the billing day changes, sorted: where a bill may
    /// need splitting.
    pub change_dates: Dates,
    /// Parameters read on 1 January of the assessment year instead of the billing day.
    pub by_assessment_year: ParamSet,
    /// The entry of each parameter in force, span by span: what the engine reads.
    pub in_force: InForce,
    index: HashMap<String, ParamId>,
}

impl Tariff {
    /// Builds a tariff from already-validated parts.
    pub fn new(
        meta: TariffMeta,
        documents: Vec<Document>,
        mut parameters: Vec<Parameter>,
    ) -> Tariff {
        parameters.sort_by(|a, b| a.path.cmp(&b.path));
        let index: HashMap<String, ParamId> = parameters
            .iter()
            .enumerate()
            .map(|(i, p)| (p.path.clone(), i as ParamId))
            .collect();
        let by_year = |p: &Parameter| schema::chosen_by_assessment_year(&p.path);
        let by_assessment_year: ParamSet = parameters
            .iter()
            .enumerate()
            .filter(|(_, p)| by_year(p))
            .map(|(i, _)| i as ParamId)
            .collect();
        let change_dates = Dates::new(
            parameters
                .iter()
                .filter(|p| !by_year(p))
                .flat_map(|p| p.entries.iter().map(|e| e.from))
                .collect(),
        );
        let effective_from = parameters
            .iter()
            .flat_map(|p| &p.entries)
            .filter(|e| *e.defined_in == *meta.id)
            .map(|e| e.from)
            .min();
        for p in &mut parameters {
            for e in &mut p.entries {
                e.display = e.value.display();
                e.citation = citation(&documents[usize::from(e.source)].number, &p.path, e);
            }
        }
        let mut tariff = Tariff {
            slots: Slots::resolve(&index),
            in_force: InForce::new(&parameters),
            meta,
            documents,
            parameters,
            digest: String::new(),
            digest_bytes: [0; 32],
            effective_from,
            change_dates,
            by_assessment_year,
            index,
        };
        tariff.digest_bytes = tariff.compute_digest();
        let hex: String = tariff
            .digest_bytes
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        tariff.digest = format!("sha256:{hex}");
        tariff
    }

    pub fn id(&self) -> &str {
        &self.meta.id
    }

    pub fn parameter(&self, path: &str) -> Option<&Parameter> {
        self.index
            .get(path)
            .map(|&i| &self.parameters[usize::from(i)])
    }

    pub fn param(&self, id: ParamId) -> &Parameter {
        &self.parameters[usize::from(id)]
    }

    pub fn entry(&self, r: EntryRef) -> (&Parameter, &Entry) {
        let p = self.param(r.param);
        (p, &p.entries[usize::from(r.entry)])
    }

    pub fn document(&self, id: DocId) -> &Document {
        &self.documents[usize::from(id)]
    }

    /// The value of `slot` in force on `date`.
    pub fn at(&self, slot: Option<ParamId>, date: NaiveDate) -> Option<(EntryRef, &Entry)> {
        self.in_span(slot, self.in_force.span(date))
    }

    /// The value of `slot` in force over `span` (of [`InForce::span`]).
    pub fn in_span(&self, slot: Option<ParamId>, span: usize) -> Option<(EntryRef, &Entry)> {
        let param = slot?;
        let entry = self.in_force.entry(span, param)?;
        let e = &self.param(param).entries[usize::from(entry)];
        Some((EntryRef { param, entry }, e))
    }

    /// The canonical content as JSON: what the digest covers and what a reviewer diffs.
    pub fn canonical_json(&self) -> serde_json::Value {
        let parameters: BTreeMap<&str, serde_json::Value> = self
            .parameters
            .iter()
            .map(|p| {
                let entries: Vec<_> = p
                    .entries
                    .iter()
                    .map(|e| {
                        json!({
                            "from": e.from.to_string(), "value": e.value.to_json(),
                            "source": self.document(e.source).number, "provisional": e.provisional,
                        })
                    })
                    .collect();
                (p.path.as_str(), json!(entries))
            })
            .collect();
        let documents: BTreeMap<&str, serde_json::Value> = self
            .documents
            .iter()
            .map(|d| {
                let evidence: Vec<_> = d
                    .evidence
                    .iter()
                    .map(|e| json!([e.address, e.confirms]))
                    .collect();
                let about = json!({ "title": d.title, "issuers": d.issuers, "evidence": evidence });
                (d.number.as_str(), about)
            })
            .collect();
        json!({
            "id": self.meta.id, "version": self.meta.version,
            "documents": documents, "parameters": parameters,
        })
    }

    fn compute_digest(&self) -> [u8; 32] {
        let canonical =
            serde_json::to_vec(&self.canonical_json()).expect("JSON values always serialise");
        Sha256::digest(&canonical).into()
    }
}

fn citation(document: &str, parameter: &str, entry: &Entry) -> Box<serde_json::value::RawValue> {
    let json = json!({
        "document": document, "parameter": parameter, "value": entry.display, "provisional": entry.provisional,
    });
    serde_json::value::to_raw_value(&json).expect("JSON values always serialise")
}

/// Every tariff loaded, and which one a request without `tariff` gets.
#[derive(Debug, Clone)]
pub struct TariffSet {
    tariffs: BTreeMap<String, Arc<Tariff>>,
    default: String,
}

impl TariffSet {
    pub fn new(tariffs: Vec<Tariff>, default: &str) -> Result<TariffSet, LoadError> {
        let tariffs: BTreeMap<String, Arc<Tariff>> = tariffs
            .into_iter()
            .map(|t| (t.meta.id.clone(), Arc::new(t)))
            .collect();
        if !tariffs.contains_key(default) {
            return Err(LoadError::UnknownDefault {
                default: default.to_string(),
                known: tariffs.keys().cloned().collect(),
            });
        }
        Ok(TariffSet {
            tariffs,
            default: default.to_string(),
        })
    }

    pub fn get(&self, id: &str) -> Option<&Arc<Tariff>> {
        self.tariffs.get(id)
    }

    pub fn default_id(&self) -> &str {
        &self.default
    }

    pub fn resolve(&self, id: Option<&str>) -> Option<&Arc<Tariff>> {
        self.get(id.unwrap_or(&self.default))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<Tariff>> {
        self.tariffs.values()
    }

    pub fn ids(&self) -> Vec<String> {
        self.tariffs.keys().cloned().collect()
    }
}
