"""The register as the matcher holds it: entries, and the keys that find candidates fast.

Candidates are found by exact keys only, never by scanning: the core of each current and
former name (鑫源贸易), the core as it sounds (xin yuan mao yi, for homophones), the core
with its look-alike characters folded (样康化工 and 祥康化工 fold alike), the core with one
character masked (鑫?贸易, for one wrong character), and the legacy registration number
and organisation code. A key shared by too many entries (a masked core common to hundreds
of firms) finds nothing on its own: it would only bring noise to score. Which keys a query
reads, and how common each may be, is part of the algorithm's version
(``bonafides.matching.model.Version``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Final

from bonafides.matching import names
from bonafides.matching.regions import code_prefix

#: Entries one blocking key may find before it is too common to be a key.
MAX_POSTINGS: Final = 200
#: Shortest core that one masked character may still find: 鑫? finds any 鑫 firm.
MIN_MASKED_CORE: Final = 3


def clean_identifier(raw: str | None) -> str:
    """注册号 and 组织机构代码 as typed (12345678-9, full-width) to one spelling."""
    if not raw:
        return ""
    text = unicodedata.normalize("NFKC", raw).upper()
    return "".join(ch for ch in text if ch.isalnum())


@dataclass(frozen=True, slots=True)
class RegisterEntry:
    """One registered organisation, as much of it as matching uses."""

    code: str
    name: str
    former_names: tuple[str, ...] = ()
    #: Six-digit region code; read from the USCC (positions 3-8) when not given.
    region: str | None = None
    legal_rep: str | None = None
    #: Legacy 15-digit registration number (注册号).
    reg_no: str | None = None
    #: 组织机构代码, nine characters; read from the USCC (positions 9-17) when not given.
    org_code: str | None = None
    status: str | None = None

    def __post_init__(self) -> None:
        code = self.code.strip().upper()
        if self.region is None and len(code) == 18:
            object.__setattr__(self, "region", code[2:8])
        if self.org_code is None and len(code) == 18:
            object.__setattr__(self, "org_code", code[8:17])


@dataclass(frozen=True, slots=True)
class Variant:
    """One name of one entry, parsed once."""

    entry: int
    parsed: names.ParsedName
    former: bool


@dataclass
class RegisterIndex:
    """Entries with their parsed names and blocking keys, built once, read by many queries."""

    entries: list[RegisterEntry] = field(default_factory=list)
    variants: list[Variant] = field(default_factory=list)
    by_core: dict[str, list[int]] = field(default_factory=dict)
    by_sound: dict[str, list[int]] = field(default_factory=dict)
    by_mask: dict[str, list[int]] = field(default_factory=dict)
    by_look: dict[str, list[int]] = field(default_factory=dict)
    #: The trade name's first two characters: found only when no other key finds anything.
    by_prefix: dict[str, list[int]] = field(default_factory=dict)
    by_reg_no: dict[str, list[int]] = field(default_factory=dict)
    by_org_code: dict[str, list[int]] = field(default_factory=dict)
    #: Entry -> the region prefix from its code, computed once.
    regions: list[str | None] = field(default_factory=list)
    #: Entry -> its variants.
    names_of: list[list[int]] = field(default_factory=list)

    @classmethod
    def build(cls, entries: Iterable[RegisterEntry], *, keyed: bool = True) -> RegisterIndex:
        index = cls()
        for entry in entries:
            index.add(entry, keyed=keyed)
        return index

    def add(self, entry: RegisterEntry, *, keyed: bool = True) -> None:
        """Add an entry; ``keyed`` False leaves the key tables alone, for an index that
        only scores candidates found elsewhere (``bonafides.matching.keys``)."""
        self.add_parsed(entry, variants_of(entry), keyed=keyed)

    def add_parsed(
        self,
        entry: RegisterEntry,
        parsed_names: list[tuple[names.ParsedName, bool]],
        *,
        keyed: bool = True,
    ) -> None:
        """Add an entry whose names were parsed before (``variants_of``, as the store
        keeps them beside the keys): parsing is most of the cost of a candidate."""
        number = len(self.entries)
        self.entries.append(entry)
        self.regions.append(code_prefix(entry.region) if entry.region else None)
        own: list[int] = []
        self.names_of.append(own)
        for parsed, former in parsed_names:
            variant = len(self.variants)
            self.variants.append(Variant(number, parsed, former))
            own.append(variant)
            if keyed:
                for key, table in self._keys(parsed.core):
                    table.setdefault(key, []).append(variant)
        if not keyed:
            return
        if entry.reg_no:
            self.by_reg_no.setdefault(clean_identifier(entry.reg_no), []).append(number)
        if entry.org_code:
            self.by_org_code.setdefault(clean_identifier(entry.org_code), []).append(number)

    def _keys(self, core: str) -> Iterator[tuple[str, dict[str, list[int]]]]:
        tables = {
            CORE: self.by_core,
            SOUND: self.by_sound,
            MASK: self.by_mask,
            PREFIX: self.by_prefix,
            LOOK: self.by_look,
        }
        for kind, key in core_keys(core):
            yield key, tables[kind]

    def __len__(self) -> int:
        return len(self.entries)


#: The kinds of blocking key, as ``match_keys.kind`` stores them.
CORE, SOUND, MASK, PREFIX, REG_NO, ORG_CODE, LOOK = range(7)


def variants_of(entry: RegisterEntry) -> list[tuple[names.ParsedName, bool]]:
    """The entry's names that can be matched, parsed, current first: (name, former).
    A name's place in this list is its ``variant`` in ``match_keys``."""
    found: list[tuple[names.ParsedName, bool]] = []
    seen: set[str] = set()
    for name, former in [(entry.name, False), *((n, True) for n in entry.former_names)]:
        if not name or name in seen:
            continue
        seen.add(name)
        parsed = names.parse(name)
        if parsed.core:
            found.append((parsed, former))
    return found


def core_keys(core: str) -> Iterator[tuple[int, str]]:
    """(kind, key) of every blocking key of one name's core, in the order they are read."""
    yield CORE, core
    yield SOUND, names.sound(core)
    if len(core) >= MIN_MASKED_CORE:
        for key in masks(core):
            yield MASK, key
    if len(core) >= 2:
        yield PREFIX, core[:2]
    look = names.folded(core)
    if look is not None:
        yield LOOK, look


def entry_keys(entry: RegisterEntry) -> Iterator[tuple[int, str, int]]:
    """(kind, key, variant) of every blocking key of one entry; variant -1 for an identifier."""
    for variant, (parsed, _) in enumerate(variants_of(entry)):
        for kind, key in core_keys(parsed.core):
            yield kind, key, variant
    for kind, value in ((REG_NO, entry.reg_no), (ORG_CODE, entry.org_code)):
        cleaned = clean_identifier(value)
        if cleaned:
            yield kind, cleaned, -1


def masks(core: str) -> Iterator[str]:
    """The core with each character in turn masked: one wrong character shares one mask."""
    for at in range(len(core)):
        yield f"{core[:at]}?{core[at + 1 :]}"
