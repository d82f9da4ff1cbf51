//! `chopay webhook verify`: checks a saved bank callback offline, exactly as the server would,
//! and prints the normalized credit it carries (*contract*: scripts use these flags and outputs).
//!
//! ```text
//! chopay webhook verify --provider P --secret S [--header 'Name: value']… [--at UNIX_SECONDS] FILE|-
//! ```
//! The body is read as raw bytes (`-` = standard input); the secret may come from the
//! `CHOPAY_WEBHOOK_SECRET` environment variable instead, so it stays out of shell history.
//! Output: the credit as pretty JSON (amount as a string of đồng, `booked_at` in RFC 3339 UTC and
//! `booked_at_ms`, `null` for absent fields), or `{"ignored": "<reason>"}`; a forged or unusable
//! delivery fails with `webhook verify: <forged|unusable>: <reason>` and exit code 2.

use std::io::Read;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use clap::{Args, Subcommand};
use serde::Serialize;
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::CliError;
use crate::webhooks::{
    self, BankCredit, Clock, Delivery, MAX_BODY_BYTES, Provider, Secret, Verified,
};

/// `chopay webhook …`.
#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Verify a saved callback body and print the bank credit it carries.
    Verify(VerifyArgs),
}

/// `chopay webhook verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Who sent it: payos, casso, sepay or chopay.
    #[arg(long, value_parser = parse_provider)]
    provider: Provider,
    /// The channel secret (checksum key, API key or whsec_ secret); repeat it to try an old and
    /// a new secret.
    #[arg(
        long,
        required = true,
        env = "CHOPAY_WEBHOOK_SECRET",
        hide_env_values = true,
        value_parser = parse_secret
    )]
    secret: Vec<Secret>,
    /// A request header as received, 'Name: value' (repeatable).
    #[arg(long = "header", value_name = "NAME: VALUE")]
    headers: Vec<String>,
    /// Verify as if now were this Unix time in seconds (default: the system clock).
    #[arg(long, value_name = "UNIX_SECONDS")]
    at: Option<i64>,
    /// The saved body, or - to read it from standard input.
    file: PathBuf,
}

fn parse_provider(text: &str) -> Result<Provider, String> {
    Provider::parse(text).ok_or_else(|| {
        let names: Vec<&str> = Provider::ALL.iter().map(|p| p.as_str()).collect();
        format!("unknown provider '{text}'; use one of {}", names.join(", "))
    })
}

fn parse_secret(text: &str) -> Result<Secret, String> {
    if text.is_empty() {
        return Err("the secret is empty".into());
    }
    Ok(Secret::new(text.to_owned()))
}

/// Runs `chopay webhook …`.
pub fn run(command: WebhookCommand) -> Result<(), CliError> {
    match command {
        WebhookCommand::Verify(args) => verify(&args),
    }
}

fn verify(args: &VerifyArgs) -> Result<(), CliError> {
    for secret in &args.secret {
        webhooks::check_secret(args.provider, secret.expose())
            .map_err(|rule| CliError::Input(format!("--secret: {rule}")))?;
    }
    let headers = header_map(&args.headers)?;
    let body = read_body(&args.file)?;
    let now_unix_s = match args.at {
        Some(at) => at,
        None => system_now()?,
    };
    let delivery = Delivery {
        body: &body,
        headers: &headers,
    };
    let verified = webhooks::verify(
        args.provider,
        &args.secret,
        &delivery,
        Clock::at(now_unix_s),
    )
    .map_err(|e| CliError::Input(format!("webhook verify: {e}")))?;
    let text = match verified {
        Verified::Credit(credit) => serde_json::to_string_pretty(&credit_output(&credit)),
        Verified::Ignored(reason) => serde_json::to_string_pretty(&json!({ "ignored": reason })),
    }
    .map_err(|e| CliError::Io(e.to_string()))?;
    println!("{text}");
    Ok(())
}

/// The `--header` flags as a header map; a malformed one is an input error naming the flag (its
/// value is not repeated: it may hold an API key).
fn header_map(flags: &[String]) -> Result<HeaderMap, CliError> {
    let mut headers = HeaderMap::new();
    for (index, flag) in flags.iter().enumerate() {
        let position = index + 1;
        let bad = |why: &str| {
            CliError::Input(format!(
                "--header #{position}: {why}; write it as 'Name: value'"
            ))
        };
        let (name, value) = flag.split_once(':').ok_or_else(|| bad("no ':'"))?;
        let name = HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|_| bad("the name is not a valid header name"))?;
        let value = HeaderValue::from_str(value.trim())
            .map_err(|_| bad("the value is not a valid header value"))?;
        headers.append(name, value);
    }
    Ok(headers)
}

/// The raw body from a file or standard input, at most [`MAX_BODY_BYTES`].
fn read_body(file: &PathBuf) -> Result<Vec<u8>, CliError> {
    let limit = u64::try_from(MAX_BODY_BYTES)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    let mut body = Vec::new();
    let shown = file.display();
    if file.as_os_str() == "-" {
        std::io::stdin()
            .lock()
            .take(limit)
            .read_to_end(&mut body)
            .map_err(|e| CliError::Io(format!("cannot read standard input: {e}")))?;
    } else {
        std::fs::File::open(file)
            .and_then(|f| f.take(limit).read_to_end(&mut body))
            .map_err(|e| CliError::Input(format!("cannot read {shown}: {e}")))?;
    }
    if body.len() > MAX_BODY_BYTES {
        return Err(CliError::Input(format!(
            "the body is over {} KiB; no provider sends that much",
            MAX_BODY_BYTES / 1024
        )));
    }
    Ok(body)
}

fn system_now() -> Result<i64, CliError> {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()
        .and_then(|since| i64::try_from(since.as_secs()).ok())
        .ok_or_else(|| CliError::Io("the system clock is before 1970".into()))
}

