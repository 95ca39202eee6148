//! utoipa keeps one schema per name and drops the rest without a word, so two types with one
//! schema name publish a wrong contract. Every schema name in the source is unique.

use std::collections::BTreeMap;
use std::path::Path;

/// The schema name of every type deriving `ToSchema` (its `#[schema(as = …)]` if given).
fn schema_names(dir: &Path, out: &mut BTreeMap<String, Vec<String>>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            schema_names(&path, out);
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        // Within a (possibly multi-line) derive list; the item derives `ToSchema`.
        let (mut in_derive, mut deriving) = (false, false);
        let mut renamed: Option<String> = None;
        for line in text.lines().map(str::trim) {
            in_derive |= line.starts_with("#[derive(");
            if in_derive {
                deriving |= line.contains("ToSchema");
                in_derive = !line.ends_with(")]");
            }
            if let Some(rest) = line.strip_prefix("#[schema(as = ") {
                renamed = rest.split(')').next().map(str::to_string);
            }
            let item = ["pub struct ", "pub enum ", "struct ", "enum "]
                .iter()
                .find_map(|p| line.strip_prefix(p));
            if let Some(item) = item {
                if deriving {
                    let name = item
                        .split(|c: char| !c.is_alphanumeric() && c != '_')
                        .next()
                        .unwrap()
                        .to_string();
                    let name = renamed.take().unwrap_or(name);
                    out.entry(name)
                        .or_default()
                        .push(path.display().to_string());
                }
                deriving = false;
                renamed = None;
            }
        }
    }
}

#[test]
fn every_schema_name_is_unique() {
    let mut names = BTreeMap::new();
    schema_names(&crate::support::root().join("src"), &mut names);
    assert!(names.len() > 30, "found {} schemas", names.len());
    let duplicates: Vec<_> = names
        .iter()
        .filter(|(_, places)| places.len() > 1)
        .collect();
    assert!(duplicates.is_empty(), "{duplicates:#?}");
}

#[test]
fn the_documented_bill_names_its_tariff_version_and_validation_names_file_and_key() {
    let doc: serde_json::Value = serde_json::from_str(&tariffd::cli::openapi_json()).unwrap();
    let schemas = &doc["components"]["schemas"];
    let required = |name: &str| schemas[name]["required"].to_string();
    assert!(
        required("BillTariff").contains("\"version\""),
        "{}",
        schemas["BillTariff"]
    );
    for field in ["file", "key", "message"] {
        assert!(
            required("TariffProblem").contains(field),
            "{}",
            schemas["TariffProblem"]
        );
    }
}
