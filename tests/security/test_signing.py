"""Signing keys on disk, signatures, envelopes and verification codes (no store)."""

from __future__ import annotations

import hashlib
import json
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from bonafides.reports.envelope import EnvelopeError, SignedReport
from bonafides.security.signing import (
    CODE_LENGTH,
    CROCKFORD,
    FileKeyStore,
    KeyStoreError,
    format_code,
    key_id_of,
    normalise_code,
    sign,
    signature_valid,
    verification_code,
)


def test_the_key_pair_is_made_on_first_use_readable_by_its_owner_only(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path / "keys")
    key_id = store.ensure()
    assert stat.S_IMODE(store.private_path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700
    public = tmp_path / "keys" / "public" / f"{key_id}.pem"
    assert public.exists()
    key = serialization.load_pem_public_key(public.read_bytes())
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert key_id == hashlib.sha256(raw).hexdigest()[:16]
    assert FileKeyStore(tmp_path / "keys").ensure() == key_id, "the same key next time"


def test_a_private_key_others_can_read_is_refused(tmp_path: Path) -> None:
    FileKeyStore(tmp_path / "keys").ensure()
    (tmp_path / "keys" / "report-signing.pem").chmod(0o644)
    with pytest.raises(KeyStoreError, match="readable by others"):
        FileKeyStore(tmp_path / "keys").ensure()


def test_old_public_keys_stay_published_after_a_new_key(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path / "keys")
    first = store.ensure()
    signed_before = sign(store, b"old report")
    store.private_path.unlink()
    renewed = FileKeyStore(tmp_path / "keys")
    second = renewed.ensure()
    assert second != first
    listed = [(k.key_id, k.current) for k in renewed.public_keys()]
    assert listed[0] == (second, True)
    assert (first, False) in listed
    assert signature_valid(renewed, signed_before[0], b"old report", signed_before[1])


def test_signatures_fail_on_any_changed_byte(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path / "keys")
    key_id, signature = sign(store, b'{"a":1}')
    assert signature_valid(store, key_id, b'{"a":1}', signature)
    assert not signature_valid(store, key_id, b'{"a":2}', signature)
    bad = bytearray(signature)
    bad[0] ^= 0x80
    assert not signature_valid(store, key_id, b'{"a":1}', bytes(bad))
    assert not signature_valid(store, "0" * 16, b'{"a":1}', signature)
    assert not signature_valid(store, "../../etc/passwd", b'{"a":1}', signature)


@given(st.binary(min_size=64, max_size=64))
def test_verification_codes_are_ten_unambiguous_characters(signature: bytes) -> None:
    code = verification_code(signature)
    assert len(code) == CODE_LENGTH
    assert set(code) <= set(CROCKFORD)
    assert not set(code) & set("ILOU")
    printed = format_code(code)
    assert normalise_code(printed.lower()) == code
    assert normalise_code(printed.replace("0", "o").replace("1", "l")) == code


def test_an_envelope_round_trips_and_refuses_what_is_not_one(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path / "keys")
    payload = json.dumps({"id": "ABC", "名称": "测试"}, ensure_ascii=False)
    key_id, signature = sign(store, payload.encode())
    signed = SignedReport.of(payload, signature, key_id)
    again = SignedReport.from_envelope(signed.envelope_bytes())
    assert again == signed
    assert again.report_id == "ABC"
    for bad in (
        b"not json",
        b"[]",
        json.dumps({"format": "other"}).encode(),
        json.dumps({**signed.envelope(), "algorithm": "RSA"}).encode(),
        json.dumps({**signed.envelope(), "signature": "***"}).encode(),
        json.dumps({**signed.envelope(), "payload": "[1]"}).encode(),
    ):
        with pytest.raises(EnvelopeError):
            SignedReport.from_envelope(bad)


def test_the_key_id_is_a_hash_of_the_public_key(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path / "keys")
    key_id, key = store.signing_key()
    assert key_id == key_id_of(key.public_key())


def test_a_published_key_whose_content_is_not_its_id_is_refused(tmp_path: Path) -> None:
    """A key file dropped under a genuine key's id (someone with write access to
    ``public/``, or a restore that mixed two stores) must not verify what it signed."""
    store = FileKeyStore(tmp_path / "keys")
    genuine_id, _ = store.signing_key()
    impostor = Ed25519PrivateKey.generate()
    payload = b'{"report": "forged"}'
    (tmp_path / "keys" / "public" / f"{genuine_id}.pem").write_bytes(
        impostor.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    fresh = FileKeyStore(tmp_path / "keys")
    assert fresh.public_key(genuine_id) is None
    assert not signature_valid(fresh, genuine_id, payload, impostor.sign(payload))
    assert genuine_id not in [k.key_id for k in fresh.public_keys()]


def test_an_unreadable_published_key_is_no_key(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path / "keys")
    key_id, _ = store.signing_key()
    (tmp_path / "keys" / "public" / f"{key_id}.pem").write_bytes(b"not a key")
    assert FileKeyStore(tmp_path / "keys").public_key(key_id) is None
