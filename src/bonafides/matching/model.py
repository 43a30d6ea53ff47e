"""bonafides-names: a named, versioned matcher of organisation names, with explanations.

Each candidate's score is the logistic of a sum of feature contributions (log-odds), so
the explanation is the sum itself: every feature that fired, its weight and why. Some
features are vetoes (a branch against its parent, another region, another legal form,
a contradicting identifier): their weight is so low that no evidence outweighs it, so a
vetoed pair is never linked automatically. A match needs the best candidate at or above
``MATCH_AT`` and no rival near it; between ``REVIEW_AT`` and that, a person decides.

The weights and thresholds are part of the version: changing one makes a new version,
so a stored link can always be reproduced by the algorithm that made it. So is the way
candidates are found (``Version``): v2 scores as v1 does, but reads the one-character
masks only when no registered name has exactly the query's trade name, and only masks
shared by few names, which a million-firm register makes common (鑫?贸易); the look-alike
key finds what the masks found of misread characters, and a link on a homophone or a
look-alike alone is made only after the masks were read as v1 reads them (``doubtful``).
v1 stays reproducible: ``Matcher(index, version=V1)``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from bonafides.matching import names
from bonafides.matching.names import LOOKALIKE as _LOOKALIKE
from bonafides.matching.regions import code_prefix
from bonafides.matching.register import (
    MAX_POSTINGS,
    MIN_MASKED_CORE,
    RegisterEntry,
    RegisterIndex,
    clean_identifier,
    masks,
)


@dataclass(frozen=True, slots=True)
class Version:
    """A version's name and how it finds candidates; v1 and v2 score alike."""

    name: str
    #: Names a one-character mask may find before it is too common to propose any.
    mask_postings: int
    #: Rare keys first: masks only when no name has exactly the query's trade name, and
    #: the look-alike key read.
    rare_first: bool


#: Masks shared by more names than this propose nothing in v2: at a million firms a
#: trade-name mask (?康化工) is shared by a hundred, a misspelling's mask by a few.
RARE_MASK_POSTINGS: Final = 20
V1: Final = Version("bonafides-names-v1", MAX_POSTINGS, rare_first=False)
V2: Final = Version("bonafides-names-v2", RARE_MASK_POSTINGS, rare_first=True)
VERSIONS: Final = {v.name: v for v in (V1, V2)}
#: The version new links are made by.
ALGORITHM: Final = V2.name

#: Log-odds before any evidence: most names that arrive without a code are not a given firm.
PRIOR: Final = -2.0
VETO: Final = -20.0
WEIGHTS: Final[dict[str, float]] = {
    "same_core": 5.5,
    "homophone": 4.0,
    "lookalike": 4.0,
    "one_char": 1.0,
    "partial_core": 1.5,
    "name_differs": -2.5,
    "same_name": 1.5,
    "former_name": -0.5,
    "same_form": 0.5,
    "loose_form": -1.5,
    "form_missing": -1.0,
    "no_form": 0.0,
    "no_place_no_form": -1.5,
    "same_region": 1.0,
    "region_unknown": -0.5,
    "same_branch": 0.5,
    "same_reg_no": 6.0,
    "same_org_code": 6.0,
    "same_legal_rep": 1.5,
    "other_legal_rep": -4.0,
    "deregistered": 0.0,
    "ambiguous": -4.0,
    "exact_name_elsewhere": -4.0,
    "other_form": VETO,
    "other_region": VETO,
    "branch_vs_parent": VETO,
    "other_branch": VETO,
    "other_reg_no": VETO,
    "other_org_code": VETO,
}
MATCH_AT: Final = 0.95
REVIEW_AT: Final = 0.30
#: A rival within this many log-odds of the best makes the best ambiguous.
AMBIGUITY_MARGIN: Final = 1.5
MAX_CANDIDATES: Final = 5
#: A two-character prefix shared by more names than this proposes nothing.
MAX_PREFIX_POSTINGS: Final = 50

#: Forms close enough that one may be a clerk's shorthand for the other.
_LOOSE_FORMS: Final = frozenset(
    {frozenset({"公司", "有限公司"}), frozenset({"专业合作社", "农民专业合作社"})}
)
_DEREGISTERED: Final = frozenset({"注销", "吊销", "deregistered", "revoked", "cancelled"})


def lookalike(a: str, b: str) -> bool:
    return b in _LOOKALIKE.get(a, ())


@dataclass(frozen=True, slots=True)
class Query:
    """What a row says about the organisation it names."""

    name: str
    region: str | None = None
    legal_rep: str | None = None
    reg_no: str | None = None
    org_code: str | None = None


