"""Every negative record type has an effect, or says why it has none.

A "list" type that feeds no list triggers no joint measure: a catalogue entry without
effect, which is how 34 negative types were found doing nothing. The catalogue (what a
type is) and the rules (what follows from it) are separate files kept by different
people, so the tie between them is checked here rather than in either loader: each
negative type feeds at least one list of the rules, or carries ``no_list`` with the reason
it feeds none, and never both.
"""

from __future__ import annotations

from dataclasses import dataclass

from bonafides.catalogue import Polarity
from bonafides.rules.model import Rules

__all__ = ["Effect", "coverage_problems", "effect_of"]


@dataclass(frozen=True)
class Effect:
    """What a record type leads to: the lists it feeds, or why it feeds none."""

    lists: tuple[str, ...]
    no_list: str | None
    no_list_zh: str | None

    @property
    def summary(self) -> str:
        if self.lists:
            return ", ".join(self.lists)
        if self.no_list:
            return f"no list: {self.no_list}"
        return "-"


def effect_of(rules: Rules, type_code: str) -> Effect:
    rtype = rules.catalogue.type(type_code)
    return Effect(rules.lists_fed_by(type_code), rtype.no_list, rtype.no_list_zh)


def coverage_problems(rules: Rules) -> list[str]:
    """Negative types that neither feed a list nor say why, and types that claim both."""
    problems: list[str] = []
    for rtype in rules.catalogue.types:
        fed = rules.lists_fed_by(rtype.code)
        if rtype.polarity is Polarity.NEGATIVE and not fed and rtype.no_list is None:
            problems.append(
                f"{rtype.code}: a negative type that feeds no list; wire it to a list in the "
                "rules or give the catalogue's no_list with the reason"
            )
        if fed and rtype.no_list is not None:
            problems.append(
                f"{rtype.code}: marked no_list but the rules put subjects on {', '.join(fed)}"
            )
    return problems
