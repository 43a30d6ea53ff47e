"""Where synthetic subjects are: real county-level regions, weighted like a real platform.

A regional platform holds mostly local subjects and a thin spread from everywhere else,
so a few provinces carry most of the weight (Zhejiang and Beijing first: the default
catalogue's local departments are there). Names need a short place prefix in Chinese and
in pinyin; the prefecture-level cities of the heavily weighted provinces have one here,
anywhere else the province stands in, as it does in many real company names.
"""

from __future__ import annotations

import bisect
import functools
from dataclasses import dataclass
from random import Random
from typing import Final

from bonafides.codes import known_regions, region_name

#: Province code -> (short name, English name, one-character abbreviation used in
#: document numbers such as 浙市监罚〔2024〕12号).
PROVINCES: Final[dict[str, tuple[str, str, str]]] = {
    "11": ("北京", "Beijing", "京"),
    "12": ("天津", "Tianjin", "津"),
    "13": ("河北", "Hebei", "冀"),
    "14": ("山西", "Shanxi", "晋"),
    "15": ("内蒙古", "Inner Mongolia", "蒙"),
    "21": ("辽宁", "Liaoning", "辽"),
    "22": ("吉林", "Jilin", "吉"),
    "23": ("黑龙江", "Heilongjiang", "黑"),
    "31": ("上海", "Shanghai", "沪"),
    "32": ("江苏", "Jiangsu", "苏"),
    "33": ("浙江", "Zhejiang", "浙"),
    "34": ("安徽", "Anhui", "皖"),
    "35": ("福建", "Fujian", "闽"),
    "36": ("江西", "Jiangxi", "赣"),
    "37": ("山东", "Shandong", "鲁"),
    "41": ("河南", "Henan", "豫"),
    "42": ("湖北", "Hubei", "鄂"),
    "43": ("湖南", "Hunan", "湘"),
    "44": ("广东", "Guangdong", "粤"),
    "45": ("广西", "Guangxi", "桂"),
    "46": ("海南", "Hainan", "琼"),
    "50": ("重庆", "Chongqing", "渝"),
    "51": ("四川", "Sichuan", "川"),
    "52": ("贵州", "Guizhou", "黔"),
    "53": ("云南", "Yunnan", "滇"),
    "54": ("西藏", "Xizang", "藏"),
    "61": ("陕西", "Shaanxi", "陕"),
    "62": ("甘肃", "Gansu", "甘"),
    "63": ("青海", "Qinghai", "青"),
    "64": ("宁夏", "Ningxia", "宁"),
    "65": ("新疆", "Xinjiang", "新"),
}

