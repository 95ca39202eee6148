//! The README as a newcomer reads it: every command of its `sh` blocks runs as written
//! (`cargo run --release --` meaning this build's binary, `localhost:8080` a live server
//! started as the README says, with access control off) in a scratch directory holding the
//! repository's `examples/` and bundled `tariffs/`, and must succeed. A comment starting
//! `# →` under a command claims what it prints: each `"quoted"` fragment (quotes included)
//! and each `backquoted` one (without its backquotes) must appear in what it prints
//! (standard output and error). Blocks
//! fenced as `sh not-run` (the service itself, the tests, fuzzing, benchmarks) are skipped.
//!
//! The claims are about the bundled tariffs, so a change of policy data that changes a
//! README figure fails here until the README says the new figure.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A command of the README and what its `# →` comment claims.
#[derive(Debug)]
struct Example {
    command: String,
    claims: Vec<String>,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The commands of every runnable `sh` block, in order.
fn examples(readme: &str) -> Vec<Example> {
    let mut examples: Vec<Example> = Vec::new();
    let mut in_block = false;
    let mut command = String::new();
    let mut heredoc: Option<String> = None;
    let mut claiming = false;
    for line in readme.lines() {
        if let Some(info) = line.strip_prefix("```") {
            in_block = !in_block && info.trim() == "sh";
            claiming = false;
            continue;
        }
        if !in_block {
            continue;
        }
        if !command.is_empty() {
            command.push('\n');
            command.push_str(line);
            let open = match &heredoc {
                Some(end) => line.trim() != end,
                None => line.ends_with('\\') || command.matches('\'').count() % 2 == 1,
            };
            if !open {
                heredoc = None;
                examples.push(Example {
                    command: std::mem::take(&mut command),
                    claims: Vec::new(),
                });
            }
            continue;
        }
        let trimmed = line.trim_start();
        if let Some(claim) = trimmed.strip_prefix("# →") {
            claiming = true;
            examples.last_mut().unwrap().claims.extend(fragments(claim));
        } else if let Some(more) = trimmed.strip_prefix('#').filter(|_| claiming) {
            examples.last_mut().unwrap().claims.extend(fragments(more));
        } else if !trimmed.is_empty() && !trimmed.starts_with('#') {
            claiming = false;
            command = line.to_string();
            heredoc = line
                .split_once("<<'")
                .and_then(|(_, rest)| rest.split_once('\''))
                .map(|(end, _)| end.to_string());
            let open =
                heredoc.is_some() || line.ends_with('\\') || command.matches('\'').count() % 2 == 1;
            if !open {
                examples.push(Example {
                    command: std::mem::take(&mut command),
                    claims: Vec::new(),
                });
            }
        } else {
            claiming = false;
        }
    }
    examples
}

/// The `"quoted"` (kept with quotes) and `backquoted` fragments of a claim.
fn fragments(claim: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (mark, keep) in [('"', true), ('`', false)] {
        let pieces: Vec<&str> = claim.split(mark).collect();
        for inner in pieces.iter().skip(1).step_by(2).take(pieces.len() / 2) {
            found.push(if keep {
                format!("\"{inner}\"")
            } else {
                inner.to_string()
            });
        }
    }
    found
}

/// The service as the README starts it, with access control off, on a free port.
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(dir: &Path) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_tariffd"))
        .args(["serve", "--port", &port.to_string()])
        .current_dir(dir)
        .env("TARIFFD_AUTH__ENABLED", "false")
        .env("TARIFFD_LOG__FILTER", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server { child, port };
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the server did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

/// A scratch directory with the repository's examples and tariffs, as a fresh checkout has.
fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tariffd-readme-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["examples", "tariffs"] {
        std::os::unix::fs::symlink(root().join(name), dir.join(name)).unwrap();
    }
    dir
}

#[test]
fn every_readme_command_runs_as_written_and_prints_what_it_claims() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let examples = examples(&readme);
    assert!(examples.len() >= 20, "{} commands found", examples.len());
    let dir = scratch();
    let server = start_server(&dir);
    let binary = env!("CARGO_BIN_EXE_tariffd");
    let mut failures = Vec::new();
    for example in &examples {
        let script = example
            .command
            .replace("cargo run --release --", binary)
            .replace("localhost:8080", &format!("127.0.0.1:{}", server.port));
        let output = Command::new("bash")
            .args(["-euo", "pipefail", "-c", &script])
            .current_dir(&dir)
            .env("TARIFFD_LOG__FILTER", "warn")
            .output()
            .unwrap();
        // What it prints: the command line's summaries go to standard error.
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        if !output.status.success() {
            failures.push(format!(
                "{}\n  exit {:?}: {}",
                example.command,
                output.status.code(),
                String::from_utf8_lossy(&output.stderr)
            ));
            continue;
        }
        for claim in &example.claims {
            if !printed.contains(claim.as_str()) {
                let shown: String = printed.chars().take(600).collect();
                failures.push(format!(
                    "{}\n  claims {claim} but printed: {shown}",
                    example.command
                ));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn commands_claims_and_skipped_blocks_are_read_as_meant() {
    let readme = "```sh\ncurl -s x -d '{\n  \"a\": 1\n}'\n# → rate \"0.10\", line `a.b`\n#   total \"5\"\necho hi   # → not a claim line\n```\n\n```sh not-run\ncargo test\n```\n```sh\ncat > f <<'T'\nx\nT\n```\n";
    let found = examples(readme);
    assert_eq!(found.len(), 3, "{found:?}");
    assert_eq!(found[0].command, "curl -s x -d '{\n  \"a\": 1\n}'");
    assert_eq!(found[0].claims, vec!["\"0.10\"", "a.b", "\"5\""]);
    assert!(found[1].claims.is_empty());
    assert_eq!(found[2].command, "cat > f <<'T'\nx\nT");
}
