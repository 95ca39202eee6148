//! The deployment files hold together: the Kubernetes manifests and the container image
//! parse, and everything they name of the service exists: the probes' endpoints, the
//! configuration keys their variables set, the port, the tariff files, the CLI command.

use std::path::{Path, PathBuf};

use serde_yaml::Value;
use tariffd::configuration::is_setting;

fn deploy(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy")
        .join(path)
}

/// Every document of a YAML file.
fn documents(path: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(deploy(path)).unwrap();
    serde_yaml::Deserializer::from_str(&text)
        .map(|d| serde::Deserialize::deserialize(d).unwrap_or_else(|e| panic!("{path}: {e}")))
        .collect()
}

fn str_of<'v>(value: &'v Value, path: &[&str]) -> &'v str {
    path.iter()
        .fold(value, |v, key| match key.parse::<usize>() {
            Ok(i) => &v[i],
            Err(_) => &v[*key],
        })
        .as_str()
        .unwrap_or_else(|| panic!("no string at {path:?}"))
}

/// The setting a `TARIFFD_…` variable sets (`TARIFFD_DATABASE__URL` → `database.url`).
fn setting_of(variable: &str) -> Option<String> {
    let rest = variable.strip_prefix("TARIFFD_")?;
    (rest != "CONFIG").then(|| rest.to_lowercase().replace("__", "."))
}

/// The service's GET routes (from its OpenAPI document).
fn documented_get(path: &str) -> bool {
    let doc: serde_json::Value = serde_json::from_str(&tariffd::cli::openapi_json()).unwrap();
    doc["paths"][path]["get"].is_object()
}

#[test]
fn the_kubernetes_deployment_probes_real_endpoints_and_sets_real_settings() {
    let deployment = &documents("kubernetes/deployment.yaml")[0];
    assert_eq!(str_of(deployment, &["kind"]), "Deployment");
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    for (probe, path) in [
        ("readinessProbe", "/health/ready"),
        ("livenessProbe", "/health/live"),
    ] {
        assert_eq!(str_of(container, &[probe, "httpGet", "path"]), path);
        assert!(documented_get(path), "{path} is not a route");
        assert_eq!(str_of(container, &[probe, "httpGet", "port"]), "http");
    }
    assert_eq!(str_of(container, &["ports", "0", "name"]), "http");
    let env = container["env"].as_sequence().unwrap();
    let value_of = |name: &str| {
        env.iter()
            .find(|e| e["name"] == name)
            .and_then(|e| e["value"].as_str())
            .map(str::to_string)
    };
    for variable in env {
        let name = str_of(variable, &["name"]);
        if let Some(setting) = setting_of(name) {
            assert!(is_setting(&setting), "{name}: `{setting}` is not a setting");
        }
    }
    assert_eq!(
        container["ports"][0]["containerPort"]
            .as_u64()
            .map(|p| p.to_string()),
        value_of("TARIFFD_SERVER__PORT"),
        "the container port is the port served"
    );
    assert!(env.iter().any(|e| e["name"] == "TARIFFD_DATABASE__URL"
        && str_of(e, &["valueFrom", "secretKeyRef", "name"]) == "tariffd-database"));

    // The volumes hold what the variables point at: the tariffs and the key file.
    let mounts = container["volumeMounts"].as_sequence().unwrap();
    let mounted = |volume: &str| {
        mounts
            .iter()
            .find(|m| m["name"] == volume)
            .map(|m| str_of(m, &["mountPath"]).to_string())
            .unwrap()
    };
    assert_eq!(value_of("TARIFFD_TARIFFS__DIR"), Some(mounted("tariffs")));
    let config = value_of("TARIFFD_CONFIG").unwrap();
    assert!(config.starts_with(&mounted("config")));
    let volumes = deployment["spec"]["template"]["spec"]["volumes"]
        .as_sequence()
        .unwrap();
    let source = |volume: &str| {
        volumes
            .iter()
            .find(|v| v["name"] == volume)
            .unwrap()
            .clone()
    };
    assert_eq!(
        str_of(&source("tariffs"), &["configMap", "name"]),
        "tariffd-tariffs"
    );
    let keys_secret = str_of(&source("config"), &["secret", "secretName"]).to_string();

    // The secrets the deployment reads exist, and the key file is a configuration the
    // service accepts.
    let secrets = documents("kubernetes/secret.yaml");
    let secret = |name: &str| {
        secrets
            .iter()
            .find(|s| s["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("no secret {name}"))
            .clone()
    };
    let file_name = Path::new(&config).file_name().unwrap().to_str().unwrap();
    let keys_file = secret(&keys_secret);
    let keys = str_of(&keys_file, &["stringData", file_name]);
    let dir = tempdir();
    let file = dir.join("tariffd.toml");
    std::fs::write(&file, keys).unwrap();
    let settings = tariffd::configuration::Settings::load(Some(&file)).unwrap();
    assert!(!settings.auth.keys.is_empty());
    assert!(str_of(&secret("tariffd-database"), &["stringData", "url"]).starts_with("postgres://"));
}

#[test]
fn the_service_selects_the_deployment_and_the_config_map_holds_every_tariff() {
    let service = &documents("kubernetes/service.yaml")[0];
    let deployment = &documents("kubernetes/deployment.yaml")[0];
    assert_eq!(
        service["spec"]["selector"],
        deployment["spec"]["template"]["metadata"]["labels"]
    );
    assert_eq!(
        str_of(service, &["spec", "ports", "0", "targetPort"]),
        "http"
    );

    let kustomization = &documents("kubernetes/kustomization.yaml")[0];
    for resource in kustomization["resources"].as_sequence().unwrap() {
        assert!(deploy(&format!("kubernetes/{}", resource.as_str().unwrap())).exists());
    }
    let generated = &kustomization["configMapGenerator"][0];
    assert_eq!(str_of(generated, &["name"]), "tariffd-tariffs");
    let mut listed: Vec<String> = generated["files"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().trim_start_matches("../../").to_string())
        .collect();
    let tariffs = Path::new(env!("CARGO_MANIFEST_DIR")).join("tariffs");
    let mut bundled: Vec<String> = std::fs::read_dir(&tariffs)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".toml"))
        .map(|name| format!("tariffs/{name}"))
        .collect();
    listed.sort();
    bundled.sort();
    assert_eq!(
        listed, bundled,
        "the ConfigMap holds exactly the bundled tariffs"
    );
}

