#!/usr/bin/env python3
"""Independent reference encoder for VietQR (NAPAS profile of EMVCo MPM).

Writes vietqr.jsonl (next to this script): one golden case per line, the
unfolded user inputs plus the encoded `payload`. Spec: shared/design/VIETQR.md.

    python3 tests/golden/vietqr_golden.py           # (re)write vietqr.jsonl
    python3 tests/golden/vietqr_golden.py --check   # exit 1 if the file differs

Standard library only; deliberately written without looking at the Rust code.
"""
import difflib
import json
import re
import sys
import unicodedata
from pathlib import Path

OUT = Path(__file__).resolve().parent / "vietqr.jsonl"

# Input keys in output order (the "payload" key is appended last).
KEYS = ["name", "bin", "account", "service", "amount", "mcc", "merchant_name",
        "merchant_city", "bill_number", "mobile", "store_label",
        "reference_label", "terminal_label", "purpose"]
# 62 sub-tags, ascending.
SUB62 = [("01", "bill_number"), ("02", "mobile"), ("03", "store_label"),
         ("05", "reference_label"), ("07", "terminal_label"), ("08", "purpose")]


def crc16_ccitt_false(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no xorout."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


assert crc16_ccitt_false(b"123456789") == 0x29B1


def fold(s: str) -> str:
    """NFKD, drop combining marks, đ/Đ -> d/D, keep printable ASCII only."""
    s = "".join(c for c in unicodedata.normalize("NFKD", s) if unicodedata.combining(c) == 0)
    s = s.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in s if 0x20 <= ord(c) <= 0x7E)


def tlv(tag: str, value: str) -> str:
    assert value.isascii() and 0 < len(value) <= 99, (tag, value)
    return f"{tag}{len(value):02d}{value}"


def encode(c: dict) -> str:
    """Encode one case; asserts every validity rule so no invalid case is emitted."""
    assert re.fullmatch(r"[0-9]{6}", c["bin"]), c["bin"]
    acct_re = r"[0-9]{1,19}" if c["service"] == "card" else r"[A-Za-z0-9]{1,19}"
    assert re.fullmatch(acct_re, c["account"]), c["account"]
    service = {"account": "QRIBFTTA", "card": "QRIBFTTC"}[c["service"]]
    amount = c["amount"]
    if amount is not None:  # 1..9999999999999, digits, no leading zeros
        assert re.fullmatch(r"[1-9][0-9]{0,12}", amount), amount

    out = tlv("00", "01") + tlv("01", "12" if amount is not None else "11")
    beneficiary = tlv("00", c["bin"]) + tlv("01", c["account"])
    out += tlv("38", tlv("00", "A000000727") + tlv("01", beneficiary) + tlv("02", service))
    if c["mcc"] is not None:
        assert re.fullmatch(r"[0-9]{4}", c["mcc"]), c["mcc"]
        out += tlv("52", c["mcc"])
    out += tlv("53", "704")
    if amount is not None:
        out += tlv("54", amount)
    out += tlv("58", "VN")
    for tag, key, limit in (("59", "merchant_name", 25), ("60", "merchant_city", 15)):
        if c[key] is not None:
            v = fold(c[key])
            assert 0 < len(v) <= limit, (key, v)
            out += tlv(tag, v)
    sub = ""
    for tag, key in SUB62:
        if c[key] is not None:
            v = fold(c[key])
            assert 0 < len(v) <= 25, (key, v)
            sub += tlv(tag, v)
    if sub:
        out += tlv("62", sub)  # tlv() asserts the whole 62 value is <= 99
    out += "6304"
    return out + f"{crc16_ccitt_false(out.encode('utf-8')):04X}"


def case(name, bin, account, service="account", expect=None, **opts):
    """Build a case dict with every input key present (None when not given)."""
    unknown = set(opts) - set(KEYS)
    assert not unknown, unknown
    c = {k: None for k in KEYS} | {"name": name, "bin": bin, "account": account,
                                   "service": service} | opts
    c["_expect"] = expect
    return c