@dataclass(frozen=True, slots=True)
class Contribution:
    feature: str
    weight: float
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {"feature": self.feature, "contribution": self.weight, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class Candidate:
    entry: RegisterEntry
    logit: float
    contributions: tuple[Contribution, ...]

    @property
    def score(self) -> float:
        return _sigmoid(self.logit)

    @property
    def vetoed(self) -> bool:
        return any(c.weight <= VETO for c in self.contributions)

    def to_json(self) -> dict[str, Any]:
        return {"code": self.entry.code, "name": self.entry.name, "score": round(self.score, 4)}


@dataclass(frozen=True, slots=True)
class MatchResult:
    decision: str  # match | review | none
    code: str | None
    score: float
    candidates: tuple[Candidate, ...]
    explanation: tuple[Contribution, ...]
    algorithm: str = ALGORITHM

    def to_json(self, line: int) -> dict[str, Any]:
        return {
            "line": line,
            "decision": self.decision,
            "code": self.code,
            "score": round(self.score, 4),
            "candidates": [c.to_json() for c in self.candidates],
            "explanation": [
                {"feature": "prior", "contribution": PRIOR, "detail": "before any evidence"},
                *(c.to_json() for c in self.explanation),
            ]
            if self.candidates or self.explanation
            else [],
            "algorithm": self.algorithm,
        }


def _sigmoid(logit: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, logit))))


def _same_person(a: str, b: str) -> bool:
    return names.canonical(a) == names.canonical(b)


class Matcher:
    """A version of bonafides-names over one register index; thresholds may be given
    for tuning."""

    def __init__(
        self,
        index: RegisterIndex,
        *,
        match_at: float = MATCH_AT,
        review_at: float = REVIEW_AT,
        version: Version = V2,
    ) -> None:
        self.index = index
        self.match_at = match_at
        self.review_at = review_at
        self.version = version

    def match(self, query: Query) -> MatchResult:
        return self.decide(self.candidates(query))

    def decide(self, ranked: list[Candidate]) -> MatchResult:
        """The decision over ranked candidates; reused with other thresholds in tuning."""
        if not ranked:
            return MatchResult("none", None, 0.0, (), (), self.version.name)
        best = ranked[0]
        score = best.score
        if score >= self.match_at and not best.vetoed:
            decision = "match"
        elif score >= self.review_at:
            decision = "review"
        else:
            decision = "none"
        return MatchResult(
            decision,
            best.entry.code if decision == "match" else None,
            score,
            tuple(ranked[:MAX_CANDIDATES]),
            best.contributions,
            self.version.name,
        )

    def candidates(self, query: Query) -> list[Candidate]:
        """Every candidate the keys find, scored and ranked, the best first."""
        parsed = names.parse(query.name)
        ranked = self.rank(parsed, query, self._block(parsed, query))
        if self.doubtful(parsed, ranked):
            ranked = self.rank(parsed, query, self._block(parsed, query, wide=True))
        return ranked

    def doubtful(self, parsed: names.ParsedName, ranked: list[Candidate]) -> bool:
        """Whether v2 must look wider before it links: the best is a homophone or a
        look-alike, and a rival of that kind may hide in a common mask (奥 also reads yu:
        北京裕鑫 rivals 奥信 for 北京奥鑫). Then the masks are read as v1 reads them."""
        if not self.version.rare_first or not ranked or len(parsed.core) < MIN_MASKED_CORE:
            return False
        best = ranked[0]
        return not best.vetoed and any(c.feature in _LINKING_FUZZY for c in best.contributions)

    def candidates_for(self, queries: Sequence[Query]) -> list[list[Candidate]]:
        """Each query's candidates: what a caller with many rows asks."""
        return [self.candidates(q) for q in queries]

    def rank(self, parsed: names.ParsedName, query: Query, found: list[int]) -> list[Candidate]:
        """The entries ``found`` (numbers in this index, in the order the keys found
        them) scored and ranked, the best first."""
        scored = [self._score(parsed, query, entry) for entry in found]
        scored = _mark_closer(scored)
        scored.sort(key=lambda c: (-c.logit, c.entry.code))
        return _mark_ambiguous(scored)

    def _block(self, parsed: names.ParsedName, query: Query, *, wide: bool = False) -> list[int]:
        """The entries the keys find; ``wide``: every mask read, up to v1's cap."""
        index = self.index
        version = self.version
        entries: dict[int, None] = {}
        variants: list[int] = []
        exact = index.by_core.get(parsed.core, ())
        variants.extend(exact)
        variants.extend(_capped(index.by_sound.get(names.sound(parsed.core), ())))
        look = names.folded(parsed.core) if version.rare_first else None
        if look is not None:
            variants.extend(_capped(index.by_look.get(look, ())))
        if len(parsed.core) >= MIN_MASKED_CORE and (wide or not (version.rare_first and exact)):
            cap = MAX_POSTINGS if wide else version.mask_postings
            for key in masks(parsed.core):
                variants.extend(_capped(index.by_mask.get(key, ()), cap))
        for number in variants:
            entries[index.variants[number].entry] = None
        for value, table in ((query.reg_no, index.by_reg_no), (query.org_code, index.by_org_code)):
            cleaned = clean_identifier(value) if value else ""
            if cleaned:
                for number in table.get(cleaned, ()):
                    entries[number] = None
        if not entries and len(parsed.core) >= 2:
            for number in _capped(index.by_prefix.get(parsed.core[:2], ()), MAX_PREFIX_POSTINGS):
                variant = index.variants[number]
                if parsed.core in variant.parsed.core or variant.parsed.core in parsed.core:
                    entries[variant.entry] = None
        return list(entries)

    def _score(self, parsed: names.ParsedName, query: Query, number: int) -> Candidate:
        index = self.index
        entry = index.entries[number]
        best: tuple[float, list[Contribution]] | None = None
        placed = bool(parsed.regions or (query.region and query.region.strip()))
        for variant_no in index.names_of[number]:
            variant = index.variants[variant_no]
            found = _name_features(parsed, variant.parsed, variant.former, entry.name, placed)
            found.extend(_region_features(parsed, query, variant.parsed, index.regions[number]))
            total = sum(c.weight for c in found)
            if best is None or total > best[0]:
                best = (total, found)
        contributions = best[1] if best is not None else [_feature("name_differs", "no name")]
        contributions.extend(_entry_features(query, entry))
        logit = PRIOR + sum(c.weight for c in contributions)
        return Candidate(entry, logit, tuple(contributions))


