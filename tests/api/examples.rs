//! The document against the app: every documented operation is called with its examples
//! (request bodies, path and query parameters), and every answer must be a documented status
//! of a documented content type whose body validates against the documented schema.

use serde_json::{json, Value};

use crate::helpers::{Reply, TestApp};

/// One call an operation's examples make.
struct Call {
    method: String,
    path: String,
    content_type: Option<String>,
    body: Vec<u8>,
    /// The example's name: `invalid…` expects an error, every other one a success.
    example: String,
}

#[actix_web::test]
async fn every_documented_example_is_answered_as_documented() {
    let app = TestApp::spawn_with(|s| s.limits.max_concurrent_heavy = 64).await;
    let doc: Value = serde_json::from_str(&tariffd::cli::openapi_json()).unwrap();
    let mut failures = Vec::new();
    let mut calls = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            for call in calls_of(method, path, operation) {
                calls.push((call, path, operation));
            }
        }
    }
    // Writes first, so that reads find what the examples wrote (the registry's enterprise);
    // a read of what a write answered with a `Location` reads that; deletes last.
    calls.sort_by_key(|(call, _, _)| match call.method.as_str() {
        "GET" => 1,
        "DELETE" => 2,
        _ => 0,
    });
    let mut locations: Vec<String> = Vec::new();
    for (call, pattern, operation) in &mut calls {
        if let Some(location) = locations.iter().find(|l| matches(pattern, l)) {
            call.path = location.clone();
        }
        let reply = send(&app, call).await;
        locations.extend(reply.header("location"));
        if let Err(e) = answered_as_documented(&doc, operation, call, &reply) {
            failures.push(format!(
                "{} {} ({}): {e}",
                call.method, call.path, call.example
            ));
        }
    }
    let calls = calls.len();
    assert!(calls >= 21, "only {calls} calls: examples went missing");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Whether `path` is of the path pattern `pattern` (`{…}` takes one segment).
fn matches(pattern: &str, path: &str) -> bool {
    let (pattern, path): (Vec<_>, Vec<_>) =
        (pattern.split('/').collect(), path.split('/').collect());
    pattern.len() == path.len()
        && pattern
            .iter()
            .zip(&path)
            .all(|(p, s)| p == s || (p.starts_with('{') && !s.is_empty()))
}

/// The calls an operation's examples make: one per request-body example; without a body,
/// one with every parameter that has an example.
fn calls_of(method: &str, path: &str, operation: &Value) -> Vec<Call> {
    let mut url = path.to_string();
    let mut query = Vec::new();
    for parameter in operation["parameters"].as_array().into_iter().flatten() {
        let name = parameter["name"].as_str().unwrap();
        let example = match &parameter["example"] {
            Value::String(s) => s.clone(),
            Value::Null if parameter["in"] == "path" => {
                panic!("{method} {path}: path parameter `{name}` has no example")
            }
            Value::Null => continue,
            other => other.to_string(),
        };
        if parameter["in"] == "path" {
            url = url.replace(&format!("{{{name}}}"), &example);
        } else {
            query.push(format!("{name}={example}"));
        }
    }
    if !query.is_empty() {
        url = format!("{url}?{}", query.join("&"));
    }
    let call = |content_type: Option<&str>, body: Vec<u8>, example: &str| Call {
        method: method.to_ascii_uppercase(),
        path: url.clone(),
        content_type: content_type.map(str::to_string),
        body,
        example: example.to_string(),
    };
    let Some(contents) = operation["requestBody"]["content"].as_object() else {
        return vec![call(None, Vec::new(), "no body")];
    };
    let mut calls = Vec::new();
    for (content_type, content) in contents {
        for (name, example) in content["examples"].as_object().into_iter().flatten() {
            if content_type == "multipart/form-data" {
                let (content_type, body) = multipart(&example["value"], &content["encoding"]);
                calls.push(call(Some(&content_type), body, name));
                continue;
            }
            calls.push(call(Some(content_type), as_body(&example["value"]), name));
        }
    }
    assert!(
        !calls.is_empty(),
        "{method} {path} takes a body but shows no example"
    );
    calls
}

