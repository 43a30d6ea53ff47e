"""A packed entry reads back as the entry and exactly the names ``variants_of`` parses."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bonafides.matching import packed
from bonafides.matching.register import RegisterEntry, variants_of

_PARTS = st.sampled_from(
    [
        "北京",
        "北京市",
        "杭州",
        "朝阳区",
        "（北京）",
        "(上海)",
        "鑫源",
        "華信",
        "样康",
        "贸易",
        "科技",
        "有限公司",
        "有限责任公司",
        "股份有限公司",
        "西湖分公司",
        "办事处",
        "(有限合伙)",
        " ",
        "ABC",
        "",
    ]
)
_NAMES = st.lists(_PARTS, max_size=6).map("".join)
_OPTIONAL = st.one_of(st.none(), st.sampled_from(["", "110105", "王建国", "91330106MA0000001X"]))


@settings(max_examples=300, deadline=None)
@given(
    name=_NAMES,
    former=st.lists(_NAMES, max_size=3),
    code=st.sampled_from(["91330106MA2B3C4D5E", "91110105000000001X", "X123", ""]),
    region=_OPTIONAL,
    legal_rep=_OPTIONAL,
    reg_no=_OPTIONAL,
    org_code=_OPTIONAL,
    status=st.one_of(st.none(), st.sampled_from(["存续", "注销", "吊销"])),
)
def test_a_packed_entry_reads_back_with_its_parsed_names(
    name: str,
    former: list[str],
    code: str,
    region: str | None,
    legal_rep: str | None,
    reg_no: str | None,
    org_code: str | None,
    status: str | None,
) -> None:
    entry = RegisterEntry(
        code=code,
        name=name,
        former_names=tuple(former),
        region=region,
        legal_rep=legal_rep,
        reg_no=reg_no,
        org_code=org_code,
        status=status,
    )
    assert packed.unpack_all([packed.pack(entry)]) == [(entry, variants_of(entry))]


def test_many_entries_are_read_back_in_their_order() -> None:
    entries = [
        RegisterEntry(code=f"9133010600000000{i:02d}", name=f"杭州鑫源{i}贸易有限公司")
        for i in range(30)
    ]
    assert packed.unpack_all(packed.pack(e) for e in entries) == [
        (e, variants_of(e)) for e in entries
    ]
    assert packed.unpack_all([]) == []