def _capped(postings: Iterable[int], most: int = MAX_POSTINGS) -> Iterable[int]:
    items = postings if isinstance(postings, list) else list(postings)
    return items if len(items) <= most else ()


def _feature(name: str, detail: str) -> Contribution:
    return Contribution(name, WEIGHTS[name], detail)


def _core_relation(ours: str, theirs: str) -> Contribution:
    if ours == theirs:
        return _feature("same_core", f"trade name and business {ours} are the same")
    if len(ours) == len(theirs) and len(ours) >= MIN_MASKED_CORE:
        diffs = [(a, b) for a, b in zip(ours, theirs, strict=True) if a != b]
        if len(diffs) == 1:
            a, b = diffs[0]
            shared = names.readings(a) & names.readings(b)
            if shared:
                reading = "/".join(sorted(shared))
                return _feature("homophone", f"{a} for {b}, both read {reading}")
            if lookalike(a, b):
                return _feature("lookalike", f"{a} for {b}, characters that look alike")
            return _feature("one_char", f"{a} for {b}, one character differs")
    shorter, longer = sorted((ours, theirs), key=len)
    if len(shorter) >= 2 and shorter in longer:
        return _feature("partial_core", f"{shorter} is part of {longer}")
    return _feature("name_differs", f"{ours} and {theirs} differ")


def _name_features(
    ours: names.ParsedName, theirs: names.ParsedName, former: bool, current: str, placed: bool
) -> list[Contribution]:
    found = [_core_relation(ours.core, theirs.core)]
    if ours.canonical == theirs.canonical:
        found.append(_feature("same_name", "the names are written the same"))
    if former:
        found.append(
            _feature("former_name", f"matches the former name {theirs.canonical}, now {current}")
        )
    if ours.form and ours.form == theirs.form:
        found.append(_feature("same_form", f"both are {ours.form}"))
    elif ours.form and theirs.form:
        if frozenset({ours.form, theirs.form}) in _LOOSE_FORMS:
            found.append(_feature("loose_form", f"{ours.form} for {theirs.form}"))
        else:
            found.append(_feature("other_form", f"{ours.form} is not {theirs.form}"))
    elif ours.form or theirs.form:
        found.append(
            _feature("form_missing", f"legal form only on one side ({ours.form or theirs.form})")
        )
    elif placed:
        found.append(_feature("no_form", "neither name has a legal form"))
    else:
        found.append(_feature("no_place_no_form", "no legal form and no place: a shop name alone"))
    if ours.branch != theirs.branch:
        which = "a branch against a parent" if ours.branch else "a parent against a branch"
        found.append(_feature("branch_vs_parent", which))
    elif ours.branch:
        if ours.label == theirs.label:
            found.append(_feature("same_branch", f"both are the {ours.label or 'unnamed'} branch"))
        else:
            found.append(
                _feature("other_branch", f"branch {ours.label or '?'} is not {theirs.label or '?'}")
            )
    return found