fn as_body(value: &Value) -> Vec<u8> {
    match value {
        Value::String(text) => text.clone().into_bytes(),
        value => serde_json::to_vec(value).unwrap(),
    }
}

/// A multipart body of the example's parts, in order, each with its documented type.
fn multipart(parts: &Value, encoding: &Value) -> (String, Vec<u8>) {
    let boundary = "example-boundary-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, value) in parts.as_object().expect("a multipart example is an object") {
        let content_type = encoding[name]["contentType"]
            .as_str()
            .unwrap_or_else(|| panic!("part `{name}` has no documented content type"));
        body.extend_from_slice(
            format!(
                "--{boundary}\r\ncontent-disposition: form-data; name=\"{name}\"\r\ncontent-type: {content_type}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend(as_body(value));
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn send(app: &TestApp, call: &Call) -> Reply {
    let headers: Vec<(&str, &str)> = call
        .content_type
        .as_deref()
        .map(|t| ("content-type", t))
        .into_iter()
        .collect();
    match call.method.as_str() {
        "GET" => app.get_with(&call.path, &headers).await,
        "POST" => app.post_with(&call.path, &headers, call.body.clone()).await,
        "PUT" => app.put_with(&call.path, &headers, call.body.clone()).await,
        "DELETE" => app.delete(&call.path).await,
        other => panic!("no example call for method {other}"),
    }
}

fn answered_as_documented(
    doc: &Value,
    operation: &Value,
    call: &Call,
    reply: &Reply,
) -> Result<(), String> {
    let expect_error = call.example.starts_with("invalid");
    if expect_error != (reply.status >= 400) {
        return Err(format!("status {}: {}", reply.status, reply.text()));
    }
    let documented = &operation["responses"][reply.status.to_string()];
    if documented.is_null() {
        return Err(format!("status {} is not documented", reply.status));
    }
    if reply.status == 204 && documented["content"].is_null() && reply.body.is_empty() {
        return Ok(());
    }
    let content_type = reply.header("content-type").unwrap_or_default();
    let essence = content_type.split(';').next().unwrap_or("").trim();
    let Some(content) = documented["content"].get(essence) else {
        return Err(format!(
            "content type `{essence}` is not documented for {}",
            reply.status
        ));
    };
    let body: Value = if essence.ends_with("json") && !essence.ends_with("ndjson") {
        serde_json::from_slice(&reply.body).map_err(|e| format!("not JSON: {e}"))?
    } else {
        Value::String(reply.text())
    };
    // The schema, with the document's components beside it so that its `$ref`s resolve.
    let mut schema = content["schema"].clone();
    schema["components"] = doc["components"].clone();
    let validator = jsonschema::validator_for(&schema).map_err(|e| format!("bad schema: {e}"))?;
    let errors: Vec<String> = validator
        .iter_errors(&body)
        .map(|e| format!("{} at `{}`", e, e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!("the body breaks its schema: {}", errors.join("; ")))
    }
}

#[test]
fn a_body_off_its_schema_is_caught() {
    // The check itself can fail: a bill without its id breaks `BillResponse`.
    let doc: Value = serde_json::from_str(&tariffd::cli::openapi_json()).unwrap();
    let operation = &doc["paths"]["/v1/bills"]["post"];
    let call = Call {
        method: "POST".into(),
        path: "/v1/bills".into(),
        content_type: Some("application/json".into()),
        body: Vec::new(),
        example: "restricted_steel".into(),
    };
    let mut headers = awc::http::header::HeaderMap::new();
    headers.insert(
        awc::http::header::CONTENT_TYPE,
        awc::http::header::HeaderValue::from_static("application/json"),
    );
    let reply = |body: Value| Reply {
        status: 200,
        headers: headers.clone(),
        body: serde_json::to_vec(&body).unwrap(),
    };
    let wrong = reply(json!({ "engine_version": 1 }));
    let error = answered_as_documented(&doc, operation, &call, &wrong).unwrap_err();
    assert!(
        error.contains("breaks its schema") && error.contains("bill_id"),
        "{error}"
    );
    let undocumented = Reply {
        status: 201,
        ..reply(json!({}))
    };
    let error = answered_as_documented(&doc, operation, &call, &undocumented).unwrap_err();
    assert!(error.contains("not documented"), "{error}");
}
