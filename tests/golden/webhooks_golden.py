#!/usr/bin/env python3
"""Independent reference signer for the bank callbacks chopay accepts.

Writes webhooks.jsonl (next to this script): one delivery per line, with the
channel secrets, the headers, the exact body text, the time of verification and
what verification must give. Spec: shared/design/WEBHOOKS.md (payOS, Casso v2,
SePay, chopay/Standard Webhooks).

    python3 tests/golden/webhooks_golden.py           # (re)write webhooks.jsonl
    python3 tests/golden/webhooks_golden.py --check   # exit 1 if the file differs

Each line: {"name", "provider", "secrets", "headers", "body", "now", "expect",
"credit"}; expect is "credit", "ignored", "forged" or "unusable"; credit is the
normalized bank credit (amount as a string of dong, booked_at_ms UTC
milliseconds, null for absent fields) when expect is "credit", else null.

Standard library only; written from WEBHOOKS.md, not from the Rust code.
Everything is fixed (secrets, ids, times), so the output is deterministic.
"""
import base64
import copy
import difflib
import hashlib
import hmac
import json
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

OUT = Path(__file__).resolve().parent / "webhooks.jsonl"

# Time of verification: 2024-08-15 03:25:30 UTC (10:25:30 in Ha Noi).
NOW = 1723692330
TOLERANCE = 300
VN = timezone(timedelta(hours=7))

PAYOS_KEY = "1a54716c8f0efb2744fb28b6e38b25da7f67a925d98bc1c18bd8faaecadd7675"
PAYOS_KEY_OLD = "0f9e8d7c6b5a49382716051f2e3d4c5b6a79880f1e2d3c4b5a69788796a5b4c3"
CASSO_KEY = "casso-webhook-key-cho-mo-2024-A1b2C3"
CASSO_KEY_OLD = "casso-webhook-key-cho-mo-2023-Z9y8X7"
SEPAY_KEY = "4f3c2b1a0998877665544332211ffeeddccbbaa99887766554433221100aabbc"
SEPAY_KEY_OLD = "sepay-old-api-key-0123456789abcdef"
CHOPAY_KEY = "whsec_" + base64.b64encode(bytes(range(1, 33))).decode()
CHOPAY_KEY_OLD = "whsec_" + base64.b64encode(bytes(range(100, 124))).decode()
SPEC_KEY = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

CREDIT_KEYS = ["provider_txn_id", "amount", "account", "bin", "virtual_account",
               "description", "counterparty_name", "counterparty_account",
               "counterparty_bank", "booked_at_ms", "payment_code"]

CASES = []


def add(name, provider, secrets, headers, body, expect, credit=None, now=NOW):
    assert expect in ("credit", "ignored", "forged", "unusable"), expect
    assert (expect == "credit") == (credit is not None), name
    if credit is not None:
        assert sorted(credit) == sorted(CREDIT_KEYS), (name, sorted(credit))
        credit = {k: credit[k] for k in CREDIT_KEYS}
    CASES.append({"name": name, "provider": provider, "secrets": secrets,
                  "headers": headers, "body": body, "now": now,
                  "expect": expect, "credit": credit})


