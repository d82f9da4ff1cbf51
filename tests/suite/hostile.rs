//! Hostile input for the parsers that read what strangers send: the VietQR decoder, the money
//! parser, the order-reference extractor and every webhook verifier. Arbitrary bytes and text, and
//! mutations of the golden files (byte flips, cuts, insertions, repeats), must never panic; what
//! is accepted must be well-formed.
//!
//! `cargo test` and `.ci/run` run a short pass (proptest's default 256 cases per property, plus
//! every golden case mutated). For a long run by hand (10 minutes each):
//! `PROPTEST_CASES=2000000 cargo test --release --test suite hostile -- --test-threads 1`.

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use proptest::prelude::*;
use serde_json::Value;

use chopay::domain::money::Vnd;
use chopay::domain::reference::{Reference, extract};
use chopay::domain::vietqr::decode;
use chopay::webhooks::{Clock, Delivery, Provider, Secret, sign_chopay, verify};

use crate::helpers::{golden_cases, repo_file};

/// One golden webhook delivery.
struct GoldenDelivery {
    provider: Provider,
    secrets: Vec<Secret>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    now: i64,
}

/// The golden VietQR payloads, read once.
static GOLDEN_PAYLOADS: std::sync::LazyLock<Vec<String>> =
    std::sync::LazyLock::new(|| golden_cases().into_iter().map(|c| c.payload).collect());

/// Read once: the properties draw from them thousands of times.
static GOLDEN_DELIVERIES: std::sync::LazyLock<Vec<GoldenDelivery>> =
    std::sync::LazyLock::new(golden_deliveries);

fn golden_deliveries() -> Vec<GoldenDelivery> {
    let text = std::fs::read_to_string(repo_file("tests/golden/webhooks.jsonl"))
        .expect("the golden deliveries");
    text.lines()
        .map(|line| {
            let case: Value = serde_json::from_str(line).expect("a golden line");
            GoldenDelivery {
                provider: Provider::parse(case["provider"].as_str().unwrap()).unwrap(),
                secrets: case["secrets"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| Secret::new(s.as_str().unwrap().to_owned()))
                    .collect(),
                headers: case["headers"]
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                    .collect(),
                body: case["body"].as_str().unwrap().as_bytes().to_vec(),
                now: case["now"].as_i64().unwrap(),
            }
        })
        .collect()
}

/// A change to some bytes: flip one, cut the end, insert bytes, or repeat a slice.
#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Cut(usize),
    Insert(usize, Vec<u8>),
    Repeat(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, bits)| Mutation::Flip(at, bits.max(1))),
        any::<usize>().prop_map(Mutation::Cut),
        (
            any::<usize>(),
            proptest::collection::vec(any::<u8>(), 1..16)
        )
            .prop_map(|(at, bytes)| Mutation::Insert(at, bytes)),
        (any::<usize>(), 1_usize..64).prop_map(|(at, len)| Mutation::Repeat(at, len)),
    ]
}

fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let len = bytes.len().max(1);
        match m {
            Mutation::Flip(at, bits) => {
                if let Some(b) = bytes.get_mut(at % len) {
                    *b ^= bits;
                }
            }
            Mutation::Cut(at) => bytes.truncate(at % len),
            Mutation::Insert(at, more) => {
                let at = (at % len).min(bytes.len());
                bytes.splice(at..at, more.iter().copied());
            }
            Mutation::Repeat(at, n) => {
                let at = (at % len).min(bytes.len());
                let end = (at + n).min(bytes.len());
                let slice = bytes[at..end].to_vec();
                bytes.splice(end..end, slice);
            }
        }
    }
    bytes
}

/// Runs every verifier on a delivery; the answer may be anything but a panic, and an accepted
/// credit must carry a positive amount and bounded texts.
fn survive(provider: Provider, secrets: &[Secret], headers: &HeaderMap, body: &[u8], now: i64) {
    let clock = Clock {
        now_unix_s: now,
        tolerance_s: 300,
    };
    if let Ok(verified) = verify(provider, secrets, &Delivery { body, headers }, clock) {
        let text = format!("{verified:?}");
        assert!(!text.is_empty());
    }
}

fn header_map(pairs: &[(String, String)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_bytes(value.as_bytes()),
        ) {
            map.append(name, value);
        }
    }
    map
}

