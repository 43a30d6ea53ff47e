"""bonafides-names on the cases of issue 15 item 3: what it must link, what never."""

from __future__ import annotations

from random import Random

import opencc
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bonafides.codes import make_uscc
from bonafides.matching import names
from bonafides.matching.model import ALGORITHM, MATCH_AT, V1, Matcher, Query
from bonafides.matching.register import RegisterEntry, RegisterIndex
from bonafides.synth.industries import ENTERPRISE_SECTIONS
from bonafides.synth.names import trade_name
from bonafides.synth.orgnames import enterprise
from bonafides.synth.places import PlaceSampler

_S2T = opencc.OpenCC("s2t")


def _code(region: str, n: int) -> str:
    return make_uscc("9", "1", region, f"{n:08d}")


HUAXIN = _code("110105", 1)
XINYUAN = _code("330106", 2)
XINYUAN_BRANCH = _code("330106", 3)
SHANGHAI_STOCK = _code("310101", 4)
RENAMED = _code("440305", 5)
SHOP = _code("330106", 6)
GUANGDA = _code("320102", 7)

REGISTER = [
    RegisterEntry(HUAXIN, "北京华信科技有限公司", legal_rep="王建国"),
    RegisterEntry(XINYUAN, "杭州鑫源贸易有限公司"),
    RegisterEntry(XINYUAN_BRANCH, "杭州鑫源贸易有限公司西湖分公司"),
    RegisterEntry(SHANGHAI_STOCK, "上海华信科技股份有限公司"),
    RegisterEntry(RENAMED, "深圳腾骏智能科技有限公司", former_names=("深圳腾骏电子有限公司",)),
    RegisterEntry(SHOP, "西湖区鑫源便利店"),
    RegisterEntry(GUANGDA, "南京光达建筑工程有限公司", reg_no="320102000123456"),
]


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(RegisterIndex.build(REGISTER))


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("北京华信科技有限公司", HUAXIN),
        ("华信科技有限公司", HUAXIN),  # region dropped
        ("北京市华信科技有限公司", HUAXIN),  # 北京市 for 北京
        ("华信（北京）科技有限公司", HUAXIN),  # region moved into brackets
        ("华信(北京)科技有限公司", HUAXIN),  # half-width brackets
        ("北京华信科技有限责任公司", HUAXIN),  # 有限责任公司 for 有限公司
        ("北京 华信科技 有限公司", HUAXIN),  # stray spaces
        ("北京華信科技有限公司", HUAXIN),  # traditional characters
        ("杭州新源贸易有限公司", XINYUAN),  # homophone 新 for 鑫
        ("杭州鑫源贸异有限公司", XINYUAN),  # homophone 异 for 易
        ("南京光达建筑工程有限公司", GUANGDA),
        ("杭州鑫源贸昜有限公司", XINYUAN),  # look-alike 昜 for 易
        ("深圳腾骏电子有限公司", RENAMED),  # former name
        ("杭州鑫源贸易有限公司西湖区分公司", XINYUAN_BRANCH),  # the branch itself
    ],
)
def test_links_what_it_can_explain(matcher: Matcher, name: str, code: str) -> None:
    result = matcher.match(Query(name))
    assert (result.decision, result.code) == ("match", code), result.explanation
    assert result.score >= MATCH_AT
    assert result.algorithm == ALGORITHM


def test_legacy_identifiers_link_a_name_written_loosely(matcher: Matcher) -> None:
    by_org_code = matcher.match(Query("华信科技公司", org_code=HUAXIN[8:16] + "-" + HUAXIN[16]))
    assert (by_org_code.decision, by_org_code.code) == ("match", HUAXIN)
    by_reg_no = matcher.match(Query("光达建筑公司", reg_no="320102000123456"))
    assert (by_reg_no.decision, by_reg_no.code) == ("match", GUANGDA)


@pytest.mark.parametrize(
    "query",
    [
        Query("杭州鑫源贸易有限公司滨江分公司"),  # an unregistered branch of a registered parent
        Query("宁波鑫源贸易有限公司"),  # the same trade name in another region
        Query("华信科技有限公司", region="310101"),  # region known from the column
        Query("北京华信科技股份有限公司"),  # 股份有限公司 is another form
        Query("上海华信科技有限公司"),  # and the other way round
        Query("北京华信科技有限公司", legal_rep="李四"),  # a contradiction is not explained
        Query("杭州鑫达贸易有限公司"),  # one arbitrary wrong character
        Query("华信科技有限公司", org_code="12345678-9"),  # a contradicting organisation code
        Query("鑫源便利店"),  # no place and no legal form: too little to link
    ],
)
def test_never_links_what_it_cannot_explain(matcher: Matcher, query: Query) -> None:
    result = matcher.match(query)
    assert result.decision != "match", result.explanation
    assert result.code is None


