//! Loading a set of tariff files: reading each, resolving inheritance, and building each
//! tariff over its parent (values are read by [`super::grammar`]).
//!
//! Every problem is collected and reported with its file and key, so a maintainer fixes a
//! broken file in one pass; nothing half-loaded is ever served.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::file::{EntrySection, TariffFile};
use super::grammar::{self, Given, Raw};
use super::schema::{self, Kind};
use super::{DocId, Document, Entry, Evidence, Parameter, Tariff, TariffMeta};

/// One thing wrong in a tariff file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[schema(as = TariffProblem)]
pub struct Problem {
    pub file: String,
    /// Where in the file, e.g. `parameters."electricity.punitive.over_double".values[1].from`.
    pub key: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}: {}: {}", self.file, self.key, self.message)
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read tariff directory {path}: {source} (set the directory with --tariffs or tariffs.dir)")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no tariff files (*.toml) in {0}")]
    Empty(PathBuf),
    #[error("invalid tariffs:\n{}", .0.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Problem>),
    #[error("default tariff `{default}` is not loaded (loaded: {})", known.join(", "))]
    UnknownDefault { default: String, known: Vec<String> },
}

/// Loads every `*.toml` in `dir` and resolves inheritance.
pub fn load_dir(dir: &Path) -> Result<Vec<Tariff>, LoadError> {
    let io = |source| LoadError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(LoadError::Empty(dir.to_path_buf()));
    }
    let mut sources = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).map_err(|source| LoadError::Io {
            path: path.clone(),
            source,
        })?;
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        sources.push((path.display().to_string(), Some(stem), text));
    }
    resolve_all(&sources).map_err(LoadError::Invalid)
}

/// Parses one tariff from text (e.g. a draft under review), resolving `inherits` against
/// `loaded`.
pub fn parse_tariff_str(
    name: &str,
    text: &str,
    loaded: &[Arc<Tariff>],
) -> Result<Tariff, Vec<Problem>> {
    let file = parse_file(name, text)?;
    let parent = match &file.tariff.inherits {
        None => None,
        Some(p) => Some(loaded.iter().find(|t| t.meta.id == *p).ok_or_else(|| {
            vec![problem(
                name,
                "tariff.inherits",
                format!("inherits unknown tariff `{p}`"),
            )]
        })?),
    };
    build(name, file, parent.map(|t| &**t))
}

/// Validates and resolves a set of files `(name, expected id, text)`, parents first.
fn resolve_all(sources: &[(String, Option<String>, String)]) -> Result<Vec<Tariff>, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut files: BTreeMap<String, (String, TariffFile)> = BTreeMap::new();
    for (name, stem, text) in sources {
        match parse_file(name, text) {
            Err(mut p) => problems.append(&mut p),
            Ok(file) => {
                let id = file.tariff.id.clone();
                if stem.as_deref().is_some_and(|s| s != id) {
                    problems.push(problem(
                        name,
                        "tariff.id",
                        format!("id `{id}` must match the file name"),
                    ));
                } else if let std::collections::btree_map::Entry::Vacant(slot) =
                    files.entry(id.clone())
                {
                    slot.insert((name.clone(), file));
                } else {
                    problems.push(problem(
                        name,
                        "tariff.id",
                        format!("tariff `{id}` is defined twice"),
                    ));
                }
            }
        }
    }
    let order = inheritance_order(&files, &mut problems);
    let mut built: HashMap<String, Tariff> = HashMap::new();
    for id in order {
        let (name, file) = files.remove(&id).expect("ordered ids come from the map");
        let parent = file.tariff.inherits.as_ref().and_then(|p| built.get(p));
        if file.tariff.inherits.is_some() && parent.is_none() {
            continue; // the parent failed; its problems are already reported
        }
        match build(&name, file, parent) {
            Ok(t) => {
                built.insert(id, t);
            }
            Err(mut p) => problems.append(&mut p),
        }
    }
    if problems.is_empty() {
        let mut tariffs: Vec<Tariff> = built.into_values().collect();
        tariffs.sort_by(|a, b| a.meta.id.cmp(&b.meta.id));
        Ok(tariffs)
    } else {
        Err(problems)
    }
}