def _region_features(
    ours: names.ParsedName, query: Query, theirs: names.ParsedName, code_region: str | None
) -> Sequence[Contribution]:
    """The query's places against the candidate's.

    A place in the name is compared with the candidate's code region, except for a branch:
    its name carries its parent's place (杭州鑫源贸易有限公司西湖分公司), its code its own.
    A 地区代码 given with the row is always compared with the code region.
    """
    given = bool(query.region and query.region.strip())
    if not ours.regions and not given:
        return (_UNPLACED_ROW,)
    if code_region is not None and code_region.startswith("10"):
        code_region = None  # registered nationally: the code says nothing of the place
    # The candidate's own places count only for a branch or when its code says none.
    theirs_regions = theirs.regions if theirs.branch or not code_region else ()
    return _places_compared(
        ours.regions, query.region if given else None, theirs_regions, theirs.branch, code_region
    )


@functools.lru_cache(maxsize=65536)
def _places_compared(
    ours: tuple[frozenset[str], ...],
    region: str | None,
    theirs_regions: tuple[frozenset[str], ...],
    branch: bool,
    code_region: str | None,
) -> tuple[Contribution, ...]:
    """``_region_features`` of a placed row, remembered: a chunk's rows and candidates
    name a few hundred places, so most comparisons were made before."""
    named = {code for constraint in theirs_regions for code in constraint}
    by_name = named if branch and named else ({code_region} if code_region else named)
    checks: list[tuple[frozenset[str], set[str]]] = [(c, by_name) for c in ours]
    if region is not None:
        wanted = frozenset({code_prefix(region)})
        checks.append((wanted, {code_region} if code_region else named))
    if not all(places for _, places in checks):
        return (_feature("region_unknown", "the candidate names no place"),)
    for constraint, places in checks:
        if not any(a.startswith(b) or b.startswith(a) for a in constraint for b in places):
            shown, theirs_shown = "/".join(sorted(constraint)), "/".join(sorted(places))
            return (_feature("other_region", f"place {shown} is not {theirs_shown}"),)
    agreed = "/".join(sorted({p for _, places in checks for p in places}))
    return (_feature("same_region", f"place agrees ({agreed})"),)


_UNPLACED_ROW: Final = Contribution(
    "region_unknown", WEIGHTS["region_unknown"], "the row names no place"
)


def _entry_features(query: Query, entry: RegisterEntry) -> list[Contribution]:
    found: list[Contribution] = []
    for value, theirs, same, other, label in (
        (query.reg_no, entry.reg_no, "same_reg_no", "other_reg_no", "registration number"),
        (query.org_code, entry.org_code, "same_org_code", "other_org_code", "organisation code"),
    ):
        if not value:
            continue
        ours_clean, theirs_clean = clean_identifier(value), clean_identifier(theirs)
        if ours_clean and theirs_clean:
            if ours_clean == theirs_clean:
                found.append(_feature(same, f"{label} {ours_clean} is the same"))
            else:
                found.append(_feature(other, f"{label} {ours_clean} is not {theirs_clean}"))
    if query.legal_rep and entry.legal_rep:
        if _same_person(query.legal_rep, entry.legal_rep):
            found.append(_feature("same_legal_rep", "the legal representative is the same"))
        else:
            found.append(_feature("other_legal_rep", "the legal representative differs"))
    if entry.status and entry.status.strip().lower() in _DEREGISTERED:
        found.append(_feature("deregistered", f"the subject's status is {entry.status}"))
    return found


_FUZZY: Final = frozenset({"homophone", "lookalike", "one_char"})
#: Fuzzy features strong enough to link on their own.
_LINKING_FUZZY: Final = frozenset({"homophone", "lookalike"})


def _mark_closer(scored: list[Candidate]) -> list[Candidate]:
    """A name one character off one firm but exactly another's trade name (in another
    form, region or branch) is more likely that other firm's relative than a misspelling:
    the fuzzy candidate loses its claim to an automatic link."""
    exact = next(
        (c for c in scored if any(f.feature == "same_core" for f in c.contributions)), None
    )
    if exact is None:
        return scored
    note = _feature("exact_name_elsewhere", f"{exact.entry.name} has exactly this trade name")
    return [
        Candidate(c.entry, c.logit + note.weight, (*c.contributions, note))
        if c is not exact and any(f.feature in _FUZZY for f in c.contributions)
        else c
        for c in scored
    ]


def _mark_ambiguous(ranked: list[Candidate]) -> list[Candidate]:
    """A rival close to the best makes every close one ambiguous: a person must choose."""
    open_ = [c for c in ranked if not c.vetoed]
    if len(open_) < 2 or open_[1].logit < open_[0].logit - AMBIGUITY_MARGIN:
        return ranked
    floor = open_[0].logit - AMBIGUITY_MARGIN
    rivals = sum(1 for c in open_ if c.logit >= floor)
    note = _feature("ambiguous", f"{rivals} subjects fit about as well")
    marked = [
        Candidate(c.entry, c.logit + note.weight, (*c.contributions, note))
        if not c.vetoed and c.logit >= floor
        else c
        for c in ranked
    ]
    marked.sort(key=lambda c: (-c.logit, c.entry.code))
    return marked
