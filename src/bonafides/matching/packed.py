"""A registered organisation with its names already parsed, packed as ``match_entries``
keeps it beside the keys.

At a million subjects a chunk of rows finds some 25,000 candidates; reading each from
its subject, register row and former names, then parsing every name, was most of what
matching cost (parsing alone a third of the CPU). Packed once by the sync, a candidate
is one primary-key read and one JSON decode. What a name parses to depends on the code
that parses it: the sync writes the keys and these together, so they always agree.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from bonafides.matching.names import ParsedName
from bonafides.matching.register import RegisterEntry, variants_of

Parsed = list[tuple[ParsedName, bool]]


def pack(entry: RegisterEntry, parsed: Parsed | None = None) -> str:
    """The entry and its matchable names (``variants_of``), as one JSON text."""
    names = variants_of(entry) if parsed is None else parsed
    return json.dumps(
        [
            entry.code,
            entry.name,
            list(entry.former_names),
            entry.region,
            entry.legal_rep,
            entry.reg_no,
            entry.org_code,
            entry.status,
            [
                [
                    n.canonical,
                    n.core,
                    n.form,
                    [sorted(codes) for codes in n.regions],
                    n.branch,
                    n.label,
                    former,
                ]
                for n, former in names
            ],
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )


def unpack_all(texts: Iterable[str]) -> list[tuple[RegisterEntry, Parsed]]:
    """Packed entries back. Each is decoded on its own: the decoded lists are then freed
    as soon as read, where one decode of them all would keep a chunk's hundreds of
    thousands alive at once, and the garbage collector walk them again and again."""
    return [_unpack(json.loads(text)) for text in texts]


def _unpack(item: list[Any]) -> tuple[RegisterEntry, Parsed]:
    code, name, former, region, legal_rep, reg_no, org_code, status, names = item
    entry = RegisterEntry(
        code=code,
        name=name,
        former_names=tuple(former),
        region=region,
        legal_rep=legal_rep,
        reg_no=reg_no,
        org_code=org_code,
        status=status,
    )
    parsed = [
        (
            ParsedName(
                canonical=canonical,
                core=core,
                form=form,
                regions=tuple(frozenset(codes) for codes in regions),
                branch=branch,
                label=label,
            ),
            is_former,
        )
        for canonical, core, form, regions, branch, label, is_former in names
    ]
    return entry, parsed
