"""Personal data (PIPL, minimum necessary): keyed hash and masked form, as SQL and as Python.

A PII column `c` of the contract is stored in `raw` only as `c_hash` (HMAC-SHA256,
hex, of the trimmed value, with the key from the configuration) and `c_masked`.
The SQL versions run inside DuckDB on the whole batch (no per-row Python); the
Python versions are the reference the tests compare them with, and mask the
few rows Python itself writes (quarantine text of unsplittable CSV lines).
"""

from __future__ import annotations

import hashlib
import hmac
import re

BLOCK = 64  # SHA-256 block size
DEMO_KEY = b"kefu-demo-key-NOT-SECRET-do-not-use-in-production"


def kind_of(column: str) -> str:
    """How a PII column is masked, from its name: phone | name | id_number | address | free_text."""
    if "phone" in column:
        return "phone"
    if column == "id_number" or column.endswith("id_number"):
        return "id_number"
    if "address" in column:
        return "address"
    if column.endswith("name"):
        return "name"
    return "free_text"


# --- Python reference -------------------------------------------------------------------------


def hmac_hex(value: str, key: bytes) -> str:
    return hmac.new(key, value.strip().encode("utf-8"), hashlib.sha256).hexdigest()


def mask(value: str | None, kind: str) -> str | None:
    if value is None:
        return None
    v = value.strip()
    n = len(v)
    if kind == "phone":
        return v[:3] + "*" * (n - 7) + v[-4:] if n >= 8 else "*" * n
    if kind == "id_number":
        return v[:4] + "*" * (n - 8) + v[-4:] if n >= 9 else "*" * n
    if kind == "name":
        return v[:1] + "*" * max(n - 1, 1) if n else v
    if kind == "address":
        m = re.match(r"^(.{0,20}?[区县旗])", v) or re.match(r"^(.{0,20}?市)", v)
        return (m.group(1) if m else "") + "****"
    return mask_free_text(v)


NAME_BEFORE_PHONE = r"([\u4e00-\u9fff])[\u4e00-\u9fff]{1,3}([（(]\s*1\d{2})"
ADDRESS_AFTER_LABEL = r"(地址[:：]?\s*(?:[^,，;；。\s]{0,20}?[市区县])?)[^,，;；。\s*]+"


def mask_free_text(v: str) -> str:
    """Best effort for typed text: ID and phone digits, a name written before a phone in brackets,
    an address after 地址 (kept to city / district level)."""
    v = re.sub(NAME_BEFORE_PHONE, r"\1*\2", v)
    v = re.sub(ADDRESS_AFTER_LABEL, r"\1****", v)
    v = re.sub(r"(\d{4})\d{10}(\d{3}[\dXx])", r"\1**********\2", v)
    v = re.sub(r"(1\d{2})\d{4}(\d{4})", r"\1****\2", v)
    return re.sub(r"\d{7,}", "*******", v)


# --- SQL (DuckDB) -----------------------------------------------------------------------------


def _pads(key: bytes) -> tuple[str, str]:
    if len(key) > BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(BLOCK, b"\x00")
    ipad = bytes(b ^ 0x36 for b in key).hex()
    opad = bytes(b ^ 0x5C for b in key).hex()
    return ipad, opad


def hmac_sql(expr: str, key: bytes, trimmed: bool = False) -> str:
    """HMAC-SHA256 (RFC 2104) of the trimmed text `expr` as a DuckDB expression, hex like hmac_hex.

    `trimmed`: the caller guarantees `expr` has no surrounding spaces (saves one trim per value)."""
    ipad, opad = _pads(key)
    inner = f"unhex(sha256(unhex('{ipad}') || encode({expr if trimmed else f'trim({expr})'})))"
    return f"CASE WHEN {expr} IS NULL THEN NULL ELSE sha256(unhex('{opad}') || {inner}) END"


def mask_sql(expr: str, kind: str, trimmed: bool = False) -> str:
    """The masked form of `expr` as a DuckDB expression; equals :func:`mask`.

    `trimmed`: the caller guarantees `expr` has no surrounding spaces (saves the trims)."""
    v = expr if trimmed else f"trim({expr})"
    n = f"length({v})"
    if kind == "phone":
        body = (
            f"CASE WHEN {n} >= 8 THEN left({v}, 3) || repeat('*', {n} - 7) || right({v}, 4) ELSE repeat('*', {n}) END"
        )
    elif kind == "id_number":
        body = (
            f"CASE WHEN {n} >= 9 THEN left({v}, 4) || repeat('*', {n} - 8) || right({v}, 4) ELSE repeat('*', {n}) END"
        )
    elif kind == "name":
        body = f"CASE WHEN {n} = 0 THEN {v} ELSE left({v}, 1) || repeat('*', greatest({n} - 1, 1)) END"
    elif kind == "address":
        body = (
            f"coalesce(nullif(regexp_extract({v}, '^(.{{0,20}}?[区县旗])', 1), ''), "
            f"regexp_extract({v}, '^(.{{0,20}}?市)', 1), '') || '****'"
        )
    else:
        body = free_text_sql(v)
    return f"CASE WHEN {expr} IS NULL THEN NULL ELSE {body} END"


# ADDRESS_AFTER_LABEL without its lazy {0,20}? (RE2 extracts the group of a 20-fold repeated UTF-8
# class about 3 times slower): the same replacement wherever no text after 地址 holds a '*' in its run
# of address characters (there the group's class and the last one's differ) or a run of 20 of them
# before 市/区/县 (there the bound would stop it): ADDRESS_GUARD, docs/decisions.md D-186.
ADDRESS_UNBOUNDED = r"(地址[:：]?\s*(?:[^,，;；。\s市区县]*[市区县])?)[^,，;；。\s*]+"
ADDRESS_GUARD = r"地址[:：]?\s*(?:[^,，;；。\s]*\*|[^,，;；。\s市区县]{20})"


def address_after_label_sql(s: str) -> str:
    """regexp_replace(s, ADDRESS_AFTER_LABEL, '\\1****', 'g'), the same value at a third of the cost."""
    return (
        f"CASE WHEN regexp_matches({s}, '{ADDRESS_GUARD}') "
        f"THEN regexp_replace({s}, '{ADDRESS_AFTER_LABEL}', '\\1****', 'g') "
        f"ELSE regexp_replace({s}, '{ADDRESS_UNBOUNDED}', '\\1****', 'g') END"
    )


def free_text_sql(v: str) -> str:
    name = NAME_BEFORE_PHONE.replace("\\u4e00", "\\x{4e00}").replace("\\u9fff", "\\x{9fff}")
    s = f"regexp_replace({v}, '{name}', '\\1*\\2', 'g')"
    s = address_after_label_sql(s)
    s = f"regexp_replace({s}, '(\\d{{4}})\\d{{10}}(\\d{{3}}[\\dXx])', '\\1**********\\2', 'g')"
    s = f"regexp_replace({s}, '(1\\d{{2}})\\d{{4}}(\\d{{4}})', '\\1****\\2', 'g')"
    return f"regexp_replace({s}, '\\d{{7,}}', '*******', 'g')"
