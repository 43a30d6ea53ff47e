"""Chinese organisation names taken apart: place, trade name and business, legal form, branch.

A registered name is 区划 + 字号 + 行业 + 组织形式 (杭州鑫源贸易有限公司), a branch adds its
own label and 分公司 after its parent's full name. The same firm is written many ways:
full- or half-width brackets, stray spaces, traditional characters, the place dropped,
written 北京 or 北京市 or moved into brackets, 有限责任公司 for 有限公司. ``parse`` reads
every spelling to the same parts, so the matcher compares parts, never raw strings; what
it cannot read stays in the core, where it can only make two names differ.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Final

import opencc
from pypinyin import Style, lazy_pinyin, pinyin

from bonafides.matching import regions

#: Legal forms at the end of a name, longest first, and the form each one means.
#: 有限责任公司 and 有限公司 are one form; 股份有限公司 is another (a company limited by shares).
FORMS: Final[tuple[tuple[str, str], ...]] = (
    ("股份有限公司", "股份有限公司"),
    ("有限责任公司", "有限公司"),
    ("有限公司", "有限公司"),
    ("股份合作公司", "股份合作公司"),
    ("公司", "公司"),
    ("农民专业合作社", "农民专业合作社"),
    ("股份经济合作社", "股份经济合作社"),
    ("经济合作社", "经济合作社"),
    ("专业合作社", "专业合作社"),
    ("合伙企业", "合伙企业"),
    ("律师事务所", "律师事务所"),
    ("基金会", "基金会"),
    ("商会", "商会"),
    ("厂", "厂"),
)
#: Words that make a name a branch of the name before them. 分公司 is never a trade word.
BRANCH_WORDS: Final = ("分公司", "分厂", "分店", "分行", "分所", "分社", "分部", "分中心", "支行")
#: Words that make a branch only after a parent's legal form (a shop may be a 经营部).
BRANCH_AFTER_FORM: Final = ("办事处", "营业部", "经营部", "门市部", "分支机构")
_PARTNERSHIP: Final = re.compile(r"\((有限合伙|普通合伙|特殊普通合伙)\)$")
_BRACKET: Final = re.compile(r"\(([^()]*)\)")
_DROP: Final = re.compile(r"[\s\u3000·・.,，、\"'“”‘’]+")
#: Bracket spellings, after NFKC, read as round brackets.
_BRACKETS: Final = str.maketrans({"[": "(", "]": ")", "〔": "(", "〕": ")", "【": "(", "】": ")"})

_T2S: Final = opencc.OpenCC("t2s")
#: Characters OpenCC's t2s leaves as they are inside a phrase it knows (甯越, a person's
#: name), where a company's name means the common simplified form: 遂宁 written 遂甯.
_SIMPLIFIED: Final = str.maketrans({"甯": "宁"})


def canonical(raw: str) -> str:
    """One spelling: half-width, simplified, round brackets, no spaces or stray dots,
    Latin letters in capitals (ABC科技 and abc科技 are one name)."""
    text = unicodedata.normalize("NFKC", raw).translate(_BRACKETS).upper()
    return _DROP.sub("", _T2S.convert(text).translate(_SIMPLIFIED))


def judgement_key(raw: str) -> str:
    """The key a person's judgement of a name is kept under: its one spelling, so a
    rejection holds however the next row writes the name."""
    return canonical(raw)[:300]


@dataclass(frozen=True, slots=True)
class ParsedName:
    """A name's parts. ``core`` is the trade name with its business (鑫源贸易)."""

    canonical: str
    core: str
    form: str
    #: Each place the name names, as the code prefixes it may mean (朝阳区: two).
    regions: tuple[frozenset[str], ...]
    branch: bool
    #: The branch's own label (西湖), without its place suffix; empty for a parent.
    label: str

    @property
    def key(self) -> str:
        return f"{self.core}|{self.form}|{int(self.branch)}|{self.label}"


def _split_form(text: str) -> tuple[str, str]:
    partnership = _PARTNERSHIP.search(text)
    if partnership:
        text = text[: partnership.start()]
        if text.endswith("合伙企业"):
            text = text[: -len("合伙企业")]
        return text, partnership.group(1)
    for suffix, form in FORMS:
        if text.endswith(suffix) and len(text) > len(suffix):
            return text[: -len(suffix)], form
    return text, ""


def _split_branch(text: str) -> tuple[str, str, bool]:
    """(parent, label, is a branch)."""
    for word in BRANCH_WORDS + BRANCH_AFTER_FORM:
        if not text.endswith(word) or len(text) <= len(word):
            continue
        head = text[: -len(word)]
        cut = -1
        for suffix, _ in FORMS:
            at = head.rfind(suffix)
            if at >= 0 and at + len(suffix) > cut:
                cut = at + len(suffix)
        if cut < 0 and word in BRANCH_AFTER_FORM:
            continue
        if cut < 0:
            return head, "", True
        return head[:cut], head[cut:], True
    return text, "", False