def test_never_links_a_parent_to_its_branch(matcher: Matcher) -> None:
    index = RegisterIndex.build([RegisterEntry(XINYUAN_BRANCH, "杭州鑫源贸易有限公司西湖分公司")])
    result = Matcher(index).match(Query("杭州鑫源贸易有限公司"))
    assert result.decision == "none"
    assert [c.feature for c in result.explanation if c.weight < -10] == ["branch_vs_parent"]


def test_a_rival_makes_it_a_review(matcher: Matcher) -> None:
    index = RegisterIndex.build(
        [
            RegisterEntry(XINYUAN, "杭州鑫源贸易有限公司"),
            RegisterEntry(SHOP, "宁波鑫源贸易有限公司"),
        ]
    )
    result = Matcher(index).match(Query("鑫源贸易有限公司"))
    assert result.decision == "review"
    assert {c.entry.code for c in result.candidates} == {XINYUAN, SHOP}
    assert "ambiguous" in [c.feature for c in result.explanation]


def test_the_explanation_adds_up_to_the_score(matcher: Matcher) -> None:
    answer = matcher.match(Query("华信（北京）科技有限公司")).to_json(7)
    assert answer["line"] == 7
    assert set(answer) == {
        "line",
        "decision",
        "code",
        "score",
        "candidates",
        "explanation",
        "algorithm",
    }
    logit = sum(item["contribution"] for item in answer["explanation"])
    assert answer["score"] == pytest.approx(1 / (1 + 2.718281828**-logit), abs=1e-3)
    assert answer["candidates"][0] == {
        "code": HUAXIN,
        "name": "北京华信科技有限公司",
        "score": answer["score"],
    }


def test_organisation_code_and_region_are_read_from_the_uscc() -> None:
    entry = RegisterEntry(HUAXIN, "北京华信科技有限公司")
    assert entry.region == "110105"
    assert entry.org_code == HUAXIN[8:17]


def test_a_county_town_in_a_trade_name_stays_in_the_trade_name() -> None:
    """利川 and 瑞安 are county-level cities and trade names: only 利川市 is read as a place."""
    code = make_uscc("9", "1", "510104", "00000011")
    index = RegisterIndex.build([RegisterEntry(code, "四川利川丰汽车维修股份有限公司")])
    result = Matcher(index).match(Query("利川（四川）丰汽车维修股份有限公司"))
    assert (result.decision, result.code) == ("match", code)


def test_a_branch_registered_elsewhere_matches_under_its_parents_place() -> None:
    code = make_uscc("9", "1", "440607", "00000012")  # the branch's own region: Foshan
    index = RegisterIndex.build([RegisterEntry(code, "清远海诺茶业有限公司三水区分公司")])
    result = Matcher(index).match(Query("清远海诺茶业有限公司三水分公司"))
    assert (result.decision, result.code) == ("match", code)


def test_one_character_off_is_no_link_when_another_firm_has_the_exact_trade_name() -> None:
    index = RegisterIndex.build(
        [
            RegisterEntry(make_uscc("9", "1", "330302", "00000013"), "温州悦铭检测技术有限公司"),
            RegisterEntry(
                make_uscc("9", "1", "330302", "00000014"), "浙江悦明检测技术股份有限公司"
            ),
        ]
    )
    result = Matcher(index).match(Query("温州悦铭检测技术股份有限公司"))
    assert result.decision != "match"
    assert "exact_name_elsewhere" in [c.feature for c in result.candidates[0].contributions]


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
# 遂宁越隆…: OpenCC writes 遂甯越隆 in traditional (the phrase 甯越), and its t2s keeps 甯.
@example(seed=5718)
def test_spellings_of_one_name_read_the_same(seed: int) -> None:
    """Spaces, full- or half-width brackets, traditional characters and 有限责任公司 change
    nothing the matcher compares, for any name the generator makes."""
    rng = Random(seed)
    place = PlaceSampler().draw(rng)
    section = rng.choice(sorted(ENTERPRISE_SECTIONS))
    name, _ = enterprise(rng, place, section, trade_name(rng))
    parsed = names.parse(name)
    cut = 1 + rng.randrange(len(name) - 1)
    variants = [
        f" {name[:cut]} {name[cut:]}　",
        name.replace("（", "(").replace("）", ")"),
        _S2T.convert(name),
    ]
    if name.endswith("有限公司") and not name.endswith("股份有限公司"):
        variants.append(name[: -len("有限公司")] + "有限责任公司")
    for variant in variants:
        other = names.parse(variant)
        assert (other.key, other.regions) == (parsed.key, parsed.regions), variant


