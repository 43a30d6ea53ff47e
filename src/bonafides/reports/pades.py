"""PDF signatures (PAdES baseline B-B) over the exact bytes of report and certificate PDFs.

The signed data attached to a PDF proves what the platform said, but not that the pages
a bank reads say it: pages can be stamped, dropped or drawn anew around the genuine
attachment. A standard PDF signature covers every byte of the file as issued, any PDF
reader shows it, and any later change (even an incremental update that keeps the
signature intact) leaves it no longer covering the whole file.

The signing key is the report key itself (Ed25519, ISO 32002) with its self-signed
certificate from the key store, so the key id a reader sees in the PDF signature is the
one ``GET /api/v1/keys`` publishes. pyHanko takes about 0.7 s to import, so it is
imported on first use, not when the CLI starts.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bonafides.security.signing import KeyStore, key_id_of

#: The name of the signature field in every PDF the platform signs.
FIELD_NAME = "bonafides"
#: Ed25519 signs a SHA-512 digest in CMS (RFC 8419).
DIGEST = "sha512"
#: Room for the CMS blob: an Ed25519 signature and one small certificate need ~1.5 KB.
RESERVED_BYTES = 8192


@dataclass(frozen=True)
class PdfSignatureCheck:
    """The answer about a file's PDF signature; ``detail`` says what was found."""

    passed: bool
    detail: str
    key_id: str | None = None


def _asn1_certificate(keys: KeyStore, key_id: str) -> Any:
    from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped]

    cert = keys.certificate(key_id)
    if cert is None:
        return None
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def sign_pdf(pdf: bytes, keys: KeyStore, *, reason: str) -> bytes:
    """``pdf`` with a PAdES B-B signature by the current report key over all its bytes."""
    from asn1crypto import keys as asn1_keys
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    key_id, key = keys.signing_key()
    keys.signing_certificate()
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    signer = signers.SimpleSigner(
        signing_cert=_asn1_certificate(keys, key_id),
        signing_key=asn1_keys.PrivateKeyInfo.load(der),
        cert_registry=SimpleCertificateStore(),  # type: ignore[no-untyped-call]
    )
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm=DIGEST,
        reason=reason,
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    out = signers.PdfSigner(meta, signer=signer).sign_pdf(writer, bytes_reserved=RESERVED_BYTES)
    return bytes(out.getvalue())


def check_pdf(pdf: bytes, keys: KeyStore) -> PdfSignatureCheck:
    """Whether one signature by one of this platform's keys covers every byte of ``pdf``."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    # The file comes from anyone: whatever pyHanko makes of a damaged file is a failed check.
    try:
        signatures = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures
    except Exception as exc:
        return PdfSignatureCheck(False, f"the file cannot be read for its PDF signature: {exc}")
    if not signatures:
        return PdfSignatureCheck(False, "the file carries no PDF signature")
    if len(signatures) > 1:
        return PdfSignatureCheck(False, "the file carries more than one PDF signature")
    [signature] = signatures
    try:
        public = signature.signer_cert.public_key.dump()
        key = serialization.load_der_public_key(public)
        key_id = key_id_of(key) if isinstance(key, Ed25519PublicKey) else None
        ours = _asn1_certificate(keys, key_id) if key_id else None
        if ours is None or ours.dump() != signature.signer_cert.dump():
            return PdfSignatureCheck(
                False, "the PDF is signed by a certificate that is not one of this platform's"
            )
        context = ValidationContext(trust_roots=[ours], allow_fetching=False)
        status = validate_pdf_signature(signature, context)
    except Exception as exc:
        return PdfSignatureCheck(False, f"the PDF signature cannot be validated: {exc}")
    if not status.intact:
        return PdfSignatureCheck(False, "the file was changed after it was signed", key_id)
    if not (status.valid and status.trusted):
        return PdfSignatureCheck(False, "the PDF signature does not verify", key_id)
    if status.coverage is not SignatureCoverageLevel.ENTIRE_FILE:
        return PdfSignatureCheck(
            False, "the PDF signature does not cover the whole file: it was added to", key_id
        )
    return PdfSignatureCheck(
        True, f"PDF signature by key {key_id} covers every byte of the file", key_id
    )