#: Prefecture (first four digits of the region code) -> (short name, pinyin). Tests check
#: each against the GB/T 2260 table so a wrong code cannot slip in.
CITIES: Final[dict[str, tuple[str, str]]] = {
    "1101": ("北京", "Beijing"),
    "1201": ("天津", "Tianjin"),
    "3101": ("上海", "Shanghai"),
    "5001": ("重庆", "Chongqing"),
    "5002": ("重庆", "Chongqing"),
    "3301": ("杭州", "Hangzhou"),
    "3302": ("宁波", "Ningbo"),
    "3303": ("温州", "Wenzhou"),
    "3304": ("嘉兴", "Jiaxing"),
    "3305": ("湖州", "Huzhou"),
    "3306": ("绍兴", "Shaoxing"),
    "3307": ("金华", "Jinhua"),
    "3308": ("衢州", "Quzhou"),
    "3309": ("舟山", "Zhoushan"),
    "3310": ("台州", "Taizhou"),
    "3311": ("丽水", "Lishui"),
    "4401": ("广州", "Guangzhou"),
    "4402": ("韶关", "Shaoguan"),
    "4403": ("深圳", "Shenzhen"),
    "4404": ("珠海", "Zhuhai"),
    "4405": ("汕头", "Shantou"),
    "4406": ("佛山", "Foshan"),
    "4407": ("江门", "Jiangmen"),
    "4408": ("湛江", "Zhanjiang"),
    "4409": ("茂名", "Maoming"),
    "4412": ("肇庆", "Zhaoqing"),
    "4413": ("惠州", "Huizhou"),
    "4414": ("梅州", "Meizhou"),
    "4415": ("汕尾", "Shanwei"),
    "4416": ("河源", "Heyuan"),
    "4417": ("阳江", "Yangjiang"),
    "4418": ("清远", "Qingyuan"),
    "4451": ("潮州", "Chaozhou"),
    "4452": ("揭阳", "Jieyang"),
    "4453": ("云浮", "Yunfu"),
    "3201": ("南京", "Nanjing"),
    "3202": ("无锡", "Wuxi"),
    "3203": ("徐州", "Xuzhou"),
    "3204": ("常州", "Changzhou"),
    "3205": ("苏州", "Suzhou"),
    "3206": ("南通", "Nantong"),
    "3207": ("连云港", "Lianyungang"),
    "3208": ("淮安", "Huai'an"),
    "3209": ("盐城", "Yancheng"),
    "3210": ("扬州", "Yangzhou"),
    "3211": ("镇江", "Zhenjiang"),
    "3212": ("泰州", "Taizhou"),
    "3213": ("宿迁", "Suqian"),
    "3701": ("济南", "Jinan"),
    "3702": ("青岛", "Qingdao"),
    "3703": ("淄博", "Zibo"),
    "3704": ("枣庄", "Zaozhuang"),
    "3705": ("东营", "Dongying"),
    "3706": ("烟台", "Yantai"),
    "3707": ("潍坊", "Weifang"),
    "3708": ("济宁", "Jining"),
    "3709": ("泰安", "Tai'an"),
    "3710": ("威海", "Weihai"),
    "3711": ("日照", "Rizhao"),
    "3713": ("临沂", "Linyi"),
    "3714": ("德州", "Dezhou"),
    "3715": ("聊城", "Liaocheng"),
    "3716": ("滨州", "Binzhou"),
    "3717": ("菏泽", "Heze"),
    "4101": ("郑州", "Zhengzhou"),
    "4102": ("开封", "Kaifeng"),
    "4103": ("洛阳", "Luoyang"),
    "4104": ("平顶山", "Pingdingshan"),
    "4105": ("安阳", "Anyang"),
    "4106": ("鹤壁", "Hebi"),
    "4107": ("新乡", "Xinxiang"),
    "4108": ("焦作", "Jiaozuo"),
    "4109": ("濮阳", "Puyang"),
    "4110": ("许昌", "Xuchang"),
    "4111": ("漯河", "Luohe"),
    "4112": ("三门峡", "Sanmenxia"),
    "4113": ("南阳", "Nanyang"),
    "4114": ("商丘", "Shangqiu"),
    "4115": ("信阳", "Xinyang"),
    "4116": ("周口", "Zhoukou"),
    "4117": ("驻马店", "Zhumadian"),
    "5101": ("成都", "Chengdu"),
    "5103": ("自贡", "Zigong"),
    "5104": ("攀枝花", "Panzhihua"),
    "5105": ("泸州", "Luzhou"),
    "5106": ("德阳", "Deyang"),
    "5107": ("绵阳", "Mianyang"),
    "5108": ("广元", "Guangyuan"),
    "5109": ("遂宁", "Suining"),
    "5110": ("内江", "Neijiang"),
    "5111": ("乐山", "Leshan"),
    "5113": ("南充", "Nanchong"),
    "5114": ("眉山", "Meishan"),
    "5115": ("宜宾", "Yibin"),
    "5116": ("广安", "Guang'an"),
    "5117": ("达州", "Dazhou"),
    "5118": ("雅安", "Ya'an"),
    "5119": ("巴中", "Bazhong"),
    "5120": ("资阳", "Ziyang"),
}

