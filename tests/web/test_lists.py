"""The list, measure, subject and statistics pages without a browser, on both stores."""

from __future__ import annotations

import datetime as dt
import re

from fastapi.testclient import TestClient

from bonafides.catalogue import load_catalogue
from bonafides.rules.loader import packaged_rules
from bonafides.settings import Settings
from tests import factories
from tests.api.conftest import Store
from tests.api.test_lists import MINOR_NAME, minor_entry
from tests.security.world import record_of
from tests.web import structure

TODAY = factories.office_today()


def _english(client: TestClient) -> None:
    client.get("/lang/en", params={"next": "/"})


def _defaulters(store: Store) -> tuple[str, str]:
    firm = factories.org(region="330106", name="杭州页面测试有限公司")
    person = factories.person(region="110105", name="王五")
    store(
        *(
            record_of(
                "courts.defaulter", who, source="spc", decided=TODAY - dt.timedelta(days=days)
            )
            for who, days in ((firm, 5), (person, 50))
        )
    )
    return firm.code, firm.name


def test_lists_page_names_every_list_with_its_basis(client: TestClient, store: Store) -> None:
    _defaulters(store)
    page = client.get("/lists").text
    assert "失信被执行人名单" in page
    assert 'href="/lists/courts.defaulters"' in page
    assert "法释〔2017〕7号" in page
    assert page.count('<tr class="black">') + page.count('<tr class="red">') == len(
        packaged_rules().lists
    )
    assert 'href="/lists" aria-current="page"' in page
    _english(client)
    assert "List of dishonest judgment defaulters" in client.get("/lists").text


def test_list_page_filters_pages_and_links_the_csv(client: TestClient, store: Store) -> None:
    code, name = _defaulters(store)
    page = client.get("/lists/courts.defaulters").text
    assert name in page
    assert f'href="/subjects/{code}"' in page
    assert "王*" in page
    assert "王五" not in page
    assert 'href="/api/v1/lists/courts.defaulters/entries.csv"' in page
    narrowed = client.get("/lists/courts.defaulters", params={"region": "33", "as_of": ""}).text
    assert name in narrowed
    assert "王*" not in narrowed
    assert "entries.csv?region=33" in narrowed
    assert client.get("/lists/courts.defaulters", params={"region": "11"}).text.count(name) == 0
    odd = client.get("/lists/courts.defaulters", params={"region": "x1", "as_of": "2026-13-01"})
    assert odd.status_code == 200
    assert "region" in odd.text
    assert "as_of" in odd.text
    assert client.get("/lists/no.such").status_code == 404


def test_list_page_pages_through_entries(client: TestClient, store: Store) -> None:
    firms = [factories.org() for _ in range(53)]
    store(*(record_of("courts.defaulter", f, source="spc", decided=TODAY) for f in firms))
    first = client.get("/lists/courts.defaulters").text
    assert first.count('<a class="name"') == 50
    assert 'rel="next" href="/lists/courts.defaulters?offset=50"' in first
    second = client.get("/lists/courts.defaulters", params={"offset": 50}).text
    assert second.count('<a class="name"') == 3
    assert 'rel="prev"' in second
    assert 'rel="next"' not in second


def test_a_minor_never_appears_on_list_pages(
    client: TestClient, store: Store, settings: Settings
) -> None:
    _defaulters(store)
    minor_entry(settings)
    for path in ("/lists/courts.defaulters", "/lists/courts.defaulters?region=11", "/lists"):
        page = client.get(path).text
        assert MINOR_NAME not in page
        assert "李*" not in page
    stats = client.get("/statistics").text
    assert '<th scope="row">北京市</th><td>1</td>' in stats