#[test]
fn the_container_image_runs_the_service_as_a_user_with_a_health_check() {
    let dockerfile = std::fs::read_to_string(deploy("Dockerfile")).unwrap();
    let instructions: Vec<&str> = dockerfile
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with(' ') && !l.trim().is_empty())
        .collect();
    let stages = instructions
        .iter()
        .filter(|l| l.starts_with("FROM "))
        .count();
    assert!(stages >= 2, "multi-stage");
    let user = instructions
        .iter()
        .rev()
        .find(|l| l.starts_with("USER "))
        .unwrap();
    assert!(!matches!(
        user.trim_start_matches("USER ").trim(),
        "root" | "0"
    ));
    let health = dockerfile
        .split("HEALTHCHECK")
        .nth(1)
        .expect("a HEALTHCHECK");
    let url = health
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap();
    let path = &url[url.find("/health").expect("a health endpoint")..];
    assert!(documented_get(path), "{path} is not a route");
    // Every variable the image sets is a setting.
    for line in dockerfile.lines() {
        for word in line.split_whitespace() {
            if let Some((name, _)) = word.split_once('=') {
                if let Some(setting) = setting_of(name) {
                    assert!(is_setting(&setting), "{name}: `{setting}` is not a setting");
                }
            }
        }
    }
    let port = dockerfile
        .lines()
        .find_map(|l| l.strip_prefix("EXPOSE "))
        .unwrap()
        .trim();
    assert!(dockerfile.contains(&format!("TARIFFD_SERVER__PORT={port}")));
    assert!(url.contains(&format!(":{port}/")));
    assert!(dockerfile.contains("CMD [\"serve\"]"));
}

fn tempdir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tariffd-deploy-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