/// Ids ordered so every parent comes before its children; unknown parents and cycles are
/// reported and left out.
fn inheritance_order(
    files: &BTreeMap<String, (String, TariffFile)>,
    problems: &mut Vec<Problem>,
) -> Vec<String> {
    let mut order: Vec<String> = Vec::new();
    for (id, (name, _)) in files {
        let mut chain = vec![id.clone()];
        let mut current = id;
        while let Some(parent) = files[current].1.tariff.inherits.as_ref() {
            if !files.contains_key(parent) {
                problems.push(problem(
                    name,
                    "tariff.inherits",
                    format!("inherits unknown tariff `{parent}`"),
                ));
                chain.clear();
                break;
            }
            if chain.contains(parent) {
                problems.push(problem(
                    name,
                    "tariff.inherits",
                    format!("inheritance cycle: {} → {parent}", chain.join(" → ")),
                ));
                chain.clear();
                break;
            }
            chain.push(parent.clone());
            current = parent;
        }
        for ancestor in chain.into_iter().rev() {
            if !order.contains(&ancestor) {
                order.push(ancestor);
            }
        }
    }
    order
}

fn parse_file(name: &str, text: &str) -> Result<TariffFile, Vec<Problem>> {
    toml::from_str(text).map_err(|e| {
        let message = e.message().to_string();
        let location = e
            .span()
            .map(|s| {
                let line = text[..s.start.min(text.len())].matches('\n').count() + 1;
                format!("line {line}")
            })
            .unwrap_or_default();
        vec![problem(name, &location, message)]
    })
}

fn problem(file: &str, key: &str, message: impl Into<String>) -> Problem {
    Problem {
        file: file.to_string(),
        key: key.to_string(),
        message: message.into(),
    }
}