/// The credit as printed: every field in a fixed order, `null` when absent, the amount as a
/// string of đồng, the bank time both as RFC 3339 UTC and as milliseconds.
#[derive(Debug, Serialize)]
struct CreditOutput<'a> {
    provider_txn_id: &'a str,
    amount: String,
    account: Option<&'a str>,
    bin: Option<&'a str>,
    virtual_account: Option<&'a str>,
    description: &'a str,
    counterparty_name: Option<&'a str>,
    counterparty_account: Option<&'a str>,
    counterparty_bank: Option<&'a str>,
    booked_at: Option<String>,
    booked_at_ms: Option<i64>,
    payment_code: Option<&'a str>,
}

fn credit_output(credit: &BankCredit) -> CreditOutput<'_> {
    let booked_at = credit.booked_at_ms.and_then(|ms| {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
            .ok()
            .and_then(|at| at.format(&Rfc3339).ok())
    });
    CreditOutput {
        provider_txn_id: &credit.provider_txn_id,
        amount: credit.amount.to_dong().to_string(),
        account: credit.account.as_deref(),
        bin: credit.bin.as_deref(),
        virtual_account: credit.virtual_account.as_deref(),
        description: &credit.description,
        counterparty_name: credit.counterparty_name.as_deref(),
        counterparty_account: credit.counterparty_account.as_deref(),
        counterparty_bank: credit.counterparty_bank.as_deref(),
        booked_at,
        booked_at_ms: credit.booked_at_ms,
        payment_code: credit.payment_code.as_deref(),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::Cli;
    use crate::domain::money::Vnd;

    #[test]
    fn header_flags_become_a_header_map() {
        let map = header_map(&[
            "webhook-id: msg_1".into(),
            "Authorization:Apikey abc".into(),
            "X-Casso-Signature: t=1,v1=ab".into(),
        ])
        .unwrap();
        assert_eq!(map["webhook-id"], "msg_1");
        assert_eq!(map["authorization"], "Apikey abc");
        assert_eq!(map["x-casso-signature"], "t=1,v1=ab");
    }

    #[test]
    fn malformed_header_flags_are_input_errors_that_do_not_echo_the_value() {
        for bad in [
            "no colon here",
            "bad name: x",
            ": empty name",
            "x: line\nbreak",
        ] {
            let error = header_map(&[bad.into()]).unwrap_err();
            assert_eq!(error.exit_code(), 2, "{bad}");
            let message = error.to_string();
            assert!(message.starts_with("--header #1: "), "{message}");
            assert!(!message.contains('\n'), "{message}");
        }
    }

    #[test]
    fn credits_print_every_field_with_rfc3339_times() {
        let credit = BankCredit {
            provider_txn_id: "FT1".into(),
            amount: Vnd::from_dong(180_000).unwrap(),
            account: Some("0352350917".into()),
            bin: None,
            virtual_account: None,
            description: "Trả tiền rau".into(),
            counterparty_name: None,
            counterparty_account: None,
            counterparty_bank: None,
            booked_at_ms: Some(1_723_692_030_000),
            payment_code: None,
        };
        let printed = serde_json::to_value(credit_output(&credit)).unwrap();
        assert_eq!(printed["amount"], "180000");
        assert_eq!(printed["booked_at"], "2024-08-15T03:20:30Z");
        assert_eq!(printed["booked_at_ms"], 1_723_692_030_000_i64);
        assert_eq!(printed["bin"], serde_json::Value::Null);
        let text = serde_json::to_string(&credit_output(&credit)).unwrap();
        assert!(
            text.starts_with(r#"{"provider_txn_id":"FT1","amount":"180000","#),
            "{text}"
        );
        assert_eq!(printed.as_object().unwrap().len(), 12);
    }

    #[test]
    fn the_command_line_parses_and_hides_the_secret() {
        let cli = Cli::try_parse_from([
            "chopay",
            "webhook",
            "verify",
            "--provider",
            "payOS",
            "--secret",
            "0123456789abcdef-secret",
            "--header",
            "a: b",
            "--at",
            "1723692330",
            "body.json",
        ])
        .unwrap();
        let debug = format!("{cli:?}");
        assert!(debug.contains("PayOs"), "{debug}");
        assert!(!debug.contains("0123456789abcdef-secret"), "{debug}");
        assert!(
            Cli::try_parse_from(["chopay", "webhook", "verify", "--provider", "visa", "f"])
                .is_err()
        );
    }

    #[test]
    fn a_forged_delivery_is_an_input_error_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("body.json");
        std::fs::write(
            &path,
            br#"{"transaction_id":"T1","amount":"1000","description":""}"#,
        )
        .unwrap();
        let args = VerifyArgs {
            provider: Provider::Chopay,
            secret: vec![Secret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into())],
            headers: vec![
                "webhook-id: msg_1".into(),
                "webhook-timestamp: 1723692330".into(),
                "webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=".into(),
            ],
            at: Some(1_723_692_330),
            file: path,
        };
        let error = verify(&args).unwrap_err();
        assert_eq!(error.exit_code(), 2);
        assert_eq!(
            error.to_string(),
            "webhook verify: forged: no signature matches"
        );
    }

    #[test]
    fn a_malformed_secret_is_refused_before_reading_anything() {
        let args = VerifyArgs {
            provider: Provider::Chopay,
            secret: vec![Secret::new("not-a-whsec-secret".into())],
            headers: vec![],
            at: Some(0),
            file: PathBuf::from("/nonexistent/body.json"),
        };
        let error = verify(&args).unwrap_err();
        assert!(error.to_string().starts_with("--secret: "), "{error}");
        assert!(!error.to_string().contains("not-a-whsec-secret"));
    }
}
