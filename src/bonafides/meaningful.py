"""How much a stated purpose, piece of evidence or reason says, fairly in Chinese and English.

A minimum length in characters refuses normal Chinese: 贷款审批 ("loan approval") and
现场核验 ("checked on site") say in four characters what English needs a dozen letters
for. So the minimum is counted in letters and digits, and a Chinese character (or a
Japanese or Korean one) counts as :data:`CJK_WEIGHT` of them: a minimum of 5 takes five
letters or two Chinese characters. Spaces, punctuation and symbols count for nothing, so
"....." or "？？？" says nothing. Every free-text minimum of the services is measured here.
"""

from __future__ import annotations

import math
import re
import unicodedata

#: What one Chinese, Japanese or Korean character weighs, in Latin letters.
CJK_WEIGHT = 2.5

_CJK = re.compile(
    "[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f]"
)


def measure(text: str) -> float:
    """The letters and digits of ``text``, each Chinese character weighing CJK_WEIGHT."""
    total = 0.0
    for ch in text:
        if _CJK.match(ch):
            total += CJK_WEIGHT
        elif unicodedata.category(ch)[0] in "LN":
            total += 1
    return total


def says_enough(text: str, minimum: int) -> bool:
    return measure(text) >= minimum


def fewest_characters(minimum: int) -> int:
    """The fewest characters that can meet ``minimum`` (all of them Chinese): the
    ``minlength`` a form may ask of the browser without refusing what the service takes."""
    return max(1, math.ceil(minimum / CJK_WEIGHT)) if minimum > 0 else 0


def requirement(minimum: int) -> str:
    """The minimum in words, for an error message."""
    return (
        f"at least {minimum} letters or digits, or {fewest_characters(minimum)} Chinese characters"
    )
