"""Place names as organisation names write them, read back to GB/T 2260 code prefixes.

A name says where a firm is registered by a prefix (北京, 北京市, 浙江省杭州市) or by
brackets after the trade name (华信（北京）科技有限公司). Each alias maps to the code
prefixes it may mean: 北京 -> 11, 杭州 -> 3301, 朝阳区 -> 110105 and 220104 (a county
name can be ambiguous). Two regions agree when one prefix extends the other.

Counties are recognised only with their suffix (西湖区, 义乌市): a bare 西湖 or 利川 is as
likely a trade name as a place, and a wrongly stripped trade name would cost precision.
For the same reason only one place is read off the front of a name, the longest alias
(浙江省杭州市西湖区 is one alias, as are 杭州西湖区 and 北京市朝阳区).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Final

from bonafides.codes import known_regions, region_name

_PROVINCE_SUFFIXES: Final = (
    "维吾尔自治区",
    "壮族自治区",
    "回族自治区",
    "特别行政区",
    "自治区",
    "省",
    "市",
)
_PREFECTURE_SUFFIXES: Final = ("地区", "市", "盟")


def code_prefix(region: str) -> str:
    """A six-digit region code as the prefix it stands for: 330100 -> 3301, 110000 -> 11."""
    region = region.strip()
    while len(region) > 2 and region.endswith("00"):
        region = region[:-2]
    return region


def agree(a: str, b: str) -> bool:
    return a.startswith(b) or b.startswith(a)


def any_agree(ours: Iterable[str], theirs: Iterable[str]) -> bool:
    theirs = tuple(theirs)
    return any(agree(a, b) for a in ours for b in theirs)


def _short(name: str, suffixes: tuple[str, ...]) -> str | None:
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return None


@functools.cache
def aliases() -> dict[str, frozenset[str]]:
    """Alias -> the code prefixes it may mean."""
    found: dict[str, set[str]] = {}

    def add(alias: str | None, prefix: str) -> None:
        if alias and len(alias) >= 2:
            found.setdefault(alias, set()).add(prefix)

    for county in known_regions():
        province_code, prefecture_code = county[:2], county[:4]
        province = region_name(province_code + "0000") or ""
        add(province, province_code)
        add(_short(province, _PROVINCE_SUFFIXES), province_code)
        prefecture_full = region_name(prefecture_code + "00") or ""
        prefecture = prefecture_full[len(province) :] if prefecture_full != province else ""
        if prefecture:
            add(prefecture, prefecture_code)
            add(_short(prefecture, _PREFECTURE_SUFFIXES), prefecture_code)
            add(province + prefecture, prefecture_code)
        full = region_name(county) or ""
        local = full[len(prefecture_full) :] if full.startswith(prefecture_full) else ""
        if not local:
            local = full[len(province) :] if full.startswith(province) else ""
        province_short = _short(province, _PROVINCE_SUFFIXES) or province
        if prefecture:
            prefecture_short = _short(prefecture, _PREFECTURE_SUFFIXES) or prefecture
            for head in (province, province_short):
                add(head + prefecture, prefecture_code)
                add(head + prefecture_short, prefecture_code)
        if local and local != prefecture:
            # A county only with its suffix: 义乌市, not 义乌 (利川, 瑞安 are trade names too).
            add(local, county)
            heads = [province, province_short, prefecture_full]
            if prefecture:
                heads += [prefecture, prefecture_short, province_short + prefecture_short]
            for head in heads:
                add(head + local, county)
    return {alias: frozenset(codes) for alias, codes in found.items()}


@functools.cache
def _sizes_by_head() -> dict[str, tuple[int, ...]]:
    """An alias's first two characters -> the lengths of the aliases so beginning, longest
    first: a name is tried only against the lengths its own beginning can have."""
    found: dict[str, set[int]] = {}
    for alias in aliases():
        found.setdefault(alias[:2], set()).add(len(alias))
    return {head: tuple(sorted(sizes, reverse=True)) for head, sizes in found.items()}


def leading(text: str) -> tuple[str, frozenset[str]] | None:
    """The longest place alias ``text`` starts with, and its codes."""
    table = aliases()
    for size in _sizes_by_head().get(text[:2], ()):
        if size <= len(text):
            codes = table.get(text[:size])
            if codes is not None:
                return text[:size], codes
    return None
