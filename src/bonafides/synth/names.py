"""Name pools: people, trade names and industry words, each with its pinyin or English.

Entity matching, search and reports are only tested honestly on names that look like the
real ones: frequent surnames far more often than rare ones, two-character trade names
(字号) from the auspicious characters firms actually choose, and an industry word that
fits the firm's GB/T 4754 section. Every Chinese part carries its English rendering so a
name and its translation never disagree.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from itertools import accumulate
from random import Random
from typing import Final

#: Surnames with their share per thousand people (approximately the national ranking).
SURNAMES: Final[tuple[tuple[str, str, float], ...]] = (
    ("王", "wang", 72.0),
    ("李", "li", 72.0),
    ("张", "zhang", 68.0),
    ("刘", "liu", 54.0),
    ("陈", "chen", 45.0),
    ("杨", "yang", 31.0),
    ("黄", "huang", 22.0),
    ("赵", "zhao", 21.0),
    ("吴", "wu", 20.0),
    ("周", "zhou", 20.0),
    ("徐", "xu", 16.0),
    ("孙", "sun", 15.0),
    ("马", "ma", 14.0),
    ("朱", "zhu", 13.0),
    ("胡", "hu", 13.0),
    ("郭", "guo", 12.0),
    ("何", "he", 12.0),
    ("高", "gao", 11.0),
    ("林", "lin", 11.0),
    ("罗", "luo", 11.0),
    ("郑", "zheng", 10.0),
    ("梁", "liang", 10.0),
    ("谢", "xie", 8.0),
    ("宋", "song", 8.0),
    ("唐", "tang", 8.0),
    ("许", "xu", 7.0),
    ("韩", "han", 7.0),
    ("冯", "feng", 7.0),
    ("邓", "deng", 7.0),
    ("曹", "cao", 7.0),
    ("彭", "peng", 6.0),
    ("曾", "zeng", 6.0),
    ("肖", "xiao", 6.0),
    ("田", "tian", 6.0),
    ("董", "dong", 5.0),
    ("袁", "yuan", 5.0),
    ("潘", "pan", 5.0),
    ("于", "yu", 5.0),
    ("蒋", "jiang", 5.0),
    ("蔡", "cai", 5.0),
    ("余", "yu", 5.0),
    ("杜", "du", 5.0),
    ("叶", "ye", 4.0),
    ("程", "cheng", 4.0),
    ("苏", "su", 4.0),
    ("魏", "wei", 4.0),
    ("丁", "ding", 4.0),
    ("任", "ren", 4.0),
    ("沈", "shen", 4.0),
    ("姚", "yao", 4.0),
    ("卢", "lu", 4.0),
    ("姜", "jiang", 3.0),
    ("崔", "cui", 3.0),
    ("钟", "zhong", 3.0),
    ("谭", "tan", 3.0),
    ("陆", "lu", 3.0),
    ("汪", "wang", 3.0),
    ("范", "fan", 3.0),
    ("金", "jin", 3.0),
    ("石", "shi", 3.0),
    ("廖", "liao", 3.0),
    ("贾", "jia", 3.0),
    ("夏", "xia", 3.0),
    ("韦", "wei", 3.0),
    ("付", "fu", 3.0),
    ("方", "fang", 3.0),
    ("白", "bai", 3.0),
    ("邹", "zou", 3.0),
    ("孟", "meng", 3.0),
    ("熊", "xiong", 3.0),
    ("秦", "qin", 3.0),
    ("邱", "qiu", 3.0),
    ("江", "jiang", 3.0),
    ("尹", "yin", 3.0),
    ("薛", "xue", 2.0),
    ("闫", "yan", 2.0),
    ("段", "duan", 2.0),
    ("雷", "lei", 2.0),
    ("侯", "hou", 2.0),
    ("龙", "long", 2.0),
    ("史", "shi", 2.0),
    ("陶", "tao", 2.0),
    ("黎", "li", 2.0),
    ("贺", "he", 2.0),
    ("顾", "gu", 2.0),
    ("毛", "mao", 2.0),
    ("郝", "hao", 2.0),
    ("龚", "gong", 2.0),
    ("邵", "shao", 2.0),
    ("万", "wan", 2.0),
    ("钱", "qian", 2.0),
    ("严", "yan", 2.0),
    ("覃", "qin", 2.0),
    ("武", "wu", 2.0),
    ("戴", "dai", 2.0),
    ("莫", "mo", 2.0),
    ("孔", "kong", 2.0),
    ("向", "xiang", 2.0),
    ("汤", "tang", 2.0),
    ("欧阳", "ouyang", 0.5),
    ("司马", "sima", 0.1),
    ("上官", "shangguan", 0.05),
    ("诸葛", "zhuge", 0.05),
)

GIVEN_MALE: Final[tuple[tuple[str, str], ...]] = (
    ("伟", "wei"), ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"),
    ("勇", "yong"), ("杰", "jie"), ("涛", "tao"), ("明", "ming"), ("超", "chao"),
    ("刚", "gang"), ("平", "ping"), ("辉", "hui"), ("鹏", "peng"), ("华", "hua"),
    ("飞", "fei"), ("鑫", "xin"), ("波", "bo"), ("斌", "bin"), ("宇", "yu"),
    ("浩", "hao"), ("凯", "kai"), ("健", "jian"), ("俊", "jun"), ("帆", "fan"),
    ("旭", "xu"), ("宁", "ning"), ("龙", "long"), ("林", "lin"), ("峰", "feng"),
    ("建", "jian"), ("国", "guo"), ("志", "zhi"), ("文", "wen"), ("海", "hai"),
    ("亮", "liang"), ("成", "cheng"), ("东", "dong"), ("晨", "chen"), ("博", "bo"),
    ("轩", "xuan"), ("然", "ran"), ("睿", "rui"), ("泽", "ze"), ("子", "zi"),
    ("航", "hang"), ("天", "tian"), ("一", "yi"), ("嘉", "jia"), ("昊", "hao"),
    ("毅", "yi"), ("振", "zhen"), ("永", "yong"), ("德", "de"), ("庆", "qing"),
    ("生", "sheng"), ("福", "fu"), ("祥", "xiang"), ("荣", "rong"), ("春", "chun"),
)  # fmt: skip

GIVEN_FEMALE: Final[tuple[tuple[str, str], ...]] = (
    ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"),
    ("艳", "yan"), ("娟", "juan"), ("秀", "xiu"), ("霞", "xia"), ("桂", "gui"),
    ("英", "ying"), ("玉", "yu"), ("兰", "lan"), ("红", "hong"), ("梅", "mei"),
    ("婷", "ting"), ("雪", "xue"), ("欣", "xin"), ("怡", "yi"), ("涵", "han"),
    ("琪", "qi"), ("佳", "jia"), ("颖", "ying"), ("慧", "hui"), ("琳", "lin"),
    ("晶", "jing"), ("萍", "ping"), ("燕", "yan"), ("丹", "dan"), ("倩", "qian"),
    ("莉", "li"), ("洁", "jie"), ("璐", "lu"), ("悦", "yue"), ("雨", "yu"),
    ("思", "si"), ("梦", "meng"), ("瑶", "yao"), ("诗", "shi"), ("可", "ke"),
    ("彤", "tong"), ("萱", "xuan"), ("月", "yue"), ("婉", "wan"), ("淑", "shu"),
    ("珍", "zhen"), ("凤", "feng"), ("云", "yun"), ("华", "hua"), ("春", "chun"),
)  # fmt: skip

#: Characters firms choose for their trade names (字号).
TRADE_CHARS: Final[tuple[tuple[str, str], ...]] = (
    ("鑫", "xin"), ("源", "yuan"), ("华", "hua"), ("盛", "sheng"), ("泰", "tai"),
    ("瑞", "rui"), ("丰", "feng"), ("达", "da"), ("恒", "heng"), ("宏", "hong"),
    ("远", "yuan"), ("新", "xin"), ("创", "chuang"), ("嘉", "jia"), ("信", "xin"),
    ("诚", "cheng"), ("博", "bo"), ("锦", "jin"), ("永", "yong"), ("安", "an"),
    ("天", "tian"), ("中", "zhong"), ("金", "jin"), ("佳", "jia"), ("德", "de"),
    ("明", "ming"), ("海", "hai"), ("光", "guang"), ("和", "he"), ("兴", "xing"),
    ("荣", "rong"), ("隆", "long"), ("福", "fu"), ("通", "tong"), ("利", "li"),
    ("振", "zhen"), ("星", "xing"), ("宇", "yu"), ("晨", "chen"), ("旭", "xu"),
    ("辰", "chen"), ("启", "qi"), ("润", "run"), ("卓", "zhuo"), ("越", "yue"),
    ("汇", "hui"), ("联", "lian"), ("力", "li"), ("美", "mei"), ("康", "kang"),
    ("蓝", "lan"), ("青", "qing"), ("云", "yun"), ("峰", "feng"), ("祥", "xiang"),
    ("聚", "ju"), ("智", "zhi"), ("科", "ke"), ("正", "zheng"), ("万", "wan"),
    ("百", "bai"), ("广", "guang"), ("立", "li"), ("志", "zhi"), ("春", "chun"),
    ("晟", "sheng"), ("弘", "hong"), ("昌", "chang"), ("凯", "kai"), ("腾", "teng"),
    ("骏", "jun"), ("翔", "xiang"), ("益", "yi"), ("元", "yuan"), ("亿", "yi"),
    ("方", "fang"), ("合", "he"), ("众", "zhong"), ("阳", "yang"), ("东", "dong"),
    ("南", "nan"), ("宝", "bao"), ("富", "fu"), ("乐", "le"), ("邦", "bang"),
    ("豪", "hao"), ("威", "wei"), ("扬", "yang"), ("航", "hang"), ("景", "jing"),
    ("悦", "yue"), ("欣", "xin"), ("铭", "ming"), ("诺", "nuo"), ("奥", "ao"),
    ("优", "you"), ("捷", "jie"), ("赛", "sai"), ("迪", "di"), ("森", "sen"),
    ("林", "lin"), ("江", "jiang"), ("山", "shan"), ("川", "chuan"), ("顺", "shun"),
    ("祺", "qi"), ("裕", "yu"), ("晶", "jing"), ("丰", "feng"), ("农", "nong"),
)  # fmt: skip


def pinyin_join(syllables: Sequence[str]) -> str:
    """Join syllables into one capitalised word, with the apostrophe before a/o/e
    (西安 Xi'an, 天安 Tian'an) that keeps the syllable boundary readable."""
    out = ""
    for syllable in syllables:
        if out and syllable[:1] in "aoe":
            out += "'"
        out += syllable
    return out[:1].upper() + out[1:]


class WeightedPool:
    """Weighted choice by one bisect over precomputed cumulative weights."""

    def __init__(self, items: Sequence[tuple[str, str]], weights: Sequence[float]) -> None:
        self.items = tuple(items)
        self.cumulative = tuple(accumulate(weights))
        self.total = self.cumulative[-1]

    def draw(self, rng: Random) -> tuple[str, str]:
        index = bisect.bisect_right(self.cumulative, rng.random() * self.total)
        return self.items[min(index, len(self.items) - 1)]


_SURNAMES = WeightedPool([(s, p) for s, p, _ in SURNAMES], [w for _, _, w in SURNAMES])


def surname(rng: Random) -> tuple[str, str]:
    zh, py = _SURNAMES.draw(rng)
    return zh, pinyin_join([py])


def person_name(rng: Random, *, male: bool) -> tuple[str, str]:
    """(Chinese name, pinyin as on a passport: "Wang Fang", "Ouyang Zixuan")."""
    family, family_py = _SURNAMES.draw(rng)
    pool = GIVEN_MALE if male else GIVEN_FEMALE
    first = pool[int(rng.random() * len(pool))]
    if rng.random() < 0.3:
        return family + first[0], f"{pinyin_join([family_py])} {pinyin_join([first[1]])}"
    second = pool[int(rng.random() * len(pool))]
    given = pinyin_join([first[1], second[1]])
    return family + first[0] + second[0], f"{pinyin_join([family_py])} {given}"


def trade_name(rng: Random) -> tuple[str, str]:
    """A two- or three-character trade name and its pinyin, e.g. ("鑫源", "Xinyuan")."""
    count = 3 if rng.random() < 0.12 else 2
    chars: list[tuple[str, str]] = []
    while len(chars) < count:
        pick = TRADE_CHARS[int(rng.random() * len(TRADE_CHARS))]
        if not chars or pick[0] != chars[-1][0]:
            chars.append(pick)
    return "".join(c[0] for c in chars), pinyin_join([c[1] for c in chars])
