"""A person's ID number typed into the portal never ends up in a URL (principle 5).

The flow a visitor follows (search, the hit, the subject page, the language switch, the
complaint form) is walked the way a browser would, following each form's own method and
action, and every URL the portal answers with is scanned: redirects, the URL htmx is told
to push, and every link, form action and htmx target of every page.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import unquote_plus

import httpx2 as httpx
from fastapi.testclient import TestClient

from bonafides.records import SubjectRef
from tests import factories
from tests.api.conftest import Store
from tests.web import structure

TODAY = factories.office_today()
URL_ATTRS = ("href", "action", "src", "formaction", "hx-get", "hx-post", "hx-push-url")


def _urls(response: httpx.Response) -> list[str]:
    """Every URL the answer gives the browser: redirect, pushed URL, links and forms."""
    found = [response.headers.get("location", ""), response.headers.get("hx-push-url", "")]
    if response.headers.get("content-type", "").startswith("text/html"):
        for element in structure.parse(response.text).elements:
            found += [element.attrs[a] for a in URL_ATTRS if a in element.attrs]
    return [u for u in found if u]


def _leaks(number: str, url: str) -> bool:
    """The whole number, or its region and birth date, in a URL (decoded as a server would)."""
    shown = unquote_plus(url).upper()
    return number in shown or number[:14] in shown


def _published_person(store: Store) -> SubjectRef:
    who = factories.person(name="钱大伟")
    store(factories.penalty(who, decision_date=TODAY - dt.timedelta(days=3)))
    return who


def _submit(client: TestClient, page: httpx.Response, q: str) -> httpx.Response:
    """The search form as a browser submits it: its own method and action."""
    form = next(
        e for e in structure.parse(page.text).elements if e.tag == "form" and e.attrs.get("role")
    )
    method = form.attrs.get("method", "get").upper()
    action = form.attrs.get("action") or "/"
    if method == "POST":
        return client.post(action, data={"q": q}, follow_redirects=False)
    return client.get(action, params={"q": q}, follow_redirects=False)


def _link(response: httpx.Response, prefix: str) -> str:
    links = [u for u in _urls(response) if u.startswith(prefix)]
    assert links, f"no link to {prefix} on {response.request.url.path}"
    return links[0]


def test_a_search_by_id_number_and_everything_after_it_keep_the_number_out_of_urls(
    client: TestClient, store: Store
) -> None:
    who = _published_person(store)
    number = who.code

    def seen(answer: httpx.Response) -> httpx.Response:
        asked = answer.request
        assert not _leaks(number, str(asked.url)), f"{asked.method} {asked.url}"
        leaked = [u for u in _urls(answer) if _leaks(number, u)]
        assert leaked == [], f"{asked.method} {asked.url.path} answers with {leaked}"
        return answer

    results = seen(_submit(client, seen(client.get("/")), number))
    while results.is_redirect:
        results = seen(client.get(results.headers["location"], follow_redirects=False))
    assert results.status_code == 200
    assert "钱大伟" in results.text
    title = structure.parse(results.text).title
    assert number not in title, "browser histories keep titles beside URLs"
    subject = seen(client.get(_link(results, "/subjects/")))
    assert subject.status_code == 200
    assert "<h1>钱大伟</h1>" in subject.text
    switched = seen(client.get(_link(subject, "/lang/en"), follow_redirects=False))
    assert switched.status_code == 303
    back = seen(client.get(switched.headers["location"]))
    assert '<html lang="en">' in back.text
    assert "钱大伟" in back.text
    complaint = seen(client.get(_link(back, "/complaints/new?")))
    assert complaint.status_code == 200
    assert "钱大伟" in complaint.text, "the form names whom the complaint is about"
    assert number not in complaint.text, "the form shows the number masked"


def test_the_search_box_tells_htmx_never_to_push_a_number(client: TestClient, store: Store) -> None:
    who = _published_person(store)
    fragment = {"HX-Request": "true"}
    for typed in (who.code, who.code[:-1], who.code[:10], f"钱大伟 {who.code}"):
        answer = client.post("/search", data={"q": typed}, headers=fragment)
        assert answer.status_code == 200
        assert "<html" not in answer.text
        assert answer.headers["hx-push-url"] == "false", typed
    named = client.post("/search", data={"q": "钱大伟"}, headers=fragment)
    assert "钱大伟" in named.text
    assert unquote_plus(named.headers["hx-push-url"]) == "/search?q=钱大伟"


def test_a_name_or_an_organisation_code_searched_stays_a_link_to_share(
    client: TestClient, store: Store
) -> None:
    org = factories.org(name="宁波海港物流有限公司")
    store(factories.penalty(org, decision_date=TODAY - dt.timedelta(days=3)))
    for q in ("海港物流", org.code):
        posted = client.post("/search", data={"q": q}, follow_redirects=False)
        assert posted.status_code == 303
        assert unquote_plus(posted.headers["location"]) == f"/search?q={q}"
        assert org.name in client.get(posted.headers["location"]).text


def test_old_links_carrying_a_number_answer_without_repeating_it(
    client: TestClient, store: Store
) -> None:
    who = _published_person(store)
    number = who.code
    page = client.get("/search", params={"q": number})
    assert "钱大伟" in page.text
    assert [u for u in _urls(page) if _leaks(number, u)] == []
    moved = client.get(f"/subjects/{number}", follow_redirects=False)
    assert moved.status_code == 303
    assert moved.headers["location"].startswith("/subjects/p:")
    assert "钱大伟" in client.get(moved.headers["location"]).text
    form = client.get("/complaints/new", params={"code": number}, follow_redirects=False)
    assert [u for u in _urls(form) if _leaks(number, u)] == []
