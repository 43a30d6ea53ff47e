"""Actions, joint memoranda and their measures, shaped for the JSON API and the portal.

Principle 3 is visible here: every measure names the lists that trigger it, the actions
it affects (and no others), its effect, the department that applies it, and its legal
basis, with the memorandum's own basis before the measure's.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, Field

from bonafides.catalogue import Catalogue
from bonafides.rules.model import Measure, Memorandum, MonthsDuration, Rules


class ActionOut(BaseModel):
    code: str
    title_zh: str
    title_en: str
    description: str
    measures: list[str] = Field(description="Measures that affect this action.")
    legal_basis: list[str] = Field(description="The legal bases of those measures.")


class MeasureOut(BaseModel):
    code: str
    title_zh: str
    title_en: str
    effect: str = Field(description="prohibit, restrict, scrutinise, prefer, fast_track, waive.")
    lists: list[str]
    actions: list[str]
    department: str = Field(description="The department that applies the measure.")
    department_zh: str
    department_en: str
    duration_months: int | None = Field(description="None: as long as the list entry.")
    memorandum: str
    memorandum_title_zh: str
    memorandum_title_en: str
    document_no: str | None
    legal_basis: list[str] = Field(min_length=1, description="Memorandum's, then measure's.")


class MemorandumOut(BaseModel):
    code: str
    title_zh: str
    title_en: str
    document_no: str | None
    departments: list[str]
    legal_basis: list[str]
    measures: list[str]


@dataclass(frozen=True)
class MeasureFilter:
    action: str | None = None
    list: str | None = None
    department: str | None = None
    effect: str | None = None

    def admits(self, measure: Measure) -> bool:
        return (
            (self.action is None or self.action in measure.actions)
            and (self.list is None or self.list in measure.lists)
            and (self.department is None or self.department == measure.department)
            and (self.effect is None or self.effect == measure.effect.value)
        )


def measure_out(memo: Memorandum, measure: Measure, catalogue: Catalogue) -> MeasureOut:
    try:
        dept = catalogue.department(measure.department)
        dept_zh, dept_en = dept.name_zh, dept.name_en
    except KeyError:
        dept_zh = dept_en = measure.department
    months = measure.duration.months if isinstance(measure.duration, MonthsDuration) else None
    return MeasureOut(
        code=measure.code,
        title_zh=measure.title_zh,
        title_en=measure.title_en,
        effect=measure.effect.value,
        lists=list(measure.lists),
        actions=list(measure.actions),
        department=measure.department,
        department_zh=dept_zh,
        department_en=dept_en,
        duration_months=months,
        memorandum=memo.code,
        memorandum_title_zh=memo.title_zh,
        memorandum_title_en=memo.title_en,
        document_no=memo.document_no,
        legal_basis=[*memo.legal_basis, *measure.legal_basis],
    )


def measures(rules: Rules, wanted: MeasureFilter) -> list[MeasureOut]:
    """Measures the filter admits, strongest effect first, then by code."""
    pairs = [(m, x) for m, x in rules.measures.values() if wanted.admits(x)]
    pairs.sort(key=lambda pair: (pair[1].effect.rank, pair[1].code))
    return [measure_out(memo, measure, rules.catalogue) for memo, measure in pairs]


def actions(rules: Rules) -> list[ActionOut]:
    out = []
    for action in rules.actions.values():
        found = rules.measures_for(action.code)
        bases = dict.fromkeys(b for memo, m in found for b in (*memo.legal_basis, *m.legal_basis))
        out.append(
            ActionOut(
                code=action.code,
                title_zh=action.title_zh,
                title_en=action.title_en,
                description=action.description,
                measures=[m.code for _, m in found],
                legal_basis=list(bases),
            )
        )
    return out


def memoranda(rules: Rules) -> list[MemorandumOut]:
    return [
        MemorandumOut(
            code=memo.code,
            title_zh=memo.title_zh,
            title_en=memo.title_en,
            document_no=memo.document_no,
            departments=list(memo.departments),
            legal_basis=list(memo.legal_basis),
            measures=[m.code for m in memo.measures],
        )
        for memo in rules.ruleset.memoranda
    ]
