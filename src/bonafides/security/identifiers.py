"""Natural persons' ID numbers: a keyed hash for lookup, AES-GCM for the number itself.

The store never holds a readable ID number (principle 5). The HMAC key and the
encryption key are derived from the one master secret with HKDF, each for its own
purpose, so rotating or leaking one use does not expose the other.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PERSON_KEY_PREFIX = "p:"
SEALED_PREFIX = "sealed:v1:"
_NONCE = 12


def derive_key(secret: str, purpose: bytes) -> bytes:
    """A 32-byte key for one purpose from the master secret (HKDF-SHA256)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
        secret.encode()
    )


class IdentifierVault:
    """Turns ID numbers into lookup keys and ciphertexts, and back for those allowed."""

    def __init__(self, secret: str) -> None:
        self._mac_key = derive_key(secret, b"bonafides/person-lookup/v1")
        self._aead = AESGCM(derive_key(secret, b"bonafides/person-encrypt/v1"))

    def lookup_key(self, number: str) -> str:
        mac = hmac.new(self._mac_key, number.encode(), hashlib.sha256).hexdigest()
        return PERSON_KEY_PREFIX + mac

    def encrypt(self, number: str) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, number.encode(), b"ric")

    def decrypt(self, blob: bytes) -> str:
        return self._aead.decrypt(blob[:_NONCE], blob[_NONCE:], b"ric").decode()

    def seal(self, text: str) -> str:
        """Encrypt into text, for JSON columns that keep raw submissions (provenance)."""
        return SEALED_PREFIX + base64.b64encode(self.encrypt(text)).decode()

    def unseal(self, sealed: str) -> str:
        if not sealed.startswith(SEALED_PREFIX):
            raise ValueError("not a sealed value")
        return self.decrypt(base64.b64decode(sealed[len(SEALED_PREFIX) :]))