def compact(obj):
    """The body as a provider typically sends it: compact, UTF-8."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def reversed_keys(obj):
    if isinstance(obj, dict):
        return {k: reversed_keys(obj[k]) for k in reversed(list(obj))}
    if isinstance(obj, list):
        return [reversed_keys(v) for v in obj]
    return obj


def reserialized(obj):
    """Same JSON value, other key order, other spacing, non-ASCII escaped."""
    return json.dumps(reversed_keys(obj), ensure_ascii=True, indent=2)


def hmac_hex(key, message, algo):
    return hmac.new(key.encode(), message.encode(), algo).hexdigest()


def flip_hex(h):
    """The same signature with its first hex digit changed."""
    return ("1" if h[0] != "1" else "2") + h[1:]


def vn_ms(text):
    """'YYYY-MM-DD HH:MM:SS' in Vietnam time -> UTC milliseconds."""
    dt = datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=VN)
    return int(dt.timestamp()) * 1000


def rfc3339_ms(text):
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert dt.tzinfo is not None, text
    return int(dt.timestamp() * 1000)


def opt(value):
    """Optional text fields: missing, null or empty string mean absent."""
    if value is None or value == "":
        return None
    return str(value)


# ---------------------------------------------------------------- payOS ---

def payos_value(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, dict)):
        return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return str(v)  # strings raw; ints as written (json.dumps writes str(int))


def payos_sign(data, key):
    query = "&".join(f"{k}={payos_value(data[k])}" for k in sorted(data))
    return hmac_hex(key, query, hashlib.sha256)


def payos_body(data, key=PAYOS_KEY, code="00", desc="success", success=True):
    return {"code": code, "desc": desc, "success": success, "data": data,
            "signature": payos_sign(data, key)}


def payos_data(**changes):
    data = {
        "orderCode": 20240815001,
        "amount": 180000,
        "description": "CMA7K3Q9X2 Nguyễn Thị Hương trả tiền rau muống",
        "accountNumber": "0352350917",
        "reference": "FT24228819562301",
        "transactionDateTime": "2024-08-15 10:20:30",
        "currency": "VND",
        "paymentLinkId": "8f3c2a1b4d5e6f708192a3b4c5d6e7f8",
        "code": "00",
        "desc": "Thành công",
        "counterAccountBankId": "970436",
        "counterAccountBankName": "Ngân hàng TMCP Ngoại thương Việt Nam",
        "counterAccountName": "NGUYEN THI HUONG",
        "counterAccountNumber": "1012345678",
        "virtualAccountName": "",
        "virtualAccountNumber": "",
    }
    data.update(changes)
    return data


def payos_credit(data):
    reference = opt(data.get("reference"))
    txn = reference or f"{data['paymentLinkId']}:{data['orderCode']}"
    return {
        "provider_txn_id": txn,
        "amount": str(data["amount"]),
        "account": opt(data.get("accountNumber")),
        "bin": None,
        "virtual_account": opt(data.get("virtualAccountNumber")),
        "description": data.get("description") or "",
        "counterparty_name": opt(data.get("counterAccountName")),
        "counterparty_account": opt(data.get("counterAccountNumber")),
        "counterparty_bank": opt(data.get("counterAccountBankName")) or opt(data.get("counterAccountBankId")),
        "booked_at_ms": vn_ms(data["transactionDateTime"]) if data.get("transactionDateTime") else None,
        "payment_code": None,
    }


def payos_cases():
    data = payos_data()
    body = payos_body(data)
    add("payos_credit_vietnamese", "payos", [PAYOS_KEY], {}, compact(body), "credit", payos_credit(data))

    nulls = payos_data(counterAccountBankId=None, counterAccountBankName=None,
                       counterAccountName=None, counterAccountNumber=None,
                       virtualAccountName=None, virtualAccountNumber=None,
                       description="Chuyển khoản chợ Mơ")
    add("payos_nulls_in_optional_fields", "payos", [PAYOS_KEY], {}, compact(payos_body(nulls)),
        "credit", payos_credit(nulls))

    add("payos_reserialized_body_still_verifies", "payos", [PAYOS_KEY], {}, reserialized(body),
        "credit", payos_credit(data))

    upper = dict(body, signature=body["signature"].upper())
    add("payos_upper_case_signature", "payos", [PAYOS_KEY], {}, compact(upper), "credit", payos_credit(data))

    tampered = copy.deepcopy(body)
    tampered["data"]["amount"] = 1800000
    add("payos_tampered_amount", "payos", [PAYOS_KEY], {}, compact(tampered), "forged")

    extra = copy.deepcopy(body)
    extra["data"]["note"] = "added after signing"
    add("payos_extra_field_in_data", "payos", [PAYOS_KEY], {}, compact(extra), "forged")

    bad_sig = dict(body, signature=flip_hex(body["signature"]))
    add("payos_tampered_signature", "payos", [PAYOS_KEY], {}, compact(bad_sig), "forged")

    add("payos_wrong_secret", "payos", [PAYOS_KEY_OLD], {}, compact(body), "forged")

    add("payos_rotation_new_key_among_two", "payos", [PAYOS_KEY_OLD, PAYOS_KEY], {}, compact(body),
        "credit", payos_credit(data))

    add("payos_not_json", "payos", [PAYOS_KEY], {}, "code=00&signature=" + body["signature"], "forged")

    no_sig = {k: v for k, v in body.items() if k != "signature"}
    add("payos_missing_signature", "payos", [PAYOS_KEY], {}, compact(no_sig), "forged")

    failed = payos_body(payos_data(code="01", desc="Giao dịch thất bại"), code="01",
                        desc="Giao dịch thất bại", success=False)
    add("payos_failure_is_ignored", "payos", [PAYOS_KEY], {}, compact(failed), "ignored")

    # The sample payOS sends when a webhook URL is confirmed (its documentation's data).
    sample = {"orderCode": 123, "amount": 3000, "description": "VQRIO123",
              "accountNumber": "12345678", "reference": "TF230204212323",
              "transactionDateTime": "2023-02-04 18:25:00", "currency": "VND",
              "paymentLinkId": "124c33293c43417ab7879e14c8d9eb18", "code": "00",
              "desc": "Thành công", "counterAccountBankId": "", "counterAccountBankName": "",
              "counterAccountName": "", "counterAccountNumber": "", "virtualAccountName": "",
              "virtualAccountNumber": ""}
    add("payos_confirmation_sample_is_ignored", "payos", [PAYOS_KEY], {},
        compact(payos_body(sample)), "ignored")

    add("payos_zero_amount", "payos", [PAYOS_KEY], {}, compact(payos_body(payos_data(amount=0))),
        "unusable")
    add("payos_float_amount", "payos", [PAYOS_KEY], {},
        compact(payos_body(payos_data(amount=180000.0))), "unusable")

    no_ref = payos_data(reference="")
    add("payos_empty_reference_falls_back_to_link_and_order", "payos", [PAYOS_KEY], {},
        compact(payos_body(no_ref)), "credit", payos_credit(no_ref))


# ---------------------------------------------------------------- Casso ---

def casso_canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def casso_sig(t_ms, obj, key=CASSO_KEY):
    return hmac_hex(key, f"{t_ms}.{casso_canonical(obj)}", hashlib.sha512)


def casso_header(t_ms, *sigs):
    return {"X-Casso-Signature": ",".join([f"t={t_ms}"] + [f"v1={s}" for s in sigs])}


def casso_tx(**changes):
    tx = {
        "id": 8231577,
        "reference": "MBVCB.6735491020",
        "description": "CMA7K3Q9X2 Trần Văn Bình mua cá chép",
        "amount": 250000,
        "runningBalance": 10250000,
        "transactionDateTime": "2024-08-15 10:21:05",
        "accountNumber": "0352350917",
        "bankName": "Ngân hàng TMCP Quân đội",
        "bankAbbreviation": "MBBank",
        "virtualAccountNumber": "VQRCMA0001",
        "virtualAccountName": "Chợ Mơ sạp 12",
        "counterAccountName": "TRAN VAN BINH",
        "counterAccountNumber": "19034567890123",
        "counterAccountBankId": "970407",
        "counterAccountBankName": "Techcombank",
    }
    tx.update(changes)
    return tx


def casso_credit(tx):
    return {
        "provider_txn_id": str(tx["id"]),
        "amount": str(tx["amount"]),
        "account": opt(tx.get("accountNumber")),
        "bin": None,
        "virtual_account": opt(tx.get("virtualAccountNumber")),
        "description": tx.get("description") or "",
        "counterparty_name": opt(tx.get("counterAccountName")),
        "counterparty_account": opt(tx.get("counterAccountNumber")),
        "counterparty_bank": opt(tx.get("counterAccountBankName")) or opt(tx.get("counterAccountBankId")),
        "booked_at_ms": vn_ms(tx["transactionDateTime"]) if tx.get("transactionDateTime") else None,
        "payment_code": None,
    }


def casso_add(name, obj, expect, credit=None, t_ms=NOW * 1000, key=CASSO_KEY,
              secrets=(CASSO_KEY,), text=None):
    add(name, "casso", list(secrets), casso_header(t_ms, casso_sig(t_ms, obj, key)),
        compact(obj) if text is None else text, expect, credit)


def casso_cases():
    tx = casso_tx()
    body = {"error": 0, "data": tx}
    t = NOW * 1000
    casso_add("casso_credit_vietnamese", body, "credit", casso_credit(tx))

    nulls = casso_tx(virtualAccountNumber=None, virtualAccountName=None, counterAccountName=None,
                     counterAccountNumber=None, counterAccountBankId=None,
                     counterAccountBankName=None, description="Tiền hàng tháng 8")
    casso_add("casso_nulls_in_optional_fields", {"error": 0, "data": nulls}, "credit", casso_credit(nulls))

    casso_add("casso_reserialized_body_still_verifies", body, "credit", casso_credit(tx),
              text=reserialized(body))

    # Escapes and numbers Python re-writes: the canonical form must agree byte for byte.
    tricky = casso_tx(description='Chuyển "tiền" \\ cô Ba\n\tđợt 2\u0001 🐟 café',
                      id="TXN-2024-08-15-000042")
    tricky_text = (
        '{"data": ' + json.dumps(tricky, ensure_ascii=False)[:-1]
        + ', "meta": {"rate": 2.50, "big": 12345678901234567890123, "neg0": -0,'
        + ' "exp": 1E3, "tiny": 1.5e-7, "huge": 1e16, "list": [null, true, false, {"b": 1, "a": [ ]}]}}'
        + ', "error": 0}'
    )
    tricky_obj = json.loads(tricky_text)
    casso_add("casso_escapes_floats_and_nested_values", tricky_obj, "credit", casso_credit(tricky),
              text=tricky_text)

    tampered = copy.deepcopy(body)
    tampered["data"]["amount"] = 2500000
    add("casso_tampered_amount", "casso", [CASSO_KEY], casso_header(t, casso_sig(t, body)),
        compact(tampered), "forged")
    add("casso_tampered_signature", "casso", [CASSO_KEY],
        casso_header(t, flip_hex(casso_sig(t, body))), compact(body), "forged")
    casso_add("casso_wrong_secret", body, "forged", key=CASSO_KEY_OLD)
    casso_add("casso_rotation_new_key_among_two", body, "credit", casso_credit(tx),
              secrets=(CASSO_KEY_OLD, CASSO_KEY))
    add("casso_second_signature_matches", "casso", [CASSO_KEY],
        casso_header(t, casso_sig(t, body, CASSO_KEY_OLD), casso_sig(t, body)), compact(body),
        "credit", casso_credit(tx))

    casso_add("casso_stale_timestamp", body, "forged", t_ms=(NOW - 301) * 1000)
    casso_add("casso_future_timestamp", body, "forged", t_ms=(NOW + 301) * 1000)
    casso_add("casso_timestamp_at_the_tolerance", body, "credit", casso_credit(tx),
              t_ms=(NOW - 300) * 1000)
    casso_add("casso_timestamp_in_seconds_not_ms", body, "forged", t_ms=NOW)
    add("casso_non_numeric_timestamp", "casso", [CASSO_KEY],
        {"X-Casso-Signature": f"t=abc,v1={casso_sig('abc', body)}"}, compact(body), "forged")
    add("casso_missing_header", "casso", [CASSO_KEY], {}, compact(body), "forged")

    out_tx = casso_tx(amount=-120000, description="Trả tiền điện")
    casso_add("casso_outgoing_is_ignored", {"error": 0, "data": out_tx}, "ignored")
    casso_add("casso_zero_amount", {"error": 0, "data": casso_tx(amount=0)}, "unusable")
    casso_add("casso_data_array_of_one", {"error": 0, "data": [tx]}, "credit", casso_credit(tx))
    casso_add("casso_data_array_of_two", {"error": 0, "data": [tx, casso_tx(id=8231578)]}, "unusable")


# ---------------------------------------------------------------- SePay ---

def sepay_tx(**changes):
    tx = {
        "id": 92704,
        "gateway": "Vietcombank",
        "transactionDate": "2024-08-15 10:22:41",
        "accountNumber": "1012345678",
        "subAccount": "VCB0001CMA",
        "code": "CMA7K3Q9X2",
        "content": "CMA7K3Q9X2 Lê Thị Cúc thanh toán đồ khô",
        "transferType": "in",
        "transferAmount": 95000,
        "accumulated": 19077000,
        "referenceCode": "MBVCB.3278907687",
        "description": "BankAPINotify CMA7K3Q9X2 Lê Thị Cúc thanh toán đồ khô",
    }
    tx.update(changes)
    return tx


def sepay_credit(tx):
    content = tx.get("content")
    return {
        "provider_txn_id": str(tx["id"]),
        "amount": str(tx["transferAmount"]),
        "account": opt(tx.get("accountNumber")),
        "bin": None,
        "virtual_account": opt(tx.get("subAccount")),
        "description": content if content is not None else (tx.get("description") or ""),
        "counterparty_name": None,
        "counterparty_account": None,
        "counterparty_bank": None,
        "booked_at_ms": vn_ms(tx["transactionDate"]) if tx.get("transactionDate") else None,
        "payment_code": opt(tx.get("code")),
    }


def apikey(key=SEPAY_KEY, scheme="Apikey"):
    return {"Authorization": f"{scheme} {key}"}


def sepay_hmac_headers(ts, text, key=SEPAY_KEY, extra_sigs=()):
    sig = "sha256=" + hmac_hex(key, f"{ts}.{text}", hashlib.sha256)
    return {"X-SePay-Signature": ",".join(list(extra_sigs) + [sig]), "X-SePay-Timestamp": str(ts)}


def sepay_cases():
    tx = sepay_tx()
    text = compact(tx)
    add("sepay_apikey_credit_vietnamese", "sepay", [SEPAY_KEY], apikey(), text, "credit", sepay_credit(tx))
    add("sepay_apikey_scheme_is_case_insensitive", "sepay", [SEPAY_KEY], apikey(scheme="APIKEY"),
        text, "credit", sepay_credit(tx))
    add("sepay_apikey_reserialized_body_is_fine", "sepay", [SEPAY_KEY], apikey(), reserialized(tx),
        "credit", sepay_credit(tx))
    add("sepay_apikey_wrong_key", "sepay", [SEPAY_KEY], apikey(SEPAY_KEY_OLD), text, "forged")
    add("sepay_apikey_bearer_scheme", "sepay", [SEPAY_KEY], apikey(scheme="Bearer"), text, "forged")
    add("sepay_no_authentication", "sepay", [SEPAY_KEY], {}, text, "forged")
    add("sepay_apikey_rotation", "sepay", [SEPAY_KEY_OLD, SEPAY_KEY], apikey(), text, "credit",
        sepay_credit(tx))

    nulls = sepay_tx(code=None, subAccount=None, content=None, referenceCode=None,
                     description="Chuyển tiền hàng chợ Mơ")
    add("sepay_nulls_and_description_fallback", "sepay", [SEPAY_KEY], apikey(), compact(nulls),
        "credit", sepay_credit(nulls))

    out_tx = sepay_tx(transferType="out", content="Rút tiền mặt", code=None)
    add("sepay_outgoing_is_ignored", "sepay", [SEPAY_KEY], apikey(), compact(out_tx), "ignored")
    add("sepay_zero_amount", "sepay", [SEPAY_KEY], apikey(), compact(sepay_tx(transferAmount=0)),
        "unusable")

    ts = NOW - 2
    add("sepay_hmac_credit", "sepay", [SEPAY_KEY], sepay_hmac_headers(ts, text), text, "credit",
        sepay_credit(tx))
    add("sepay_hmac_reserialized_body_is_forged", "sepay", [SEPAY_KEY], sepay_hmac_headers(ts, text),
        reserialized(tx), "forged")
    tampered = compact(sepay_tx(transferAmount=950000))
    add("sepay_hmac_tampered_amount", "sepay", [SEPAY_KEY], sepay_hmac_headers(ts, text), tampered,
        "forged")
    add("sepay_hmac_wrong_secret", "sepay", [SEPAY_KEY], sepay_hmac_headers(ts, text, SEPAY_KEY_OLD),
        text, "forged")
    add("sepay_hmac_stale_timestamp", "sepay", [SEPAY_KEY], sepay_hmac_headers(NOW - 301, text), text,
        "forged")
    add("sepay_hmac_future_timestamp", "sepay", [SEPAY_KEY], sepay_hmac_headers(NOW + 301, text), text,
        "forged")
    add("sepay_hmac_non_numeric_timestamp", "sepay", [SEPAY_KEY], sepay_hmac_headers("soon", text),
        text, "forged")
    wrong = "sha256=" + hmac_hex(SEPAY_KEY_OLD, f"{ts}.{text}", hashlib.sha256)
    add("sepay_hmac_second_signature_matches", "sepay", [SEPAY_KEY],
        sepay_hmac_headers(ts, text, extra_sigs=[wrong]), text, "credit", sepay_credit(tx))
    # With a signature header present, a valid API key does not rescue a bad signature.
    both = sepay_hmac_headers(ts, text, SEPAY_KEY_OLD) | apikey()
    add("sepay_hmac_failure_is_not_rescued_by_apikey", "sepay", [SEPAY_KEY], both, text, "forged")


# --------------------------------------------------------------- chopay ---

def chopay_sign(key, msg_id, ts, text):
    secret = base64.b64decode(key[len("whsec_"):])
    mac = hmac.new(secret, f"{msg_id}.{ts}.{text}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def chopay_headers(msg_id, ts, *sigs):
    return {"webhook-id": msg_id, "webhook-timestamp": str(ts), "webhook-signature": " ".join(sigs)}


def chopay_credit(body):
    booked = body.get("booked_at")
    return {
        "provider_txn_id": str(body["transaction_id"]),
        "amount": str(body["amount"]),
        "account": opt(body.get("account_number")),
        "bin": opt(body.get("bin")),
        "virtual_account": None,
        "description": body["description"],
        "counterparty_name": opt(body.get("counterparty_name")),
        "counterparty_account": opt(body.get("counterparty_account")),
        "counterparty_bank": None,
        "booked_at_ms": rfc3339_ms(booked) if booked else None,
        "payment_code": None,
    }


def chopay_body(**changes):
    body = {
        "transaction_id": "VCB-20240815-000731",
        "amount": "50000",
        "account_number": "1012345678",
        "bin": "970436",
        "description": "CMA7K3Q9X2 Phạm Đức Long mua bánh đa cua",
        "counterparty_name": "PHAM DUC LONG",
        "counterparty_account": "0987654321",
        "booked_at": "2024-08-15T10:23:12+07:00",
    }
    body.update(changes)
    return body


def chopay_add(name, body_text, expect, credit=None, key=CHOPAY_KEY, ts=NOW - 1,
               msg_id="msg_2kQe9fW7Lr4tXb8Zc1Vn", secrets=(CHOPAY_KEY,), signed_text=None):
    sig = chopay_sign(key, msg_id, ts, body_text if signed_text is None else signed_text)
    add(name, "chopay", list(secrets), chopay_headers(msg_id, ts, sig), body_text, expect, credit)


def chopay_cases():
    # The Standard Webhooks specification's published vector: authentic, but not a credit.
    spec_sig = chopay_sign(SPEC_KEY, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, '{"test": 2432232314}')
    assert spec_sig == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", spec_sig
    add("chopay_standard_webhooks_spec_vector", "chopay", [SPEC_KEY],
        chopay_headers("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, spec_sig),
        '{"test": 2432232314}', "unusable", now=1614265330)

    body = chopay_body()
    text = compact(body)
    chopay_add("chopay_credit_vietnamese", text, "credit", chopay_credit(body))

    integer = chopay_body(amount=50000, transaction_id=7310042)
    chopay_add("chopay_integer_amount_and_id", compact(integer), "credit", chopay_credit(integer))

    nulls = chopay_body(account_number=None, bin=None, counterparty_name=None,
                        counterparty_account=None, description="")
    del nulls["booked_at"]
    chopay_add("chopay_nulls_and_empty_description", compact(nulls), "credit", chopay_credit(nulls))

    chopay_add("chopay_reserialized_body_is_forged", reserialized(body), "forged", signed_text=text)
    chopay_add("chopay_tampered_amount", compact(chopay_body(amount="500000")), "forged",
               signed_text=text)
    good = chopay_sign(CHOPAY_KEY, "msg_2kQe9fW7Lr4tXb8Zc1Vn", NOW - 1, text)
    bad = good[:3] + ("A" if good[3] != "A" else "B") + good[4:]
    add("chopay_tampered_signature", "chopay", [CHOPAY_KEY],
        chopay_headers("msg_2kQe9fW7Lr4tXb8Zc1Vn", NOW - 1, bad), text, "forged")
    add("chopay_other_webhook_id", "chopay", [CHOPAY_KEY],
        chopay_headers("msg_other", NOW - 1, good), text, "forged")
    chopay_add("chopay_wrong_secret", text, "forged", key=CHOPAY_KEY_OLD)
    chopay_add("chopay_rotation_new_key_among_two", text, "credit", chopay_credit(body),
               secrets=(CHOPAY_KEY_OLD, CHOPAY_KEY))
    old = chopay_sign(CHOPAY_KEY_OLD, "msg_2kQe9fW7Lr4tXb8Zc1Vn", NOW - 1, text)
    add("chopay_second_signature_matches", "chopay", [CHOPAY_KEY],
        chopay_headers("msg_2kQe9fW7Lr4tXb8Zc1Vn", NOW - 1, old, good), text, "credit",
        chopay_credit(body))
    add("chopay_unknown_versions_are_ignored", "chopay", [CHOPAY_KEY],
        chopay_headers("msg_2kQe9fW7Lr4tXb8Zc1Vn", NOW - 1, "v2,bm90IGEgc2lnbmF0dXJl", good),
        text, "credit", chopay_credit(body))
    add("chopay_only_unknown_versions", "chopay", [CHOPAY_KEY],
        chopay_headers("msg_2kQe9fW7Lr4tXb8Zc1Vn", NOW - 1, "v1a," + good[3:]), text, "forged")
    add("chopay_seventeen_signatures", "chopay", [CHOPAY_KEY],
        chopay_headers("msg_2kQe9fW7Lr4tXb8Zc1Vn", NOW - 1, *([old] * 16 + [good])), text, "forged")

    chopay_add("chopay_stale_timestamp", text, "forged", ts=NOW - 301)
    chopay_add("chopay_future_timestamp", text, "forged", ts=NOW + 301)
    add("chopay_non_numeric_timestamp", "chopay", [CHOPAY_KEY],
        chopay_headers("msg_2kQe9fW7Lr4tXb8Zc1Vn", "1723692329.5",
                       chopay_sign(CHOPAY_KEY, "msg_2kQe9fW7Lr4tXb8Zc1Vn", "1723692329.5", text)),
        text, "forged")

    chopay_add("chopay_float_amount", compact(chopay_body(amount=50000.0)), "unusable")
    chopay_add("chopay_exponent_amount", text.replace('"amount":"50000"', '"amount":5e4'), "unusable")
    chopay_add("chopay_zero_amount", compact(chopay_body(amount="0")), "unusable")
    chopay_add("chopay_amount_over_the_maximum", compact(chopay_body(amount="10000000000000")),
               "unusable")
    no_desc = chopay_body()
    del no_desc["description"]
    chopay_add("chopay_missing_description", compact(no_desc), "unusable")
    chopay_add("chopay_missing_transaction_id", compact(chopay_body(transaction_id="")), "unusable")
    chopay_add("chopay_bad_json_after_valid_signature", text[:-1], "unusable")


def render():
    CASES.clear()
    payos_cases()
    casso_cases()
    sepay_cases()
    chopay_cases()
    names = [c["name"] for c in CASES]
    assert len(names) == len(set(names)), "duplicate case names"
    assert 40 <= len(CASES) <= 90, len(CASES)
    return "".join(json.dumps(c, ensure_ascii=False, separators=(",", ":")) + "\n" for c in CASES)


def main() -> int:
    text = render()
    if "--check" in sys.argv[1:]:
        old = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
        if old == text:
            print(f"ok: {OUT} is up to date ({len(CASES)} cases)")
            return 0
        sys.stdout.writelines(difflib.unified_diff(
            old.splitlines(keepends=True), text.splitlines(keepends=True),
            fromfile=f"{OUT} (on disk)", tofile=f"{OUT} (regenerated)"))
        print(f"\nerror: {OUT} is stale; rerun without --check", file=sys.stderr)
        return 1
    OUT.write_text(text, encoding="utf-8", newline="\n")
    print(f"wrote {len(CASES)} cases to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
