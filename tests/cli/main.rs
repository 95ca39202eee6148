//! The command line as a billing clerk runs it: generate a population, bill it offline.

use std::path::PathBuf;
use std::process::{Command, Stdio};

fn tariffd() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tariffd"));
    command.current_dir(env!("CARGO_MANIFEST_DIR"));
    // The tests' own tariffs, not the bundled ones (see tests/fixtures/README.md).
    command.env(
        "TARIFFD_TARIFFS__DIR",
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tariffs"),
    );
    command
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tariffd-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// `serve` on a tariff directory it must refuse: what it says on standard error.
fn refused_to_serve(tariffs: &std::path::Path) -> String {
    let output = tariffd()
        .args(["serve", "--port", "0", "--tariffs"])
        .arg(tariffs)
        .output()
        .unwrap();
    assert!(
        !output.status.success(),
        "serve started on {}",
        tariffs.display()
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn run(command: &mut Command) -> String {
    let output = command.output().expect("the binary runs");
    assert!(
        output.status.success(),
        "{:?}: {}",
        command,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_generated_population_bills_the_same_from_csv_and_ndjson_files() {
    let (csv, ndjson) = (scratch("population.csv"), scratch("population.ndjson"));
    run(tariffd()
        .args([
            "gen-population",
            "--n",
            "700",
            "--seed",
            "3",
            "--format",
            "csv",
            "--output",
        ])
        .arg(&csv));
    run(tariffd()
        .args(["gen-population", "--n", "700", "--seed", "3", "--output"])
        .arg(&ndjson));
    let (csv_out, ndjson_out) = (scratch("bills.csv"), scratch("bills.ndjson"));
    let csv_report = run(tariffd()
        .arg("bill")
        .arg("--input")
        .arg(&csv)
        .arg("--output")
        .arg(&csv_out));
    let ndjson_report = run(tariffd()
        .arg("bill")
        .arg("--input")
        .arg(&ndjson)
        .arg("--output")
        .arg(&ndjson_out));
    assert!(
        csv_report.starts_with("700 records: 700 billed, 0 failed"),
        "{csv_report}"
    );
    let money = |report: &str| report.split(';').nth(1).map(str::to_string);
    assert_eq!(
        money(&csv_report),
        money(&ndjson_report),
        "same population, same money"
    );
    let bills = std::fs::read_to_string(&ndjson_out).unwrap();
    assert_eq!(bills.lines().count(), 701);
    let rows = std::fs::read_to_string(&csv_out).unwrap();
    assert_eq!(rows.lines().count(), 702, "header, 700 rows, summary");
    assert!(rows.lines().last().unwrap().starts_with("summary,summary,"));
}

#[test]
fn bill_reads_stdin_and_writes_stdout() {
    let mut child = tariffd()
        .args(["bill", "--detail", "totals"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    let line = r#"{"period":{"month":"2020-10"},"enterprise":{"id":"A","industry":"steel","catalogue_class":"restricted"},"electricity":{"kwh":"1250000"}}"#;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{line}\nnot json\n").as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(2),
        "a failed record gives exit status 2"
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let records: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records[0]["bill"]["totals"]["surcharge"], "125000.00");
    assert_eq!(records[1]["error"]["status"], 400);
    assert_eq!(records[2]["summary"]["failed"], 1);
}

#[test]
fn validate_only_checks_without_pricing() {
    let input = scratch("check.ndjson");
    std::fs::write(&input, "{\"period\":{\"month\":\"2020-10\"},\"enterprise\":{\"id\":\"A\",\"industry\":\"steel\"},\"electricity\":{\"kwh\":\"-1\"}}\n").unwrap();
    let output = tariffd()
        .args(["bill", "--validate-only", "--input"])
        .arg(&input)
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains("\"pointer\":\"/electricity/kwh\""),
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("0 valid, 1 invalid") && !stderr.contains("billed"),
        "{stderr}"
    );
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn a_broken_tariff_directory_refuses_to_start_naming_the_file_and_key() {
    let dir = scratch("broken-tariffs");
    std::fs::create_dir_all(&dir).unwrap();
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/tariffs/cn.toml"
    ))
    .unwrap();
    std::fs::write(
        dir.join("cn.toml"),
        text.replace(
            "electricity.punitive.over_double",
            "electricity.punitive.over_dubble",
        ),
    )
    .unwrap();
    let stderr = refused_to_serve(&dir);
    assert!(
        stderr.contains("cn.toml")
            && stderr.contains("electricity.punitive.over_dubble")
            && stderr.contains("did you mean"),
        "{stderr}"
    );
}

#[test]
fn the_output_format_follows_the_output_file_not_the_input() {
    let (input, csv_out, ndjson_out) = (
        scratch("formats.ndjson"),
        scratch("formats-out.csv"),
        scratch("formats-out.txt"),
    );
    std::fs::write(&input, "{\"period\":{\"month\":\"2020-10\"},\"enterprise\":{\"id\":\"A\",\"industry\":\"steel\",\"catalogue_class\":\"restricted\"},\"electricity\":{\"kwh\":\"1000\"}}\n").unwrap();
    run(tariffd()
        .args(["bill", "--input"])
        .arg(&input)
        .arg("--output")
        .arg(&csv_out));
    let csv = std::fs::read_to_string(&csv_out).unwrap();
    assert!(
        csv.starts_with("\u{feff}line,status,enterprise_id"),
        "a CSV file opens in Excel as UTF-8: {csv}"
    );
    assert!(csv.contains("\n1,billed,A,"), "{csv}");
    let csv_in = scratch("formats-in.csv");
    std::fs::write(&csv_in, "enterprise_id,industry,catalogue_class,period_month,kwh\nA,steel,restricted,2020-10,1000\n").unwrap();
    run(tariffd()
        .args(["bill", "--output-format", "ndjson", "--input"])
        .arg(&csv_in)
        .arg("--output")
        .arg(&ndjson_out));
    let ndjson = std::fs::read_to_string(&ndjson_out).unwrap();
    assert!(ndjson.starts_with("{\"line\":2,\"bill\":"), "{ndjson}");
}

#[test]
fn csv_to_standard_output_has_no_byte_order_mark_and_speaks_chinese_on_request() {
    let csv_in = scratch("zh-in.csv");
    std::fs::write(
        &csv_in,
        "企业编号,行业,目录类别,计费月份,用电量\nA,steel,restricted,2020-10,1000\n",
    )
    .unwrap();
    let output = tariffd()
        .args(["bill", "--lang", "zh", "--input"])
        .arg(&csv_in)
        .output()
        .unwrap();
    assert!(output.status.success());
    let csv = String::from_utf8(output.stdout).unwrap();
    assert!(csv.starts_with("行号,状态,企业编号,"), "{csv}");
    assert!(csv.contains("\n2,已计费,A,"), "{csv}");
    assert!(csv.contains("\n合计,合计,"), "{csv}");
    let without_bom = scratch("no-bom.csv");
    run(tariffd()
        .args(["bill", "--bom", "false", "--input"])
        .arg(&csv_in)
        .arg("--output")
        .arg(&without_bom));
    assert!(std::fs::read_to_string(&without_bom)
        .unwrap()
        .starts_with("line,status,"));
}

#[test]
fn check_tariffs_lists_every_provisional_value_with_its_note() {
    let stdout = tariffd()
        .args(["check-tariffs", "--provisional"])
        .output()
        .unwrap()
        .stdout;
    let stdout = String::from_utf8(stdout).unwrap();
    // The fixture's Xinzhou sets a provisional punitive adder with a note; cn's steel limit
    // cites a document with evidence.
    assert!(
        stdout.contains("electricity.punitive.within_double from 2020-07-16: 0.10"),
        "{stdout}"
    );
    assert!(stdout.contains("note: Shanxi provincial adder"), "{stdout}");
    assert!(
        stdout.contains("evidence: https://example.org/relay"),
        "{stdout}"
    );
}

#[test]
fn a_missing_tariff_directory_names_the_setting_to_fix() {
    let stderr = refused_to_serve(std::path::Path::new("/nonexistent/tariffs"));
    assert!(
        stderr.contains("/nonexistent/tariffs")
            && stderr.contains("--tariffs")
            && stderr.contains("tariffs.dir"),
        "{stderr}"
    );
}

#[test]
fn pretty_logs_written_to_a_pipe_carry_no_colour_codes() {
    use std::io::{BufRead, BufReader};
    let mut child = tariffd()
        .args(["serve", "--port", "0"])
        .env("TARIFFD_LOG__FORMAT", "pretty")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut seen = String::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        seen.push_str(&line);
        seen.push('\n');
        if line.contains("listening") {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(seen.contains("tariff loaded"), "{seen}");
    assert!(
        !seen.contains('\u{1b}'),
        "escape codes in piped logs: {seen:?}"
    );
}

#[test]
fn every_request_leaves_one_access_log_line_with_its_request_id() {
    use std::io::{BufRead, BufReader, Read, Write};
    let mut child = tariffd()
        .args(["serve", "--port", "0"])
        .env("TARIFFD_LOG__FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let port = lines
        .by_ref()
        .map(|l| serde_json::from_str::<serde_json::Value>(&l.unwrap()).unwrap())
        .find_map(|v| v["port"].as_u64())
        .expect("the server says where it listens");
    let ask = |path: &str| {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port as u16)).unwrap();
        let head = format!(
            "GET {path} HTTP/1.1\r\nhost: x\r\nx-request-id: clerk-42\r\nconnection: close\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    };
    let answer = ask("/health/live");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("x-request-id: clerk-42"),
        "{answer}"
    );
    ask("/v1/tariffs"); // refused: no key
    let mut access = Vec::new();
    for line in lines.by_ref() {
        let v: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
        if v["target"] == "access" {
            access.push(v);
            if access.len() == 2 {
                break;
            }
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(access[0]["request_id"], "clerk-42");
    assert_eq!(access[0]["route"], "/health/live");
    assert_eq!(access[0]["status"], 200);
    assert_eq!(access[0]["method"], "GET");
    assert_eq!(access[1]["route"], "/v1/tariffs");
    assert_eq!(access[1]["status"], 401, "refusals are logged too");
    assert!(access[1]["duration_ms"].is_number());
}

#[test]
fn a_reform_simulates_from_the_command_line_with_table_json_and_csv() {
    let population = scratch("simulate-population.csv");
    run(tariffd()
        .args([
            "gen-population",
            "--n",
            "500",
            "--seed",
            "5",
            "--format",
            "csv",
            "--output",
        ])
        .arg(&population));
    let reform = scratch("reform.toml");
    std::fs::write(
        &reform,
        r#"top = 3
[reform]
name = "eliminated steel at 0.80"
[reform.parameters]
"electricity.differential.steel.eliminated" = "0.80"
[sweep]
parameter = "electricity.differential.steel.eliminated"
from = "0.50"
to = "0.80"
step = "0.30"
"#,
    )
    .unwrap();
    let (json, csv) = (scratch("result.json"), scratch("result.csv"));
    let output = tariffd()
        .arg("simulate")
        .arg("--reform")
        .arg(&reform)
        .arg("--population")
        .arg(&population)
        .arg("--json")
        .arg(&json)
        .arg("--csv")
        .arg(&csv)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(
        table.contains("Reform \"eliminated steel at 0.80\""),
        "{table}"
    );
    assert!(table.contains("pay more"), "{table}");

    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(report["population"]["records"], 500);
    let points = report["sweep"]["points"].as_array().unwrap();
    assert_eq!(points[1]["value"], "0.80");
    assert_eq!(
        points[1]["delta_total"], report["delta"]["total"],
        "the sweep's last point is the reform"
    );
    let rows = std::fs::read_to_string(&csv).unwrap();
    assert!(
        rows.starts_with("section,key,enterprises,baseline_surcharge"),
        "{rows}"
    );
    let all = rows.lines().nth(1).unwrap();
    let delta = report["delta"]["surcharge"].as_str().unwrap();
    assert!(
        all.starts_with("all,all,500,") && all.contains(delta),
        "{all}"
    );

    // Without the sweep the population is compared as it is read: the same report.
    let plain = scratch("plain-reform.toml");
    let text = std::fs::read_to_string(&reform).unwrap();
    std::fs::write(&plain, &text[..text.find("[sweep]").unwrap()]).unwrap();
    let plain_json = scratch("plain-result.json");
    run(tariffd()
        .arg("simulate")
        .arg("--reform")
        .arg(&plain)
        .arg("--population")
        .arg(&population)
        .arg("--json")
        .arg(&plain_json));
    let mut swept = report.clone();
    swept.as_object_mut().unwrap().remove("sweep");
    let plain: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&plain_json).unwrap()).unwrap();
    assert_eq!(plain, swept);

    let bad = scratch("bad-reform.toml");
    std::fs::write(&bad, "[reform]\nname = \"x\"\n[reform.parameters]\n\"electricity.differential.steel.eliminated\" = 0.8\n").unwrap();
    let output = tariffd()
        .arg("simulate")
        .arg("--reform")
        .arg(&bad)
        .arg("--population")
        .arg(&population)
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("as a string"));
}

#[test]
fn a_generated_population_bills_the_same_from_parquet_and_arrow_files_as_from_csv() {
    let report = |format: &str, extension: &str| {
        let input = scratch(&format!("columnar.{extension}"));
        run(tariffd()
            .args([
                "gen-population",
                "--n",
                "900",
                "--seed",
                "5",
                "--format",
                format,
            ])
            .arg("--output")
            .arg(&input));
        let output = scratch(&format!("columnar-bills-{extension}.csv"));
        let report = run(tariffd()
            .arg("bill")
            .arg("--input")
            .arg(&input)
            .arg("--output")
            .arg(&output));
        (report, std::fs::read_to_string(&output).unwrap())
    };
    let (csv_report, csv_bills) = report("csv", "csv");
    assert!(
        csv_report.starts_with("900 records: 900 billed"),
        "{csv_report}"
    );
    for (format, extension) in [("parquet", "parquet"), ("arrow", "arrow")] {
        let (columnar_report, columnar_bills) = report(format, extension);
        let money = |report: &str| report.split(';').nth(1).map(str::to_string);
        assert_eq!(money(&columnar_report), money(&csv_report), "{format}");
        assert_eq!(
            columnar_bills, csv_bills,
            "{format}: the same rows, the same bills"
        );
    }
}
