"""Ed25519 keys for reports, their signatures and the short code printed on each report.

The private key lives in one file under ``data_dir/keys`` readable by its owner only; every
public key ever used stays beside it under ``public/``, named by its key id, so reports
signed before a key change still verify and ``GET /api/v1/keys`` can publish them all.
Beside each key that signs PDFs is an X.509 certificate for it under ``certificates/``
(self-signed, made on first use): the PDF signature carries it, PDF readers show it, and
the API publishes it, so a reader can trust exactly this key.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import stat
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Protocol

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from bonafides.store.types import utcnow

ALGORITHM = "Ed25519"
PRIVATE_NAME = "report-signing.pem"
PUBLIC_DIR = "public"
CERTIFICATE_DIR = "certificates"
#: A certificate outlives any report it signs: keys are retired, not expired.
CERTIFICATE_YEARS = 100
#: 16 hex digits (64 bits): enough to tell keys apart, short enough to print.
KEY_ID_LENGTH = 16
#: Crockford's base32: no I, L, O or U, so a code read aloud or typed is hard to get wrong.
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 10


class KeyStoreError(RuntimeError):
    """The key files are missing, unreadable, or readable by others."""


@dataclass(frozen=True)
class PublicKeyInfo:
    key_id: str
    key: Ed25519PublicKey
    current: bool

    @property
    def raw(self) -> bytes:
        return self.key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @property
    def pem(self) -> str:
        return self.key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()


class KeyStore(Protocol):
    """Where signing keys come from: files in production, the same files in tests."""

    def signing_key(self) -> tuple[str, Ed25519PrivateKey]: ...

    def public_key(self, key_id: str) -> Ed25519PublicKey | None: ...

    def public_keys(self) -> Sequence[PublicKeyInfo]: ...

    def signing_certificate(self) -> x509.Certificate: ...

    def certificate(self, key_id: str) -> x509.Certificate | None: ...


def key_id_of(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:KEY_ID_LENGTH]


def _write_exclusive(path: Path, data: bytes, mode: int) -> bool:
    """Write ``path`` whole or not at all; False when another process got there first.

    The bytes go to a private temporary file that is then hard-linked into place, so a
    reader never sees half a key and two processes starting at once agree on one key.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        return True
    finally:
        tmp.unlink(missing_ok=True)