def test_measures_page_shows_each_measure_with_its_legal_basis(client: TestClient) -> None:
    page = client.get("/measures").text
    rows = re.findall(r'<tr id="([^"]+)".*?<td class="basis">([^<]*)</td>', page, re.S)
    assert len(rows) == len(packaged_rules().measures)
    assert all(basis.strip() for _, basis in rows)
    bid = client.get("/measures", params={"action": "procurement.bid"}).text
    assert 'id="defaulters.procurement"' in bid
    assert 'id="defaulters.travel"' not in bid
    assert '<option value="procurement.bid" selected>' in bid
    assert client.get("/measures", params={"action": "nonsense"}).status_code == 200


def test_subject_page_shows_lists_and_grades(client: TestClient, store: Store) -> None:
    code, _ = _defaulters(store)
    store(record_of("tax.major_violation", factories.org(), source="sta", decided=TODAY))
    page = client.get(f"/subjects/{code}").text
    assert 'id="lists"' in page
    assert 'href="/lists/courts.defaulters"' in page
    assert (TODAY - dt.timedelta(days=5)).isoformat() in page
    assert "法释〔2017〕7号" in page


def test_subject_page_gives_the_reason_in_its_language_without_rule_ids(
    client: TestClient, store: Store
) -> None:
    code, _ = _defaulters(store)
    line = packaged_rules().lists["courts.defaulters"].entry[0]
    page = client.get(f"/subjects/{code}").text
    assert line.explain_zh in page
    assert line.explain_en not in page
    assert "courts.defaulters#" not in page, "no internal rule id on a public page"
    _english(client)
    english = client.get(f"/subjects/{code}").text
    assert line.explain_en in english
    assert "courts.defaulters#" not in english


def test_subject_page_grade_gives_its_reason_without_rule_ids(
    client: TestClient, store: Store
) -> None:
    taxed = factories.org()
    store(record_of("tax.major_violation", taxed, source="sta", decided=TODAY))
    page = client.get(f"/subjects/{taxed.code}").text
    assert 'id="grades"' in page
    assert '<strong class="grade">D</strong>' in page
    assert packaged_rules().grades["tax"].lines[0].explain_zh in page
    assert "grade:tax#" not in page
    assert "<code>tax</code>" not in page
    assert "纳税信用管理办法" in page


def test_list_page_explains_its_lines_in_the_page_language(client: TestClient) -> None:
    rule = packaged_rules().lists["market.serious_violation"]
    page = client.get("/lists/market.serious_violation").text
    assert all(line.explain_zh in page for line in rule.entry)
    assert "market.serious_violation#" not in page


def test_statistics_page_draws_entries_by_region(client: TestClient, store: Store) -> None:
    _defaulters(store)
    page = client.get("/statistics").text
    assert 'id="by-region"' in page
    assert "浙江省" in page
    assert "北京市" in page
    assert page.count('<rect class="s0"') >= 2


def test_subject_page_shows_enum_labels_never_raw_values(client: TestClient, store: Store) -> None:
    """Every value of an enum field reads as its label in the page's language: a spot check
    ``no_issue`` is 未发现问题, and no snake_case value of the catalogue reaches the text."""
    catalogue = load_catalogue()
    spot = catalogue.type("market.spot_check_result")
    result = next(f for f in spot.fields if f.name == "inspection_result")
    firm = factories.org()
    store(
        *(
            record_of(
                "market.spot_check_result",
                firm,
                source="samr",
                decided=TODAY - dt.timedelta(days=n + 1),
                content={"inspection_result": choice.value},
            )
            for n, choice in enumerate(result.enum or ())
        )
    )
    raw = {
        e.value for t in catalogue.types for f in t.fields for e in f.enum or () if "_" in e.value
    }
    for english in (False, True):
        if english:
            _english(client)
        page = structure.parse(client.get(f"/subjects/{firm.code}").text)
        shown = set(re.findall(r"[a-z0-9]+(?:_[a-z0-9]+)+", page.text))
        assert not shown & raw, sorted(shown & raw)
        for choice in result.enum or ():
            assert (choice.label_en if english else choice.label_zh) in page.text