def test_a_shortened_name_is_proposed_for_review_not_linked(matcher: Matcher) -> None:
    result = matcher.match(Query("北京华信"))
    assert result.decision == "review"
    assert result.candidates[0].entry.code == HUAXIN
    assert "partial_core" in [c.feature for c in result.explanation]


def test_latin_letters_read_the_same_in_either_case_and_width() -> None:
    assert names.parse("北京abc科技有限公司").key == names.parse("北京ＡＢＣ科技有限公司").key


def _dense(trade: str, industry: str, n: int, start: int) -> list[RegisterEntry]:
    """``n`` firms in five regions whose trade names differ from ``trade`` in one place:
    the neighbourhood a national register gives every common trade name."""
    chars = "甲乙丙丁戊庚辛壬癸子丑寅卯辰午酉亥金木水火山川河海湖林森南西北"
    regions = ("110105", "310115", "330106", "440305", "320102")
    names = [f"{trade.format(chars[i])}{industry}有限公司" for i in range(n)]
    return [RegisterEntry(_code(regions[i % 5], start + i), names[i]) for i in range(n)]


def test_a_registered_trade_name_is_not_scored_against_its_one_character_neighbours() -> None:
    """At a million firms 鑫?贸易 is shared by a hundred: v1 scored every one of them for a
    name registered exactly, v2 reads the masks only when nobody has the trade name."""
    target = RegisterEntry(_code("330106", 1), "杭州鑫源贸易有限公司")
    index = RegisterIndex.build([target, *_dense("鑫{}", "贸易", 30, 100)])
    found = Matcher(index).candidates(Query("鑫源贸易有限公司"))
    assert [c.entry.code for c in found] == [target.code]
    assert Matcher(index).match(Query("鑫源贸易有限公司")).code == target.code
    # v1 stays reproducible: the same decision, after scoring all 31.
    old = Matcher(index, version=V1)
    assert len(old.candidates(Query("鑫源贸易有限公司"))) == 31
    assert old.match(Query("鑫源贸易有限公司")).algorithm == "bonafides-names-v1"


def test_a_misread_character_is_found_where_its_masks_are_too_common() -> None:
    """样 for 祥: every mask the two names share is common (?康化工, 祥?化工 by 30 firms
    each), so only the look-alike key finds the firm."""
    target = RegisterEntry(_code("110105", 1), "北京祥康化工有限公司")
    register = [target, *_dense("{}康", "化工", 30, 100), *_dense("祥{}", "化工", 30, 200)]
    result = Matcher(RegisterIndex.build(register)).match(Query("北京样康化工有限公司"))
    assert (result.decision, result.code) == ("match", target.code), result.explanation
    assert "lookalike" in {c.feature for c in result.explanation}


def test_a_typo_whose_masks_are_rare_is_still_proposed_for_review() -> None:
    target = RegisterEntry(_code("110105", 1), "北京祥康化工有限公司")
    register = [target, *_dense("{}康", "化工", 30, 100)]
    result = Matcher(RegisterIndex.build(register)).match(Query("北京祥康化肥有限公司"))
    assert result.decision == "review"
    assert result.candidates[0].entry.code == target.code


def test_a_homophone_rival_hidden_in_a_common_mask_still_makes_it_a_review() -> None:
    """奥 also reads yù: 北京裕鑫 is as good a homophone of 北京奥鑫 as 奥信（北京） is. Its
    only key in common with the row is ?鑫商贸, shared by 30 firms; v2 reads that mask
    before it links on a homophone, as v1 did, and sends the row to review."""
    homophone = RegisterEntry(_code("110105", 1), "奥信（北京）商贸有限公司")
    rival = RegisterEntry(_code("110105", 2), "北京裕鑫商贸有限公司")
    register = [homophone, rival, *_dense("{}鑫", "商贸", 30, 100)]
    matcher = Matcher(RegisterIndex.build(register))
    result = matcher.match(Query("北京奥鑫商贸有限公司"))
    assert result.decision == "review", result.explanation
    found = {c.entry.code: c for c in matcher.candidates(Query("北京奥鑫商贸有限公司"))}
    assert "ambiguous" in {f.feature for f in found[homophone.code].contributions}
    assert "homophone" in {f.feature for f in found[rival.code].contributions}
