//! Tests of the webhook verifiers: the golden deliveries of an independent Python signer
//! (`tests/golden/webhooks_golden.py`), known answers, replies, and properties (no input panics;
//! any one-byte change to an authentic chopay body is forged).

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;

const GOLDEN: &str = include_str!("../../tests/golden/webhooks.jsonl");

const SPEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SPEC_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const SPEC_TIMESTAMP: i64 = 1_614_265_330;
const SPEC_BODY: &[u8] = br#"{"test": 2432232314}"#;
const SPEC_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    map
}

fn secrets(texts: &[&str]) -> Vec<Secret> {
    texts.iter().map(|s| Secret::new((*s).to_owned())).collect()
}

/// The credit as the golden file writes it.
fn credit_json(credit: &BankCredit) -> Value {
    json!({
        "provider_txn_id": credit.provider_txn_id,
        "amount": credit.amount.to_dong().to_string(),
        "account": credit.account,
        "bin": credit.bin,
        "virtual_account": credit.virtual_account,
        "description": credit.description,
        "counterparty_name": credit.counterparty_name,
        "counterparty_account": credit.counterparty_account,
        "counterparty_bank": credit.counterparty_bank,
        "booked_at_ms": credit.booked_at_ms,
        "payment_code": credit.payment_code,
    })
}

fn outcome(result: &Result<Verified, WebhookError>) -> &'static str {
    match result {
        Ok(Verified::Credit(_)) => "credit",
        Ok(Verified::Ignored(_)) => "ignored",
        Err(WebhookError::Forged(_)) => "forged",
        Err(WebhookError::Unusable(_)) => "unusable",
    }
}