CASES = [
    # --- Public examples from VIETQR.md (expected payloads checked below) ---
    case("public_napas_dynamic_account", "970403", "0011012345678", amount="180000",
         bill_number="NPS6869", purpose="thanh toan don hang",
         expect="00020101021238570010A00000072701270006970403011300110123456780208QRIBFTTA530370454061800005802VN62340107NPS68690819thanh toan don hang63042E2E"),
    case("public_napas_static_card", "970403", "9704031101234567", service="card",
         expect="00020101021138600010A00000072701300006970403011697040311012345670208QRIBFTTC53037045802VN63044F52"),
    case("public_acb_static", "970416", "257678859",
         expect="00020101021138530010A0000007270123000697041601092576788590208QRIBFTTA53037045802VN6304AE9F"),
    # Published with a lower-case CRC "79db"; a strict encoder emits "79DB".
    case("public_mb_static_uppercased_crc", "970422", "0352350917",
         expect="00020101021138540010A00000072701240006970422011003523509170208QRIBFTTA53037045802VN630479DB"),
    # --- Static codes, account numbers of various lengths ---
    case("static_account_len1", "970436", "7"),
    case("static_account_len6", "970415", "123456"),
    case("static_account_len10_vcb", "970436", "1012345678"),
    case("static_account_len13_agribank", "970405", "1500205123456"),
    case("static_account_len16_techcombank", "970407", "1903456789012345"),
    case("static_account_len19_bidv", "970418", "1234567890123456789"),
    case("static_virtual_account_uppercase", "970432", "VQR0123ABC"),
    case("static_with_purpose_cho_mo", "970422", "0352350917", purpose="Chuyển tiền chợ Mơ"),
    # --- Dynamic codes: amounts at the edges and typical ones ---
    case("dynamic_amount_1", "970436", "1012345678", amount="1"),
    case("dynamic_amount_1000", "970416", "257678859", amount="1000"),
    case("dynamic_amount_50000_rau_muong", "970415", "108871234567", amount="50000",
         purpose="Mua rau muống"),
    case("dynamic_amount_180000_order", "970422", "0352350917", amount="180000",
         purpose="Thanh toán đơn hàng"),
    case("dynamic_amount_max", "970418", "21510001234567", amount="9999999999999"),
    case("dynamic_dac_san_ba_vi", "970405", "1500205123456", amount="250000",
         purpose="Đặc sản Ba Vì"),
    case("dynamic_cam_on", "970407", "19034567890123", amount="35000",
         purpose="Cảm ơn quý khách"),
    case("dynamic_reference_only", "970432", "VQR0123ABC", amount="120000",
         reference_label="CMA7K3Q9X2"),
    case("dynamic_reference_and_purpose", "970436", "1012345678", amount="75000",
         reference_label="CMA7K3Q9X2", purpose="CMA7K3Q9X2 rau sach"),
    case("dynamic_bill_number", "970403", "0011012345678", amount="499000",
         bill_number="HD20240815001"),
    # "Đơn hàng số ..." folds to exactly 25 characters: "Don hang so 12345 ngay 15".
    case("dynamic_purpose_25_chars_at_limit", "970422", "0352350917", amount="60000",
         purpose="Đơn hàng số 12345 ngày 15"),
    # --- Card service ---
    case("static_card_vcb", "970436", "9704366800123456", service="card"),
    case("dynamic_card_19_digits", "970418", "9704180012345678901", service="card",
         amount="50000", purpose="Nạp tiền thẻ"),
    # --- Wallets / digital banks ---
    case("momo_wallet_static", "971025", "99MM24011M34875080",
         reference_label="MOMOW2W52190482"),
    case("momo_wallet_dynamic", "971025", "99MM24011M34875080", amount="20000",
         reference_label="MOMOW2W52190482", purpose="Tiền cà phê"),
    case("cake_by_vpbank", "546034", "0987654321", amount="1000",
         purpose="Chuyển khoản"),
    # --- Merchant codes: mcc, name, city, store/terminal labels, mobile ---
    case("merchant_mcc_name_city_static", "970415", "113600012345", mcc="5411",
         merchant_name="Nguyễn Thị Hương", merchant_city="Hà Nội"),
    case("merchant_store_terminal", "970416", "257678859", mcc="5411", amount="180000",
         merchant_name="Tạp hóa Bà Tư", merchant_city="Hà Nội",
         store_label="CH Đống Đa", terminal_label="QUAY01"),
    case("merchant_mobile", "970403", "060212345678", mobile="0912345678",
         purpose="Đặt bàn tối nay"),
    case("merchant_name_only", "970436", "1012345678", merchant_name="Chợ Mơ"),
    case("all_optional_fields", "970407", "19034567890123", amount="180000", mcc="5411",
         merchant_name="Nguyễn Thị Hương", merchant_city="Hà Nội",
         bill_number="HD0815", mobile="0912345678", store_label="Chợ Mơ",
         reference_label="CMA7K3Q9X2", terminal_label="T01",
         purpose="Thanh toán đơn hàng"),
]


def render() -> str:
    lines, names = [], set()
    for c in CASES:
        assert c["name"] not in names, c["name"]
        names.add(c["name"])
        payload = encode(c)
        if c["_expect"] is not None:  # public examples must match byte for byte
            assert payload == c["_expect"], (c["name"], payload, c["_expect"])
        row = {k: c[k] for k in KEYS} | {"payload": payload}
        lines.append(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
    assert len(lines) >= 30, len(lines)
    return "".join(lines)


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