def _label(label: str) -> str:
    """A branch label without its place suffix: 西湖区 and 西湖 name the same branch."""
    label = label.replace("(", "").replace(")", "")
    for suffix in ("区", "县", "市", "省", "镇", "街道"):
        if label.endswith(suffix) and len(label) > len(suffix) + 1:
            return label[: -len(suffix)]
    return label


def _strip_places(text: str) -> tuple[str, list[frozenset[str]]]:
    """Leading place names off, bracketed place names out; each one's codes kept."""
    found: list[frozenset[str]] = []

    def bracket(match: re.Match[str]) -> str:
        inner = match.group(1)
        codes = regions.aliases().get(inner)
        if codes is not None:
            found.append(codes)
            return ""
        return inner

    text = _BRACKET.sub(bracket, text)
    lead = regions.leading(text)
    if lead is not None and len(text) - len(lead[0]) >= 2:
        found.append(lead[1])
        text = text[len(lead[0]) :]
    return text, found


@functools.lru_cache(maxsize=65536)
def parse(raw: str) -> ParsedName:
    text = canonical(raw)
    parent, label, branch = _split_branch(text)
    body, form = _split_form(parent)
    core, codes = _strip_places(body)
    label_core, label_codes = _strip_places(label) if label else ("", [])
    return ParsedName(
        canonical=text,
        core=core.replace("(", "").replace(")", ""),
        form=form,
        regions=tuple(codes),
        branch=branch,
        label=_label(label_core) if label_core else "/".join(sorted(min(c) for c in label_codes)),
    )


#: Characters that optical recognition and hurried typing confuse, in groups.
_LOOKALIKE_GROUPS: Final = (
    "己已巳",
    "未末",
    "土士",
    "日曰",
    "人入八",
    "大太犬天夭",
    "王玉主",
    "刀力",
    "千干于午",
    "戊戌戍",
    "万方",
    "元无",
    "东车",
    "合含会",
    "中申",
    "百白",
    "广厂",
    "田由甲申",
    "免兔",
    "鸟乌",
    "贝见",
    "折析",
    "候侯",
    "拨拔",
    "准淮",
    "采釆",
    "兴舆",
    "汇江",
    "晨辰",
    "宏弘",
    "祥样",
    "锦绵",
    "佳住",
    "盛晟",
    "旭旮",
    "易昜",
)


def _lookalikes() -> dict[str, frozenset[str]]:
    found: dict[str, set[str]] = {}
    for group in _LOOKALIKE_GROUPS:
        for ch in group:
            found.setdefault(ch, set()).update(set(group) - {ch})
    return {ch: frozenset(others) for ch, others in found.items()}


#: Each character -> the characters it may be mistaken for.
LOOKALIKE: Final = _lookalikes()


def _folds() -> dict[int, str]:
    """Each character of a group -> one character for the groups it is joined to (申 is
    in two): a name and its look-alike misreading fold to the same text."""
    parent: dict[str, str] = {}

    def root(ch: str) -> str:
        while parent.get(ch, ch) != ch:
            ch = parent[ch]
        return ch

    for group in _LOOKALIKE_GROUPS:
        for ch in group[1:]:
            a, b = root(group[0]), root(ch)
            if a != b:
                parent[max(a, b)] = min(a, b)
    return {ord(ch): root(ch) for group in _LOOKALIKE_GROUPS for ch in group}


_FOLD: Final = _folds()


def folded(core: str) -> str | None:
    """The core with every look-alike character folded to its group's, or None when it
    has none: the key that finds 祥康化工 for 样康化工 however common ?康化工 is."""
    if not any(ord(ch) in _FOLD for ch in core):
        return None
    return core.translate(_FOLD)


@functools.lru_cache(maxsize=8192)
def readings(char: str) -> frozenset[str]:
    """Every toneless reading of one character (itself if it has none)."""
    found = pinyin(char, style=Style.NORMAL, heteronym=True)
    return frozenset(found[0]) if found and found[0] else frozenset({char})


@functools.lru_cache(maxsize=16384)
def _reading(char: str) -> str:
    found = lazy_pinyin(char, style=Style.NORMAL)
    return found[0] if found else char


def sound(core: str) -> str:
    """The core as it is pronounced, toneless, each character in its usual reading:
    鑫源 and 新源 sound alike."""
    return " ".join([_reading(ch) for ch in core])