#[test]
fn every_golden_delivery_verifies_as_the_independent_signer_expects() {
    let mut count = 0;
    let mut failures = Vec::new();
    for line in GOLDEN.lines().filter(|line| !line.trim().is_empty()) {
        let case: Value = serde_json::from_str(line).unwrap();
        let name = case["name"].as_str().unwrap();
        let provider = Provider::parse(case["provider"].as_str().unwrap()).unwrap();
        let channel_secrets: Vec<Secret> = case["secrets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| Secret::new(s.as_str().unwrap().to_owned()))
            .collect();
        let mut map = HeaderMap::new();
        for (header, value) in case["headers"].as_object().unwrap() {
            map.append(
                HeaderName::from_bytes(header.as_bytes()).unwrap(),
                HeaderValue::from_str(value.as_str().unwrap()).unwrap(),
            );
        }
        let body = case["body"].as_str().unwrap().as_bytes();
        let clock = Clock::at(case["now"].as_i64().unwrap());
        let delivery = Delivery {
            body,
            headers: &map,
        };
        let result = verify(provider, &channel_secrets, &delivery, clock);
        let expected = case["expect"].as_str().unwrap();
        if outcome(&result) != expected {
            failures.push(format!("{name}: expected {expected}, got {result:?}"));
        } else if let Ok(Verified::Credit(credit)) = &result
            && credit_json(credit) != case["credit"]
        {
            failures.push(format!(
                "{name}: credit differs\n  got      {}\n  expected {}",
                credit_json(credit),
                case["credit"]
            ));
        }
        count += 1;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(count >= 40, "only {count} golden cases");
}

#[test]
fn the_standard_webhooks_spec_vector_signs_and_verifies() {
    let secret = Secret::new(SPEC_SECRET.to_owned());
    let signature = sign_chopay(&secret, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY).unwrap();
    assert_eq!(signature, SPEC_SIGNATURE);
    let map = headers(&[
        ("webhook-id", SPEC_ID),
        ("webhook-timestamp", "1614265330"),
        ("webhook-signature", SPEC_SIGNATURE),
    ]);
    let delivery = Delivery {
        body: SPEC_BODY,
        headers: &map,
    };
    // Authentic, but `{"test": …}` is not a credit.
    let result = verify(
        Provider::Chopay,
        &[secret],
        &delivery,
        Clock::at(SPEC_TIMESTAMP),
    );
    assert!(
        matches!(&result, Err(WebhookError::Unusable(reason)) if reason.contains("transaction_id")),
        "{result:?}"
    );
}

#[test]
fn a_signed_chopay_delivery_round_trips_into_its_credit() {
    let secret = Secret::new(generate_secret(Provider::Chopay, &[7; 32]).unwrap());
    let body = r#"{"transaction_id":"T1","amount":"12000","description":"CMA7K3Q9X2 chè","booked_at":"2024-08-15T03:20:30Z"}"#;
    let signature = sign_chopay(&secret, "msg_1", 1_723_692_000, body.as_bytes()).unwrap();
    let map = headers(&[
        ("webhook-id", "msg_1"),
        ("webhook-timestamp", "1723692000"),
        ("webhook-signature", &signature),
    ]);
    let delivery = Delivery {
        body: body.as_bytes(),
        headers: &map,
    };
    let verified = verify(
        Provider::Chopay,
        &[secret],
        &delivery,
        Clock::at(1_723_692_100),
    )
    .unwrap();
    let Verified::Credit(credit) = verified else {
        panic!("{verified:?}")
    };
    assert_eq!(credit.provider_txn_id, "T1");
    assert_eq!(credit.amount.to_dong(), 12_000);
    assert_eq!(credit.description, "CMA7K3Q9X2 chè");
    assert_eq!(credit.booked_at_ms, Some(1_723_692_030_000));
    assert_eq!(credit.bin, None);
}

#[test]
fn sign_chopay_refuses_a_malformed_secret() {
    for bad in [
        "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "whsec_!!!",
        "whsec_c2hvcnQ=",
    ] {
        let result = sign_chopay(&Secret::new(bad.into()), "id", 1, b"{}");
        assert!(matches!(result, Err(WebhookError::Forged(_))), "{bad}");
    }
}

#[test]
fn secrets_are_checked_against_each_providers_rule() {
    assert_eq!(check_secret(Provider::Chopay, SPEC_SECRET), Ok(()));
    let no_prefix = check_secret(Provider::Chopay, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    assert!(no_prefix.unwrap_err().contains("whsec_"));
    let short = check_secret(Provider::Chopay, "whsec_c2hvcnQ=");
    assert!(short.unwrap_err().contains("24 to 64 bytes"));
    assert!(check_secret(Provider::Chopay, "whsec_not base64").is_err());
    for provider in [Provider::PayOs, Provider::Casso, Provider::Sepay] {
        assert_eq!(check_secret(provider, "0123456789abcdef"), Ok(()));
        assert!(
            check_secret(provider, "0123456789abcde")
                .unwrap_err()
                .contains("16 to 256")
        );
        assert!(check_secret(provider, &"x".repeat(257)).is_err());
        assert!(
            check_secret(provider, "0123456789 abcdef")
                .unwrap_err()
                .contains("printable")
        );
        assert!(check_secret(provider, "0123456789abcdeđ").is_err());
    }
}

#[test]
fn generated_secrets_pass_their_own_check() {
    let random = [0xA5; 32];
    let chopay = generate_secret(Provider::Chopay, &random).unwrap();
    assert!(chopay.starts_with("whsec_"));
    assert_eq!(check_secret(Provider::Chopay, &chopay), Ok(()));
    let sepay = generate_secret(Provider::Sepay, &random).unwrap();
    assert_eq!(sepay, "a5".repeat(32));
    assert_eq!(check_secret(Provider::Sepay, &sepay), Ok(()));
    assert_eq!(generate_secret(Provider::PayOs, &random), None);
    assert_eq!(generate_secret(Provider::Casso, &random), None);
}

#[test]
fn secrets_never_show_in_debug_output() {
    let secret = Secret::new("s3cr3t-value-0123".into());
    assert_eq!(format!("{secret:?}"), "Secret(***)");
    assert_eq!(format!("{:?}", [secret]), "[Secret(***)]");
}

#[test]
fn deliveries_never_show_header_values_in_debug_output() {
    let map = headers(&[("authorization", "Apikey 0123456789abcdef0123")]);
    let delivery = Delivery {
        body: b"{}",
        headers: &map,
    };
    let debug = format!("{delivery:?}");
    assert!(debug.contains("authorization"), "{debug}");
    assert!(!debug.contains("0123456789abcdef0123"), "{debug}");
}

#[test]
fn providers_have_stable_names() {
    for provider in Provider::ALL {
        assert_eq!(Provider::parse(provider.as_str()), Some(provider));
    }
    assert_eq!(Provider::parse("payOS"), Some(Provider::PayOs));
    assert_eq!(Provider::parse("vietqr"), None);
}

#[test]
fn replies_carry_the_status_and_the_body_each_provider_expects() {
    let accepted = Reply::Accepted {
        outcome: "matched",
        credit_id: Some(42),
        duplicate: false,
    };
    let (status, body) = reply(Provider::Sepay, accepted);
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"success": true, "outcome": "matched", "duplicate": false, "credit_id": 42})
    );
    let (status, body) = reply(Provider::Chopay, accepted);
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["code"], "accepted");
    assert_eq!(body["credit_id"], 42);
    let duplicate = Reply::Accepted {
        outcome: "static",
        credit_id: None,
        duplicate: true,
    };
    let (_, body) = reply(Provider::PayOs, duplicate);
    assert_eq!(
        body,
        json!({"success": true, "outcome": "static", "duplicate": true})
    );
    let (status, body) = reply(Provider::Casso, Reply::Ignored("outgoing transfer"));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["success"], true);
    assert_eq!(body["message"], "outgoing transfer");
    for provider in Provider::ALL {
        for (answer, expected_status, code) in [
            (Reply::Forged, StatusCode::UNAUTHORIZED, "forged"),
            (
                Reply::Unusable("no amount"),
                StatusCode::BAD_REQUEST,
                "unusable",
            ),
            (
                Reply::Conflict("same id, other amount"),
                StatusCode::CONFLICT,
                "conflict",
            ),
            (
                Reply::Unavailable,
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
            ),
        ] {
            let (status, body) = reply(provider, answer);
            assert_eq!(status, expected_status);
            assert_eq!(body["code"], code);
            assert_eq!(body["success"], false);
            assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
        }
    }
}

