"""Details of a decision that several of its fields must agree on.

A penalty's content states the fine its fine column holds, a licence's validity follows
its decision date, the facts describe the violation the type column names. Each detail is
drawn once per record and kept in the draw's memo for the record's other fields.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from bonafides.codes import make_uscc
from bonafides.synth import texts
from bonafides.synth.choices import pick
from bonafides.synth.draw import Draw
from bonafides.synth.names import trade_name
from bonafides.synth.subjects import add_years


def amount(d: Draw, low: float, high: float, digits: int = 2) -> str:
    """Log-uniform between ``low`` and ``high``: small amounts far more often than large."""
    value = low * (high / low) ** d.rng.random()
    return f"{value:.{digits}f}"


def third_party_uscc(d: Draw) -> str:
    body = f"{int(d.rng.random() * 10**8):08d}"
    region = d.subject.place.region if d.subject else "110101"
    return make_uscc("9", "1", region, body)


def third_party_name(d: Draw) -> str:
    place = d.subject.place if d.subject else None
    prefix = place.prefix_zh if place else "北京"
    word = pick(d, ("贸易", "建设工程", "科技", "商贸", "物流", "食品", "电子科技"))
    return f"{prefix}{trade_name(d.rng)[0]}{word}有限公司"


def local_court(d: Draw) -> str:
    if d.subject is not None:
        return f"{d.subject.place.local_zh}人民法院"
    return d.dept.name_zh if d.dept else "人民法院"


# ---------------------------------------------------------------------------- shared memos


_POOLS: dict[tuple[str, str], tuple[texts.Violation, ...]] = {}
#: Two-character words too common in type titles to say which violation is meant.
_COMMON_WORDS: Final = frozenset({"违法", "信息", "行政", "严重", "失信", "名单", "主体", "行为"})


def _violations(domain: str, title: str) -> tuple[texts.Violation, ...]:
    """The domain's violations, narrowed to those that share a word with the type's title
    (a wage-arrears listing is about arrears, not about overtime)."""
    pool = texts.VIOLATIONS.get(domain) or texts.VIOLATIONS.get(
        texts.DOMAIN_ALIASES.get(domain, "general"), texts.VIOLATIONS["general"]
    )
    words = {title[i : i + 2] for i in range(len(title) - 1)} - _COMMON_WORDS
    return tuple(v for v in pool if any(w in v.kind for w in words)) or pool


def violation(d: Draw) -> texts.Violation:
    found = d.memo.get("violation")
    if found is None:
        key = (d.domain, d.rtype.code)
        pool = _POOLS.get(key)
        if pool is None:
            pool = _POOLS[key] = _violations(d.domain, d.rtype.title_zh)
        found = d.memo["violation"] = pick(d, pool)
    return found  # type: ignore[no-any-return]


def facts(d: Draw) -> str:
    v = violation(d)
    when = d.before(5, 120)
    who = "当事人" if d.rng.random() < 0.7 else (d.ref.name if d.ref else "当事人")
    on = f"{when.year}年{when.month}月{when.day}日"
    return f"经查，{who}于{on}{v.act}，违反了{v.law}{v.breached}的规定。"


def yuan(ten_thousands: str) -> str:
    return f"{round(float(ten_thousands) * 10000):,}"


@dataclass(frozen=True, slots=True)
class Penalty:
    categories: tuple[str, ...]
    fine: str | None
    confiscated: str | None
    licence: str | None
    content: str


_FINE_RANGE: Final = {"minor": (0.05, 0.5), "general": (0.2, 20.0), "serious": (5.0, 2000.0)}


def penalty_memo(allowed: frozenset[str]) -> Callable[[Draw], Penalty]:
    def keep(*categories: str) -> tuple[str, ...]:
        kept = tuple(c for c in categories if c in allowed or not allowed)
        return kept or (sorted(allowed)[0],)

    def compute(d: Draw) -> Penalty:
        found = d.memo.get("penalty")
        if found is not None:
            return found  # type: ignore[no-any-return]
        severity = d.severity or "general"
        roll = d.rng.random()
        if severity == "minor":
            cats = keep("warning") if roll < 0.55 else keep("fine")
        elif severity == "general":
            cats = (
                keep("fine")
                if roll < 0.72
                else keep("warning", "fine")
                if roll < 0.85
                else keep("fine", "confiscation_of_illegal_gains")
            )
        else:
            cats = (
                keep("fine", "confiscation_of_illegal_gains")
                if roll < 0.5
                else keep("fine", "licence_revocation")
                if roll < 0.7
                else keep("fine", "suspension_of_business")
                if roll < 0.85
                else keep("fine")
            )
        low, high = _FINE_RANGE.get(severity, _FINE_RANGE["general"])
        fine = amount(d, low, high) if "fine" in cats else None
        confiscated = amount(d, 0.05, high / 2) if "confiscation_of_illegal_gains" in cats else None
        licence = None
        if "licence_revocation" in cats or "licence_suspension" in cats:
            name = pick(d, texts.LICENCES.get(d.domain, texts.LICENCES["market"])).name
            licence = f"{name}（编号{d.days(100000, 999999)}）"
        parts = []
        if "warning" in cats:
            parts.append("警告")
        if fine is not None:
            parts.append(f"罚款人民币{yuan(fine)}元")
        if confiscated is not None:
            parts.append(f"没收违法所得人民币{yuan(confiscated)}元")
        if licence is not None:
            parts.append(f"吊销{licence}")
        if "suspension_of_business" in cats:
            parts.append(f"责令停产停业{d.days(1, 6)}个月")
        if not parts:
            parts.append("依法给予行政处罚")
        found = d.memo["penalty"] = Penalty(cats, fine, confiscated, licence, "；".join(parts))
        return found

    return compute


@dataclass(frozen=True, slots=True)
class LicenceDetails:
    licence: texts.Licence
    number: str
    valid_from: dt.date
    valid_until: dt.date


def licence_details(d: Draw) -> LicenceDetails:
    found = d.memo.get("licence")
    if found is None:
        pool = texts.LICENCES.get(d.domain) or texts.LICENCES.get(
            texts.DOMAIN_ALIASES.get(d.domain, "general"), texts.LICENCES["general"]
        )
        licence = pick(d, pool)
        region = d.subject.place.region if d.subject else "110101"
        number = f"{licence.number_prefix}{region}{d.decided.year % 100:02d}{d.days(1, 99999):05d}"
        start = d.decided if d.rng.random() < 0.7 else d.after(1, 10, cap=False)
        end = add_years(start, 5 if d.rng.random() < 0.6 else 3) - dt.timedelta(days=1)
        found = d.memo["licence"] = LicenceDetails(licence, number, start, end)
    return found


def honour(d: Draw) -> tuple[str, str]:
    found = d.memo.get("honour")
    if found is None:
        rural = d.subject is not None and d.subject.industry == "A"
        pool = texts.RURAL_HONOURS if rural and d.rng.random() < 0.6 else texts.HONOURS
        found = d.memo["honour"] = pick(d, pool)
    return found  # type: ignore[no-any-return]


def period_end(d: Draw) -> dt.date:
    found = d.memo.get("period_end")
    if found is None:
        found = d.memo["period_end"] = add_years(d.decided, d.days(1, 3)) - dt.timedelta(days=1)
    return found


def grade_score(d: Draw, grade: str) -> str | None:
    ranges = {"A": (90, 100), "B": (70, 89.9), "M": (70, 100), "C": (40, 69.9), "D": (0, 39.9)}
    low, high = ranges.get(grade, (60, 100))
    if grade == "D" and d.rng.random() < 0.5:
        return None  # directly determined D: no score
    return f"{low + (high - low) * d.rng.random():.1f}"


#: Penalty details for fields of types without a penalty category of their own.
ANY_PENALTY: Final = penalty_memo(frozenset())