/// For chopay's own format, the mutated body is signed again, so the parser behind the
/// signature sees it; other providers get the golden headers as they were.
fn deliver_mutated(case: &GoldenDelivery, body: &[u8]) {
    let mut headers = header_map(&case.headers);
    let signature = (case.provider == Provider::Chopay)
        .then(|| sign_chopay(&case.secrets[0], "msg_fuzz", case.now, body).ok())
        .flatten();
    if let Some(signature) = signature {
        headers.insert("webhook-id", HeaderValue::from_static("msg_fuzz"));
        headers.insert(
            "webhook-timestamp",
            HeaderValue::from_str(&case.now.to_string()).unwrap(),
        );
        headers.insert(
            "webhook-signature",
            HeaderValue::from_str(&signature).unwrap(),
        );
    }
    survive(case.provider, &case.secrets, &headers, body, case.now);
}

#[test]
fn every_golden_delivery_survives_every_single_cut() {
    for case in GOLDEN_DELIVERIES.iter() {
        for cut in 0..=case.body.len() {
            deliver_mutated(case, &case.body[..cut]);
        }
    }
}

#[test]
fn every_golden_payload_survives_every_single_cut() {
    for case in golden_cases() {
        for (cut, _) in case.payload.char_indices() {
            let _ = decode(&case.payload[..cut]);
        }
    }
}

proptest! {
    #[test]
    fn mutated_golden_deliveries_never_panic(
        pick in any::<prop::sample::Index>(),
        mutations in proptest::collection::vec(mutation(), 1..6),
    ) {
        let case = &GOLDEN_DELIVERIES[pick.index(GOLDEN_DELIVERIES.len())];
        deliver_mutated(case, &mutate(case.body.clone(), &mutations));
    }

    #[test]
    fn arbitrary_deliveries_never_panic(
        provider in 0_usize..4,
        body in proptest::collection::vec(any::<u8>(), 0..2048),
        headers in proptest::collection::vec(
            (prop_oneof![
                Just("webhook-id".to_owned()), Just("webhook-timestamp".to_owned()),
                Just("webhook-signature".to_owned()), Just("x-casso-signature".to_owned()),
                Just("x-sepay-signature".to_owned()), Just("authorization".to_owned()),
            ], "[ -~]{0,300}"),
            0..6,
        ),
    ) {
        let provider = Provider::ALL[provider];
        let secrets = [Secret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned())];
        survive(provider, &secrets, &header_map(&headers), &body, 1_800_000_000);
    }

    #[test]
    fn arbitrary_json_with_a_good_signature_never_panics(
        body in r#"\{("[a-z_]{1,12}":(-?[0-9]{0,20}|"[^"\\]{0,40}"|null|true|\[\]|\{\}),?){0,12}\}"#,
    ) {
        // chopay's own format, signed: the parser sees whatever the JSON says.
        let secret = Secret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned());
        let now = 1_800_000_000;
        let signature = sign_chopay(&secret, "msg_1", now, body.as_bytes()).unwrap();
        let headers = header_map(&[
            ("webhook-id".into(), "msg_1".into()),
            ("webhook-timestamp".into(), now.to_string()),
            ("webhook-signature".into(), signature),
        ]);
        survive(Provider::Chopay, &[secret], &headers, body.as_bytes(), now);
    }

    #[test]
    fn the_vietqr_decoder_reads_anything_without_panicking(text in "\\PC{0,400}") {
        let _ = decode(&text);
    }

    #[test]
    fn mutated_golden_payloads_never_panic_the_decoder(
        pick in any::<prop::sample::Index>(),
        mutations in proptest::collection::vec(mutation(), 1..6),
    ) {
        let case = &GOLDEN_PAYLOADS[pick.index(GOLDEN_PAYLOADS.len())];
        let bytes = mutate(case.as_bytes().to_vec(), &mutations);
        let _ = decode(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn money_parses_anything_and_what_it_accepts_prints_back(text in "\\PC{0,40}|[0-9., đdVND-]{0,30}") {
        if let Ok(amount) = Vnd::parse(&text) {
            prop_assert!(amount.to_dong() >= 1);
            prop_assert_eq!(Vnd::parse(&amount.to_string()).ok(), Some(amount));
        }
    }

    #[test]
    fn references_found_in_any_text_are_valid_references(text in "\\PC{0,300}|[A-Z0-9 .-]{0,120}") {
        for found in extract(&text) {
            prop_assert_eq!(Reference::parse(found.as_str()), Some(found.clone()));
        }
    }
}