#[test]
fn limits_on_headers_and_bodies_are_forged() {
    let secret = secrets(&[SPEC_SECRET]);
    let huge_id = "m".repeat(MAX_HEADER_BYTES + 1);
    let map = headers(&[
        ("webhook-id", &huge_id),
        ("webhook-timestamp", "1614265330"),
        ("webhook-signature", SPEC_SIGNATURE),
    ]);
    let delivery = Delivery {
        body: SPEC_BODY,
        headers: &map,
    };
    let result = verify(
        Provider::Chopay,
        &secret,
        &delivery,
        Clock::at(SPEC_TIMESTAMP),
    );
    assert!(matches!(result, Err(WebhookError::Forged(_))), "{result:?}");

    let big_body = vec![b' '; MAX_BODY_BYTES + 1];
    let empty = HeaderMap::new();
    for provider in Provider::ALL {
        let delivery = Delivery {
            body: &big_body,
            headers: &empty,
        };
        let result = verify(provider, &secret, &delivery, Clock::at(0));
        assert!(matches!(result, Err(WebhookError::Forged(_))), "{provider}");
        let nothing = verify(provider, &[], &delivery, Clock::at(0));
        assert!(
            matches!(nothing, Err(WebhookError::Forged(_))),
            "{provider}"
        );
    }
}

#[test]
fn a_repeated_signature_header_is_forged() {
    let map = headers(&[
        ("webhook-id", SPEC_ID),
        ("webhook-timestamp", "1614265330"),
        ("webhook-signature", SPEC_SIGNATURE),
        ("webhook-signature", SPEC_SIGNATURE),
    ]);
    let delivery = Delivery {
        body: SPEC_BODY,
        headers: &map,
    };
    let result = verify(
        Provider::Chopay,
        &secrets(&[SPEC_SECRET]),
        &delivery,
        Clock::at(SPEC_TIMESTAMP),
    );
    assert!(matches!(result, Err(WebhookError::Forged(_))), "{result:?}");
}

#[test]
fn the_tolerance_comes_from_the_clock() {
    let map = headers(&[
        ("webhook-id", SPEC_ID),
        ("webhook-timestamp", "1614265330"),
        ("webhook-signature", SPEC_SIGNATURE),
    ]);
    let delivery = Delivery {
        body: SPEC_BODY,
        headers: &map,
    };
    let strict = Clock {
        now_unix_s: SPEC_TIMESTAMP + 11,
        tolerance_s: 10,
    };
    let result = verify(
        Provider::Chopay,
        &secrets(&[SPEC_SECRET]),
        &delivery,
        strict,
    );
    assert!(
        matches!(&result, Err(WebhookError::Forged(reason)) if reason.contains("11 s old")),
        "{result:?}"
    );
}