#: Share of subjects per province; the rest is spread evenly over the other provinces.
PROVINCE_WEIGHTS: Final[dict[str, float]] = {
    "33": 0.24,
    "44": 0.12,
    "32": 0.10,
    "11": 0.09,
    "37": 0.07,
    "31": 0.06,
    "41": 0.04,
    "51": 0.04,
}

#: A provincial capital's prefecture is this many times as likely as another prefecture.
CAPITAL_WEIGHT: Final = 4.0


@dataclass(frozen=True, slots=True)
class Place:
    """A county-level region and the ways a name or a document number refers to it."""

    region: str
    province: str
    prefix_zh: str  # 杭州 (or the province, 湖北, where no city prefix is known)
    prefix_en: str
    province_zh: str
    province_en: str
    county_zh: str  # 西湖区
    local_zh: str  # 杭州市西湖区: how local bodies name themselves (北京市东城区 keeps 北京市)
    full_zh: str  # 浙江省杭州市西湖区

    @property
    def province_abbr(self) -> str:
        return PROVINCES[self.province][2]


def _county(region: str, full: str) -> str:
    prefecture = region_name(region[:4] + "00")
    if prefecture and full.startswith(prefecture) and full != prefecture:
        return full[len(prefecture) :]
    province = region_name(region[:2] + "0000") or ""
    return full[len(province) :] if full.startswith(province) and full != province else full


_MUNICIPALITIES: Final = frozenset({"11", "12", "31", "50"})


def _local(region: str, full: str) -> str:
    if region[:2] in _MUNICIPALITIES:
        return full
    province = region_name(region[:2] + "0000") or ""
    return full[len(province) :] if full.startswith(province) and full != province else full


def _place(region: str) -> Place | None:
    province = PROVINCES.get(region[:2])
    full = region_name(region)
    if province is None or full is None:
        return None
    city = CITIES.get(region[:4])
    prefix_zh, prefix_en = city if city else (province[0], province[1])
    return Place(
        region=region,
        province=region[:2],
        prefix_zh=prefix_zh,
        prefix_en=prefix_en,
        province_zh=province[0],
        province_en=province[1],
        county_zh=_county(region, full),
        local_zh=_local(region, full),
        full_zh=full,
    )


@functools.cache
def all_places() -> tuple[Place, ...]:
    """Every county-level region in use today, in code order (so sampling is reproducible)."""
    places = (_place(region) for region in known_regions())
    return tuple(p for p in places if p is not None)


class PlaceSampler:
    """Draws places with the province and capital weighting, one bisect per draw."""

    def __init__(self, places: tuple[Place, ...] | None = None) -> None:
        self.places = places if places is not None else all_places()
        by_province: dict[str, dict[str, list[Place]]] = {}
        for place in self.places:
            by_province.setdefault(place.province, {}).setdefault(place.region[:4], []).append(
                place
            )
        others = [p for p in by_province if p not in PROVINCE_WEIGHTS]
        rest = max(0.0, 1.0 - sum(PROVINCE_WEIGHTS.get(p, 0.0) for p in by_province))
        cumulative: list[float] = []
        total = 0.0
        ordered: list[Place] = []
        for province, prefectures in by_province.items():
            share = PROVINCE_WEIGHTS.get(province, rest / max(1, len(others)))
            weights = {code: CAPITAL_WEIGHT if code.endswith("01") else 1.0 for code in prefectures}
            scale = share / sum(weights.values())
            for code, members in prefectures.items():
                each = weights[code] * scale / len(members)
                for place in members:
                    total += each
                    cumulative.append(total)
                    ordered.append(place)
        self._ordered = ordered
        self._cumulative = cumulative
        self._total = total

    def draw(self, rng: Random) -> Place:
        index = bisect.bisect_right(self._cumulative, rng.random() * self._total)
        return self._ordered[min(index, len(self._ordered) - 1)]