/// Turns a parsed file into a tariff over its parent, validating every value.
fn build(name: &str, file: TariffFile, parent: Option<&Tariff>) -> Result<Tariff, Vec<Problem>> {
    let mut problems = Vec::new();
    let origin: Arc<str> = Arc::from(file.tariff.id.as_str());
    let mut documents: Vec<Document> = parent.map(|p| p.documents.clone()).unwrap_or_default();
    for (number, doc) in file.documents {
        let document = Document {
            number: number.clone(),
            title: doc.title,
            url: doc.url,
            issuers: doc.issuers,
            evidence: doc
                .evidence
                .into_iter()
                .map(|e| Evidence {
                    address: e.address,
                    confirms: e.confirms,
                })
                .collect(),
        };
        match documents.iter_mut().find(|d| d.number == number) {
            Some(existing) => *existing = document,
            None => documents.push(document),
        }
    }
    let doc_ids: HashMap<String, DocId> = documents
        .iter()
        .enumerate()
        .map(|(i, d)| (d.number.clone(), i as DocId))
        .collect();

    let mut parameters: BTreeMap<String, Parameter> = parent
        .map(|p| {
            p.parameters
                .iter()
                .map(|p| (p.path.clone(), p.clone()))
                .collect()
        })
        .unwrap_or_default();
    for (path, section) in file.parameters {
        let key = format!("parameters.\"{path}\"");
        let Some(spec) = schema::spec(&path) else {
            let hint = schema::closest(&path, 3).join(", ");
            problems.push(problem(
                name,
                &key,
                format!("unknown parameter path; did you mean one of: {hint}?"),
            ));
            continue;
        };
        if section.values.is_empty() {
            problems.push(problem(
                name,
                &format!("{key}.values"),
                "needs at least one dated value",
            ));
            continue;
        }
        let mut own = Vec::new();
        for (i, raw) in section.values.into_iter().enumerate() {
            let at = format!("{key}.values[{i}]");
            match parse_entry(spec.kind, raw, &doc_ids, &origin) {
                Ok(entry) => own.push(entry),
                Err((field, message)) => {
                    problems.push(problem(name, &format!("{at}{field}"), message))
                }
            }
        }
        for (i, pair) in own.windows(2).enumerate() {
            if pair[1].from <= pair[0].from {
                let message = format!(
                    "dates must increase: {} does not come after {} (overlapping values)",
                    pair[1].from, pair[0].from
                );
                problems.push(problem(
                    name,
                    &format!("{key}.values[{}].from", i + 1),
                    message,
                ));
            }
        }
        let inherited = parameters.remove(&path);
        let description = section
            .description
            .or(inherited.as_ref().map(|p| p.description.clone()));
        let mut entries: Vec<Entry> = match (inherited, own.first()) {
            (Some(p), Some(first)) => p
                .entries
                .into_iter()
                .filter(|e| e.from < first.from)
                .collect(),
            _ => Vec::new(),
        };
        entries.extend(own);
        let description = description.unwrap_or_else(|| spec.about.to_string());
        parameters.insert(
            path.clone(),
            Parameter {
                path,
                kind: spec.kind,
                unit: spec.unit,
                description,
                entries,
            },
        );
    }
    if parent.is_none() && !parameters.contains_key(schema::COMBINATION) {
        problems.push(problem(
            name,
            "parameters",
            format!("`{}` must be set (max or sum)", schema::COMBINATION),
        ));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let meta = TariffMeta {
        id: file.tariff.id,
        name: file.tariff.name,
        version: file.tariff.version,
        inherits: file.tariff.inherits,
        description: file.tariff.description,
    };
    Ok(Tariff::new(
        meta,
        documents,
        parameters.into_values().collect(),
    ))
}

fn parse_entry(
    kind: Kind,
    raw: EntrySection,
    docs: &HashMap<String, DocId>,
    origin: &Arc<str>,
) -> Result<Entry, grammar::Problem> {
    let from = grammar::date(&Raw::from(raw.from)).map_err(|m| (".from".to_string(), m))?;
    let source = raw.source.ok_or((
        ".source".to_string(),
        "every value needs its source document".to_string(),
    ))?;
    let source = *docs.get(&source).ok_or_else(|| {
        (
            ".source".to_string(),
            format!("document `{source}` is not listed under [documents]"),
        )
    })?;
    let given = Given {
        value: raw.value.map(Raw::from),
        brackets: raw
            .brackets
            .map(|items| items.into_iter().map(Raw::from).collect()),
        stepped: raw.stepped.map(Raw::from),
    };
    Ok(Entry {
        from,
        // Rendered when the tariff is built (`Tariff::new`).
        display: String::new(),
        citation: Default::default(),
        value: grammar::read(kind, given)?,
        source,
        provisional: raw.provisional,
        note: raw.note,
        defined_in: origin.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tariff::value::{Combination, Value};

    const ROOT: &str = r#"
[tariff]
id = "cn"
name = "National"
version = "1"

[documents."978号"]
title = "notice"

[parameters."electricity.combination"]
values = [{ from = 2010-06-01, value = "max", source = "978号" }]
"#;

    fn load(extra: &str) -> Result<Vec<Tariff>, Vec<Problem>> {
        resolve_all(&[(
            "cn.toml".into(),
            Some("cn".into()),
            format!("{ROOT}{extra}"),
        )])
    }

    fn messages(extra: &str) -> Vec<String> {
        load(extra)
            .unwrap_err()
            .into_iter()
            .map(|p| p.to_string())
            .collect()
    }

    #[test]
    fn a_minimal_tariff_loads() {
        let tariffs = load("").unwrap();
        assert_eq!(tariffs[0].meta.id, "cn");
        assert!(tariffs[0].digest.starts_with("sha256:"));
    }

    #[test]
    fn unknown_paths_are_refused_with_a_suggestion() {
        let m = messages(
            r#"[parameters."electricity.punitive.over_dubble"]
values = [{ from = 2010-06-01, value = "0.30", source = "978号" }]"#,
        );
        assert_eq!(m.len(), 1);
        assert!(
            m[0].contains("parameters.\"electricity.punitive.over_dubble\""),
            "{m:?}"
        );
        assert!(m[0].contains("electricity.punitive.over_double"), "{m:?}");
    }

    #[test]
    fn overlapping_dates_are_refused() {
        let m = messages(
            r#"[parameters."electricity.punitive.over_double"]
values = [{ from = 2010-06-01, value = "0.30", source = "978号" }, { from = 2010-06-01, value = "0.40", source = "978号" }]"#,
        );
        assert!(
            m[0].contains("values[1].from") && m[0].contains("dates must increase"),
            "{m:?}"
        );
    }

    #[test]
    fn a_value_without_a_known_source_is_refused() {
        let m = messages(
            r#"[parameters."electricity.punitive.over_double"]
values = [{ from = 2010-06-01, value = "0.30" }, { from = 2011-06-01, value = "0.40", source = "999号" }]"#,
        );
        assert!(
            m[0].contains("values[0].source") && m[0].contains("needs its source"),
            "{m:?}"
        );
        assert!(
            m[1].contains("values[1].source") && m[1].contains("999号"),
            "{m:?}"
        );
    }

    #[test]
    fn unsorted_brackets_are_refused() {
        let m = messages(
            r#"[parameters."electricity.tiered.cement.schedule"]
values = [{ from = 2016-01-01, source = "978号", brackets = [{ rate = "0" }, { above = "1.1", rate = "0.25" }, { above = "1", rate = "0.10" }] }]"#,
        );
        assert!(
            m[0].contains("brackets[2].above") && m[0].contains("sorted"),
            "{m:?}"
        );
    }

    #[test]
    fn floats_negative_rates_and_wrong_shapes_are_refused() {
        let m = messages(
            r#"[parameters."electricity.punitive.over_double"]
values = [{ from = 2010-06-01, value = 0.3, source = "978号" }, { from = 2011-01-01, value = "-1", source = "978号" }]
[parameters."electricity.tiered.steel.schedule"]
values = [{ from = 2017-01-01, source = "978号", stepped = { above = "0", step = "1", rate_per_step = "0.05" } }]
[parameters."electricity.tiered.steel.limits.sintering"]
values = [{ from = 2017-01-01, source = "978号", value = "0" }]"#,
        );
        assert_eq!(m.len(), 4, "{m:?}");
        assert!(m.iter().any(|x| x.contains("as a string")));
        assert!(m.iter().any(|x| x.contains("must not be negative")));
        assert!(m.iter().any(|x| x.contains("takes `brackets`")));
        assert!(m.iter().any(|x| x.contains("greater than 0")));
    }

    #[test]
    fn unknown_keys_name_their_line() {
        let m = messages("[parameters.\"electricity.punitive.over_double\"]\nvalus = []\n");
        assert!(m[0].contains("line") && m[0].contains("valus"), "{m:?}");
    }

    #[test]
    fn a_child_overrides_its_parent_only_from_its_own_first_date() {
        let child = r#"
[tariff]
id = "sub"
name = "Sub"
version = "1"
inherits = "cn"

[parameters."electricity.combination"]
values = [{ from = 2020-07-16, value = "sum", source = "978号" }]
"#;
        let tariffs = resolve_all(&[
            ("sub.toml".into(), Some("sub".into()), child.into()),
            ("cn.toml".into(), Some("cn".into()), ROOT.into()),
        ])
        .unwrap();
        let sub = tariffs.iter().find(|t| t.meta.id == "sub").unwrap();
        let p = sub.parameter("electricity.combination").unwrap();
        assert_eq!(p.entries.len(), 2);
        assert_eq!(
            p.at("2020-07-15".parse().unwrap()).unwrap().1.value,
            Value::Combination(Combination::Max)
        );
        assert_eq!(
            p.at("2020-07-16".parse().unwrap()).unwrap().1.value,
            Value::Combination(Combination::Sum)
        );
        assert_eq!(sub.effective_from, Some("2020-07-16".parse().unwrap()));
    }

    #[test]
    fn inheritance_cycles_and_unknown_parents_are_refused() {
        let file = |id: &str, parent: &str| {
            format!(
                "[tariff]\nid = \"{id}\"\nname = \"x\"\nversion = \"1\"\ninherits = \"{parent}\"\n"
            )
        };
        let problems = resolve_all(&[
            ("a.toml".into(), Some("a".into()), file("a", "b")),
            ("b.toml".into(), Some("b".into()), file("b", "a")),
            ("c.toml".into(), Some("c".into()), file("c", "zz")),
        ])
        .unwrap_err();
        let text: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        assert!(text.iter().any(|t| t.contains("cycle")), "{text:?}");
        assert!(
            text.iter().any(|t| t.contains("unknown tariff `zz`")),
            "{text:?}"
        );
    }
}