#[test]
fn errors_name_their_code_and_status() {
    let forged = WebhookError::Forged("no signature matches".into());
    assert_eq!(forged.to_string(), "forged: no signature matches");
    assert_eq!(forged.code(), "forged");
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    let unusable = WebhookError::Unusable("no amount".into());
    assert_eq!(unusable.reason(), "no amount");
    assert_eq!(unusable.status(), StatusCode::BAD_REQUEST);
}

/// An authentic chopay delivery: body, headers, secret, clock.
fn authentic_chopay() -> (Vec<u8>, HeaderMap, Vec<Secret>, Clock) {
    let secret = Secret::new(generate_secret(Provider::Chopay, &[3; 32]).unwrap());
    let body = r#"{"transaction_id":"T-9","amount":50000,"description":"CMA7K3Q9X2 bún chả"}"#
        .as_bytes()
        .to_vec();
    let signature = sign_chopay(&secret, "msg_9", 1_700_000_000, &body).unwrap();
    let map = headers(&[
        ("webhook-id", "msg_9"),
        ("webhook-timestamp", "1700000000"),
        ("webhook-signature", &signature),
    ]);
    (body, map, vec![secret], Clock::at(1_700_000_010))
}

/// Header names every verifier reads.
const HEADER_NAMES: [&str; 8] = [
    "x-casso-signature",
    "x-sepay-signature",
    "x-sepay-timestamp",
    "authorization",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "content-type",
];

proptest! {
    #[test]
    fn arbitrary_bodies_and_headers_never_panic(
        body in proptest::collection::vec(any::<u8>(), 0..512),
        values in proptest::collection::vec(
            (0..HEADER_NAMES.len(), proptest::collection::vec(any::<u8>(), 0..96)),
            0..8,
        ),
        now in any::<i64>(),
        tolerance in any::<i64>(),
    ) {
        let mut map = HeaderMap::new();
        for (index, bytes) in values {
            if let (Some(name), Ok(value)) = (HEADER_NAMES.get(index), HeaderValue::from_bytes(&bytes)) {
                map.append(HeaderName::from_static(name), value);
            }
        }
        let delivery = Delivery { body: &body, headers: &map };
        let clock = Clock { now_unix_s: now, tolerance_s: tolerance };
        let channel = secrets(&[SPEC_SECRET, "0123456789abcdef0123"]);
        for provider in Provider::ALL {
            let _ = verify(provider, &channel, &delivery, clock);
        }
    }

    #[test]
    fn json_shaped_bodies_never_panic(
        text in r#"\{("[a-zA-Z_]{1,12}":(-?[0-9]{1,25}(\.[0-9]{1,3})?([eE][+-]?[0-9]{1,3})?|"[^"\\]{0,12}"|null|true|\[\]|\{\}),?){0,8}\}"#,
    ) {
        let map = headers(&[("authorization", "Apikey 0123456789abcdef0123")]);
        let delivery = Delivery { body: text.as_bytes(), headers: &map };
        let channel = secrets(&["0123456789abcdef0123"]);
        for provider in Provider::ALL {
            let _ = verify(provider, &channel, &delivery, Clock::at(0));
        }
    }

    #[test]
    fn flipping_any_byte_of_an_authentic_chopay_body_is_forged(
        index in any::<proptest::sample::Index>(),
        flip in 1u8..=255,
    ) {
        let (mut body, map, channel, clock) = authentic_chopay();
        let authentic = verify(Provider::Chopay, &channel, &Delivery { body: &body, headers: &map }, clock);
        prop_assert!(matches!(authentic, Ok(Verified::Credit(_))), "{:?}", authentic);
        let at = index.index(body.len());
        if let Some(byte) = body.get_mut(at) {
            *byte ^= flip;
        }
        let result = verify(Provider::Chopay, &channel, &Delivery { body: &body, headers: &map }, clock);
        prop_assert!(matches!(result, Err(WebhookError::Forged(_))), "{:?}", result);
    }
}
