"""The SHA-256 of a file, read in blocks: how ingest recognises a file it has seen, and how
backups and exports let anyone check the files they hand out."""

from __future__ import annotations

import hashlib
from pathlib import Path


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
