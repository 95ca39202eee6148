//! The layers point one way: the engine knows nothing above it; only the HTTP service (and
//! what starts it) knows of `api` or actix. A new import that points back up fails here.

use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every source file (relative to `src/`, with `/`) and its text.
fn files() -> Vec<(String, String)> {
    let src = crate::support::root().join("src");
    let mut paths = Vec::new();
    sources(&src, &mut paths);
    paths
        .into_iter()
        .map(|p| {
            let name = p
                .strip_prefix(&src)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect()
}

/// Lines of `text` that mention one of `names` as a path.
fn mentions(text: &str, names: &[&str]) -> Vec<String> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .filter(|l| names.iter().any(|n| l.contains(n)))
        .map(|l| l.trim().to_string())
        .collect()
}

#[test]
fn only_the_service_knows_of_http() {
    let serving =
        |f: &str| f.starts_with("api/") || ["main.rs", "startup.rs", "cli/serve.rs"].contains(&f);
    let mut wrong = Vec::new();
    for (file, text) in files().iter().filter(|(f, _)| !serving(f)) {
        for line in mentions(text, &["crate::api", "actix", "super::api"]) {
            wrong.push(format!("{file}: {line}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn the_engine_knows_nothing_above_it() {
    let engine = [
        "tariff/",
        "measure/",
        "bill/",
        "enterprise.rs",
        "assessment.rs",
        "period.rs",
        "money.rs",
        "number.rs",
    ];
    let above = [
        "crate::api",
        "crate::wire",
        "crate::pricing",
        "crate::batch",
        "crate::simulation",
        "crate::cli",
        "crate::startup",
        "crate::lookup",
    ];
    let mut wrong = Vec::new();
    for (file, text) in files()
        .iter()
        .filter(|(f, _)| engine.iter().any(|e| f.starts_with(e)))
    {
        for line in mentions(text, &above) {
            wrong.push(format!("{file}: {line}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn the_contract_does_not_reach_into_the_drivers() {
    let mut wrong = Vec::new();
    for (file, text) in files().iter().filter(|(f, _)| f.starts_with("wire/")) {
        for line in mentions(text, &["crate::pricing", "crate::batch", "crate::cli"]) {
            wrong.push(format!("{file}: {line}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
