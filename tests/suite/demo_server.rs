//! A real `chopay serve --demo` on a free port, and what it printed: the URL, the admin, vendor and
//! district board tokens, and the demo's payment channel.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A running `chopay serve --demo`; stopped with SIGTERM when dropped.
pub struct DemoServer {
    child: Option<Child>,
    pub base: String,
    pub admin: String,
    pub vendor: String,
    pub vendor_stall: i64,
    /// The district `ba-vi`'s board token, from the printed `boards:` link.
    pub board: String,
    pub channel: String,
    pub secret: String,
}

impl DemoServer {
    pub fn start(database_url: &str) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_chopay"))
            .args([
                "serve",
                "--demo",
                "--bind",
                "127.0.0.1:0",
                "--database-url",
                database_url,
            ])
            .args(crate::app::serve_durability_args())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("chopay serve starts");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let (mut base, mut admin, mut vendor, mut vendor_stall, mut payments) =
            (String::new(), String::new(), String::new(), 0, None);
        let mut board = String::new();
        for line in lines.by_ref() {
            let line = line.expect("a line");
            let line = line.trim();
            if let Some(rest) = line.strip_prefix("chopay demo is running at ") {
                base = rest.trim().to_owned();
            } else if let Some(rest) = line.strip_prefix("boards:") {
                // `boards: http://HOST/districts/ba-vi?access_token=TOKEN (the district's …)`
                board = rest
                    .split_whitespace()
                    .next()
                    .and_then(|link| link.split_once("?access_token="))
                    .map(|(_, token)| token.to_owned())
                    .unwrap_or_default();
            } else if let Some(rest) = line.strip_prefix("admin token:") {
                admin = rest.trim().to_owned();
            } else if let Some(rest) = line.strip_prefix("vendor token:") {
                let mut words = rest.split_whitespace();
                vendor = words.next().unwrap_or_default().to_owned();
                vendor_stall = words
                    .last()
                    .and_then(|w| w.trim_end_matches(')').parse().ok())
                    .unwrap_or(0);
            } else if let Some(rest) = line.strip_prefix("payments:") {
                payments = Some(rest.to_owned());
                break;
            }
        }
        // Keep reading whatever else it prints, so the server never writes to a closed pipe.
        std::thread::spawn(move || for _ in lines {});
        let payments = payments.expect("a 'payments:' line");
        let words: Vec<&str> = payments.split_whitespace().collect();
        let flag = |name: &str| {
            words
                .iter()
                .position(|w| *w == name)
                .and_then(|i| words.get(i + 1))
                .map(|w| (*w).to_owned())
                .unwrap_or_else(|| panic!("no {name} in: {payments}"))
        };
        assert!(base.starts_with("http://127.0.0.1:"), "no URL printed");
        assert!(
            admin.starts_with("cp_") && vendor.starts_with("cp_"),
            "tokens printed"
        );
        assert_eq!(flag("--url"), base);
        assert_eq!(flag("--token"), admin);
        Self {
            channel: flag("--channel"),
            secret: flag("--secret"),
            child: Some(child),
            base,
            admin,
            vendor,
            vendor_stall,
            board,
        }
    }

    /// GETs a path with a bearer token: the status and the JSON body.
    pub async fn get(&self, path: &str, token: &str) -> (u16, serde_json::Value) {
        let response = reqwest::Client::new()
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("the server answers");
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON"))
    }

    /// SIGTERM, then the exit status: a graceful shutdown exits 0.
    pub fn stop(mut self) -> bool {
        let mut child = self.child.take().expect("running");
        let pid = child.id().to_string();
        let killed = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill runs");
        assert!(killed.success());
        child.wait().expect("server exits").success()
    }
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let _ = child.wait();
        }
    }
}
