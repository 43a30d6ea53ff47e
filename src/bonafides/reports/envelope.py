"""A signed report as it travels: the exact payload, its signature and the key that made it.

The payload is carried as a string, never re-serialised, so the bytes a verifier checks
are the bytes that were signed whatever JSON library sits in between. The same envelope
is attached to the PDF, served by the API and read back by ``verify-report``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from bonafides.errors import Invalid
from bonafides.security.signing import (
    ALGORITHM,
    b64,
    format_code,
    unb64,
    verification_code,
)

ENVELOPE_FORMAT = "bonafides.signed-report/1"
#: The name of the envelope inside a report PDF.
ATTACHMENT_NAME = "bonafides-report.json"
#: A report's envelope is a few hundred kilobytes at most; anything far larger is not one.
MAX_ENVELOPE_BYTES = 8 * 1024 * 1024


class EnvelopeError(Invalid):
    """Bytes that are not a signed report envelope; the message says what is wrong."""


@dataclass(frozen=True)
class SignedReport:
    payload: str
    signature: bytes
    key_id: str
    document: dict[str, Any] = field(compare=False, repr=False)

    @classmethod
    def of(cls, payload: str, signature: bytes, key_id: str) -> SignedReport:
        try:
            document = json.loads(payload)
        except ValueError as exc:
            raise EnvelopeError(f"the signed payload is not JSON: {exc}") from exc
        if not isinstance(document, dict):
            raise EnvelopeError("the signed payload is not a JSON object")
        return cls(payload, signature, key_id, document)

    @property
    def payload_bytes(self) -> bytes:
        return self.payload.encode()

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.payload_bytes).hexdigest()

    @property
    def code(self) -> str:
        return verification_code(self.signature)

    @property
    def printed_code(self) -> str:
        return format_code(self.code)

    @property
    def report_id(self) -> str | None:
        value = self.document.get("id")
        return value if isinstance(value, str) else None

    def envelope(self) -> dict[str, Any]:
        return {
            "format": ENVELOPE_FORMAT,
            "algorithm": ALGORITHM,
            "key_id": self.key_id,
            "signature": b64(self.signature),
            "payload": self.payload,
        }

    def envelope_bytes(self) -> bytes:
        return json.dumps(self.envelope(), ensure_ascii=False, indent=1).encode()

    @classmethod
    def from_envelope(cls, data: bytes) -> SignedReport:
        if len(data) > MAX_ENVELOPE_BYTES:
            raise EnvelopeError("the envelope is too large to be a report")
        try:
            outer = json.loads(data)
        except ValueError as exc:
            raise EnvelopeError(f"the envelope is not JSON: {exc}") from exc
        if not isinstance(outer, dict) or outer.get("format") != ENVELOPE_FORMAT:
            raise EnvelopeError(f"not a {ENVELOPE_FORMAT} envelope")
        if outer.get("algorithm") != ALGORITHM:
            raise EnvelopeError(f"unsupported signature algorithm {outer.get('algorithm')!r}")
        payload, signature, key_id = (outer.get(k) for k in ("payload", "signature", "key_id"))
        if not (
            isinstance(payload, str) and isinstance(signature, str) and isinstance(key_id, str)
        ):
            raise EnvelopeError("the envelope lacks its payload, signature or key id")
        try:
            raw = unb64(signature)
        except ValueError as exc:
            raise EnvelopeError("the signature is not base64") from exc
        return cls.of(payload, raw, key_id)