class FileKeyStore:
    """Keys under one directory; the pair is made on first use (or by ``ensure``)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        self._signing: tuple[str, Ed25519PrivateKey] | None = None
        self._public: dict[str, Ed25519PublicKey] = {}

    @property
    def private_path(self) -> Path:
        return self.directory / PRIVATE_NAME

    def ensure(self) -> str:
        """Create the key pair if there is none; the current key id either way."""
        return self.signing_key()[0]

    def signing_key(self) -> tuple[str, Ed25519PrivateKey]:
        with self._lock:
            if self._signing is None:
                self._signing = self._load_or_create()
            return self._signing

    def _load_or_create(self) -> tuple[str, Ed25519PrivateKey]:
        if not self.private_path.exists():
            self._create()
        mode = stat.S_IMODE(self.private_path.stat().st_mode)
        if mode & 0o077:
            raise KeyStoreError(
                f"{self.private_path} is readable by others (mode {mode:04o}); chmod 600 it"
            )
        try:
            key = serialization.load_pem_private_key(self.private_path.read_bytes(), None)
        except (ValueError, TypeError) as exc:
            raise KeyStoreError(f"{self.private_path} is not a PEM private key: {exc}") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyStoreError(f"{self.private_path} is not an Ed25519 key")
        key_id = key_id_of(key.public_key())
        self._publish(key_id, key.public_key())
        return key_id, key

    def _create(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        (self.directory / PUBLIC_DIR).mkdir(exist_ok=True, mode=0o755)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        # Losing the race to another process is fine: its key is the one loaded next, and
        # only a key that was loaded is ever published.
        _write_exclusive(self.private_path, pem, 0o600)

    def _publish(self, key_id: str, key: Ed25519PublicKey) -> None:
        folder = self.directory / PUBLIC_DIR
        folder.mkdir(parents=True, exist_ok=True, mode=0o755)
        target = folder / f"{key_id}.pem"
        if not target.exists():
            pem = key.public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            _write_exclusive(target, pem, 0o644)

    def public_key(self, key_id: str) -> Ed25519PublicKey | None:
        if key_id in self._public:
            return self._public[key_id]
        if len(key_id) != KEY_ID_LENGTH or any(c not in "0123456789abcdef" for c in key_id):
            return None
        path = self.directory / PUBLIC_DIR / f"{key_id}.pem"
        if not path.exists():
            return None
        try:
            key = serialization.load_pem_public_key(path.read_bytes())
        except ValueError:
            return None
        # The file's name is only a claim: a key is the one named only if it hashes to it.
        if not isinstance(key, Ed25519PublicKey) or key_id_of(key) != key_id:
            return None
        self._public[key_id] = key
        return key

    def public_keys(self) -> list[PublicKeyInfo]:
        current = self.signing_key()[0]
        found = []
        for path in sorted((self.directory / PUBLIC_DIR).glob("*.pem")):
            key = self.public_key(path.stem)
            if key is not None:
                found.append(PublicKeyInfo(path.stem, key, path.stem == current))
        return sorted(found, key=lambda k: (not k.current, k.key_id))

    def signing_certificate(self) -> x509.Certificate:
        """The current key's certificate, made and published on first use."""
        key_id, key = self.signing_key()
        found = self.certificate(key_id)
        if found is not None:
            return found
        folder = self.directory / CERTIFICATE_DIR
        folder.mkdir(parents=True, exist_ok=True, mode=0o755)
        pem = _self_signed(key_id, key).public_bytes(serialization.Encoding.PEM)
        _write_exclusive(folder / f"{key_id}.pem", pem, 0o644)
        made = self.certificate(key_id)
        if made is None:
            raise KeyStoreError(f"{folder / key_id}.pem is not a certificate of key {key_id}")
        return made

    def certificate(self, key_id: str) -> x509.Certificate | None:
        """The published certificate of ``key_id``; None unless it certifies that very key."""
        if len(key_id) != KEY_ID_LENGTH or any(c not in "0123456789abcdef" for c in key_id):
            return None
        path = self.directory / CERTIFICATE_DIR / f"{key_id}.pem"
        if not path.exists():
            return None
        try:
            cert = x509.load_pem_x509_certificate(path.read_bytes())
        except ValueError:
            return None
        key = cert.public_key()
        if not isinstance(key, Ed25519PublicKey) or key_id_of(key) != key_id:
            return None
        return cert


def _self_signed(key_id: str, key: Ed25519PrivateKey) -> x509.Certificate:
    """A certificate of the report key, signed by itself: who vouches for it is the
    platform that publishes it at ``/api/v1/keys``, not a certificate authority."""
    from cryptography.x509.oid import NameOID

    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "bonafides"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"bonafides report signing key {key_id}"),
        ]
    )
    start = utcnow().replace(microsecond=0) - dt.timedelta(days=1)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=365 * CERTIFICATE_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, None)
    )


@cache
def file_key_store(directory: Path) -> FileKeyStore:
    """One store per directory per process, so the key is read from disk once."""
    return FileKeyStore(directory)


def keys_dir(data_dir: Path) -> Path:
    return data_dir / "keys"


def sign(store: KeyStore, payload: bytes) -> tuple[str, bytes]:
    key_id, key = store.signing_key()
    return key_id, key.sign(payload)


def signature_valid(store: KeyStore, key_id: str, payload: bytes, signature: bytes) -> bool:
    key = store.public_key(key_id)
    if key is None:
        return False
    try:
        key.verify(signature, payload)
    except InvalidSignature:
        return False
    return True


def verification_code(signature: bytes) -> str:
    """Ten Crockford base32 characters from a hash of the signature (50 bits).

    Derived from the signature, so it cannot be chosen apart from the report; short, so
    a person can type it into the verification page to match a paper copy.
    """
    number = int.from_bytes(hashlib.sha256(signature).digest()[:8], "big") >> (64 - 5 * CODE_LENGTH)
    chars = []
    for _ in range(CODE_LENGTH):
        chars.append(CROCKFORD[number & 31])
        number >>= 5
    return "".join(reversed(chars))


def format_code(code: str) -> str:
    """As printed: two groups of five."""
    return f"{code[:5]}-{code[5:]}"


def normalise_code(typed: str) -> str:
    """What a person typed, read the Crockford way: case, hyphens and look-alikes forgiven."""
    table = str.maketrans({"O": "0", "I": "1", "L": "1"})
    return "".join(c for c in typed.upper() if c.isalnum()).translate(table)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: str) -> bytes:
    return base64.b64decode(text.encode(), validate=True)
