//! Shared helpers: running the real binary, reading golden files, finding external programs.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The output of one `chopay` run.
pub struct Run {
    pub code: i32,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Run {
    pub fn stdout_text(&self) -> String {
        String::from_utf8(self.stdout.clone()).expect("stdout is UTF-8")
    }
}

fn finish(output: Output) -> Run {
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: output.stdout,
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs the `chopay` binary built for these tests.
pub fn chopay(args: &[&str]) -> Run {
    chopay_with_stdin(args, "")
}

/// Runs `chopay` with `stdin` as its standard input.
pub fn chopay_with_stdin(args: &[&str], stdin: &str) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_chopay"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chopay starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    finish(child.wait_with_output().expect("chopay finishes"))
}

/// A file of the repository, by its path from the root.
pub fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// Runs an external program that `.ci/run` installs; panics with the install hint if missing.
pub fn external(program: &str, package: &str, args: &[&str]) -> Run {
    match Command::new(program).args(args).output() {
        Ok(output) => finish(output),
        Err(error) => panic!(
            "{program} is needed by this test and could not run ({error}); install the Debian package {package} (.ci/run does)"
        ),
    }
}

/// One golden VietQR case, written by `tests/golden/vietqr_golden.py`.
#[derive(Debug, serde::Deserialize)]
pub struct GoldenCase {
    pub name: String,
    pub bin: String,
    pub account: String,
    pub service: String,
    pub amount: Option<String>,
    pub mcc: Option<String>,
    pub merchant_name: Option<String>,
    pub merchant_city: Option<String>,
    pub bill_number: Option<String>,
    pub mobile: Option<String>,
    pub store_label: Option<String>,
    pub reference_label: Option<String>,
    pub terminal_label: Option<String>,
    pub purpose: Option<String>,
    pub payload: String,
}

pub fn golden_cases() -> Vec<GoldenCase> {
    let text =
        std::fs::read_to_string(repo_file("tests/golden/vietqr.jsonl")).expect("golden file");
    text.lines()
        .map(|line| serde_json::from_str(line).expect("golden line"))
        .collect()
}
