//! The TOML layout of a tariff file, as a maintainer writes it (see `tariffs/README.md`).

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TariffFile {
    pub tariff: MetaSection,
    #[serde(default)]
    pub documents: BTreeMap<String, DocumentSection>,
    #[serde(default)]
    pub parameters: BTreeMap<String, ParameterSection>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetaSection {
    pub id: String,
    pub name: String,
    pub version: String,
    pub inherits: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentSection {
    pub title: String,
    pub url: Option<String>,
    #[serde(default)]
    pub issuers: Vec<String>,
    #[serde(default)]
    pub evidence: Vec<EvidenceSection>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceSection {
    /// An address (URL) or a citation of the relay.
    pub address: String,
    /// What the place confirms, in a few words.
    pub confirms: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParameterSection {
    pub description: Option<String>,
    pub values: Vec<EntrySection>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntrySection {
    /// A TOML date (`2017-01-01`) or a string holding one.
    pub from: toml::Value,
    /// A number (as a string), a date, a list of industries, `max`/`sum`, or `"none"`.
    pub value: Option<toml::Value>,
    /// `{ above, rate }` tables, read by the value grammar.
    pub brackets: Option<Vec<toml::Value>>,
    /// `{ above, step, rate_per_step }`, read by the value grammar.
    pub stepped: Option<toml::Value>,
    pub source: Option<String>,
    #[serde(default)]
    pub provisional: bool,
    pub note: Option<String>,
}
