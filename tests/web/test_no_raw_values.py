"""No portal page shows a raw enum value (``no_issue``, ``under_objection``, ``record_ended``)
where a reader expects words: every page of a small store, in both languages, as each
kind of visitor, with objections, repairs and complaints in each state."""

from __future__ import annotations

import datetime as dt
import importlib
import pkgutil
import re
import warnings
from collections.abc import Iterator
from enum import StrEnum
from html.parser import HTMLParser
from typing import Any

import pytest
from fastapi.testclient import TestClient

import bonafides
from bonafides.catalogue import Disclosure, Polarity, Severity, SubjectKind, load_catalogue
from bonafides.records import RecordStatus, SubjectRef
from bonafides.rules.facts import UNTIL_BASES
from bonafides.rules.loader import rules_for
from bonafides.rules.model import Effect, ListKind
from bonafides.security.roles import ANONYMOUS, Role
from bonafides.settings import Settings
from bonafides.web.i18n import MissingLabelWarning, build_environment
from bonafides.workflows import attachments, complaints, objections, repair
from bonafides.workflows.complaints import ComplaintKind, ComplaintRequest, ComplaintStatus
from bonafides.workflows.objections import ObjectionOutcome, ObjectionStatus
from bonafides.workflows.repair import RepairStatus
from tests import factories
from tests.security.test_portal_pages import _sign_in
from tests.security.world import (
    World,
    api,
    cheap_passwords,
    ctx,
    record_of,
    settings,
    world,
)
from tests.web.structure import VOID

__all__ = ["cheap_passwords", "ctx", "settings", "world"]

RECEIPT = attachments.Upload("paid.png", "image/png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 32)
COMMITMENT = "本单位承诺依法诚信经营，按时履行行政处罚决定，如有违反愿承担相应责任。"


def _enum_values() -> frozenset[str]:
    """Every value of the project's StrEnums and of the catalogue's enum fields."""
    values: set[str] = set()
    for info in pkgutil.walk_packages(bonafides.__path__, "bonafides."):
        if ".migrations" in info.name or info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for item in vars(module).values():
            if isinstance(item, type) and issubclass(item, StrEnum) and item is not StrEnum:
                values.update(member.value for member in item)
    for rtype in load_catalogue().types:
        for spec in rtype.fields:
            values.update(e.value for e in spec.enum or ())
    return frozenset(values)


ENUM_VALUES = _enum_values()
SNAKE = frozenset(v for v in ENUM_VALUES if re.fullmatch(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+", v))
#: A word as a reader sees it: not part of a code such as courts.defaulter or a file name.
WORD = re.compile(r"(?<![\w.:/@-])([a-z][a-z0-9_]*)(?![\w.:/@-])")


class _Reader(HTMLParser):
    """The text a reader sees, in two parts: prose in the page's language, and text marked
    as English (``lang="en"``: a message stored in English). Scripts, styles and ``<code>``
    (identifiers shown on purpose, to be typed: type codes, field names) are left out."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str | None]] = []
        self.prose: list[str] = []
        self.english: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in VOID:
            self.stack.append((tag, dict(attrs).get("lang")))

    def handle_endtag(self, tag: str) -> None:
        if any(t == tag for t, _ in self.stack):
            while self.stack.pop()[0] != tag:
                pass

    def handle_data(self, data: str) -> None:
        tags = {t for t, _ in self.stack}
        if tags & {"script", "style", "code"}:
            return
        langs = [lang for _, lang in self.stack if lang]
        (self.english if langs and langs[-1] == "en" else self.prose).append(data)


def raw_values(html: str, *, chinese: bool) -> set[str]:
    """snake_case enum values anywhere a reader looks; on a Chinese page, any English
    enum word in its Chinese prose too."""
    reader = _Reader()
    reader.feed(html)
    reader.close()
    prose, english = "\n".join(reader.prose), "\n".join(reader.english)
    found = set(WORD.findall(prose)) & (ENUM_VALUES if chinese else SNAKE)
    return found | set(WORD.findall(english)) & SNAKE


def test_the_check_finds_what_it_looks_for() -> None:
    assert {"under_objection", "no_issue", "natural_person", "fast_track"} <= SNAKE
    assert raw_values("<p>状态：under_objection</p>", chinese=False) == {"under_objection"}
    assert raw_values("<title>结果：upheld</title>", chinese=True) == {"upheld"}
    assert raw_values("<p>Outcome: upheld</p>", chinese=False) == set()
    assert raw_values("<p>类型 general.credit_commitment</p>", chinese=True) == set()
    assert raw_values("<p>字段 <code>legal_representative</code></p>", chinese=True) == set()
    assert raw_values('<p>消息 <span lang="en">decided: upheld</span></p>', chinese=True) == set()
    english = '<p lang="en">is under_objection</p>'
    assert raw_values(english, chinese=True) == {"under_objection"}
    assert raw_values("<script>var no_issue;</script>", chinese=True) == set()


def _firm_world(world: World) -> dict[str, object]:
    """A firm with records in several states, and one item of each due process in each
    state; an officer of the deciding department and an operator."""
    firm = factories.org(name="杭州测试贸易有限公司", name_en="Hangzhou Test Trading Co., Ltd.")
    world.account("wang", Role.SUBJECT, subject=firm)
    world.account("clerk", Role.OFFICER, department="samr")
    world.account("ops", Role.OPERATOR)
    contested = world.penalty(firm, days_ago=30)
    answered = world.penalty(firm, days_ago=40)
    repairable = world.penalty(firm, days_ago=200)
    refused = world.penalty(firm, days_ago=220)
    today = world.today
    world.store(
        record_of(
            "courts.defaulter",
            firm,
            source="spc",
            decided=today - dt.timedelta(days=20),
            content=_defaulter_content(firm),
        ),
        record_of(
            "tax.credit_grade",
            firm,
            source="sta",
            decided=today - dt.timedelta(days=60),
            content={"grade": "B", "evaluation_year": today.year - 1},
        ),
    )
    services = world.services()
    firm_principal = world.principal("wang")
    with world.ctx.sessions.begin() as session:
        open_objection = objections.open_objection(
            session,
            services,
            firm_principal,
            record_id=contested,
            grounds="罚款金额与决定书不符。",
        ).id
        decided_objection = objections.open_objection(
            session, services, firm_principal, record_id=answered, grounds="决定书送达有误。"
        ).id
        open_repair = repair.apply(
            session,
            services,
            firm_principal,
            record_id=repairable,
            evidence="罚款已全额缴纳，整改到位。",
            commitment=COMMITMENT,
            uploads=[RECEIPT],
        ).id
        refused_repair = repair.apply(
            session,
            services,
            firm_principal,
            record_id=refused,
            evidence="罚款已全额缴纳，整改到位。",
            commitment=COMMITMENT,
            uploads=[RECEIPT],
        ).id
        complaint = complaints.file(
            session,
            services,
            firm_principal,
            ComplaintRequest(
                kind=ComplaintKind.COMPLAINT,
                text="该局三月的来信至今未答复。",
                about="市场监管部门",
                department="samr",
            ),
        ).id
        report = complaints.file(
            session,
            services,
            ANONYMOUS,
            ComplaintRequest(
                kind=ComplaintKind.REPORT,
                text="该公司长期无证经营。",
                about="杭州测试贸易有限公司",
                department="samr",
            ),
        ).id
    clerk = world.principal("clerk")
    with world.ctx.sessions.begin() as session:
        objections.decide(
            session,
            services,
            clerk,
            decided_objection,
            outcome=ObjectionOutcome.UPHELD,
            reasons="决定书已依法送达。",
        )
        repair.decide(
            session, services, clerk, refused_repair, approve=False, reasons="尚未履行完毕。"
        )
        complaints.answer(session, services, clerk, complaint, "已核实并答复。")
    return {
        "firm": firm,
        "records": (contested, repairable),
        "objections": (open_objection, decided_objection),
        "repairs": (open_repair, refused_repair),
        "complaints": (complaint, report),
    }


def _defaulter_content(firm: SubjectRef) -> dict[str, object]:
    rtype = load_catalogue().type("courts.defaulter")
    row = factories.content_row(rtype, firm, header="en")
    return {k: v for k, v in row.items() if v}


def _pages(state: dict[str, object], role: str) -> Iterator[str]:
    firm = state["firm"]
    assert isinstance(firm, SubjectRef)
    objection_ids = state["objections"]
    repair_ids = state["repairs"]
    complaint_ids = state["complaints"]
    assert isinstance(objection_ids, tuple)
    assert isinstance(repair_ids, tuple)
    assert isinstance(complaint_ids, tuple)
    if role == "anonymous":
        yield from ("/", "/catalogue", "/statistics", "/lists", "/measures", "/verify")
        yield from ("/login", "/register", "/complaints/new", "/console")
        yield f"/search?q={firm.name}"
        yield f"/subjects/{firm.code}"
        yield from (f"/lists/{code}" for code in rules_for(load_catalogue()).lists)
        return
    yield "/me"
    yield from ("/objections", "/repairs", "/complaints")
    yield from (f"/objections/{i}" for i in objection_ids)
    yield from (f"/repairs/{i}" for i in repair_ids)
    if role == "subject":
        record_ids = state["records"]
        assert isinstance(record_ids, tuple)
        yield f"/complaints/{complaint_ids[0]}"
        yield f"/objections/new?record={record_ids[1]}"
        yield f"/repairs/new?record={record_ids[1]}"
        yield "/complaints/new"
    else:
        yield from (f"/complaints/{i}" for i in complaint_ids)
        yield "/review?status=all"
    if role == "operator":
        yield from ("/registrations", "/objections?escalated=1")


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_no_page_shows_a_raw_enum_value(world: World, settings: Settings, locale: str) -> None:
    state = _firm_world(world)
    found: dict[str, set[str]] = {}
    for role, user in (
        ("anonymous", None),
        ("subject", "wang"),
        ("officer", "clerk"),
        ("operator", "ops"),
    ):
        with api(settings, world) as client:
            if user:
                _sign_in(client, user)
            client.cookies.set("bonafides_lang", locale)
            for path in _pages(state, role):
                page = _get(client, path)
                raw = raw_values(page, chinese=locale == "zh_CN")
                if raw:
                    found[f"{role} {path}"] = raw
    assert not found, "\n".join(f"{where}: {sorted(raw)}" for where, raw in sorted(found.items()))


def _get(client: TestClient, path: str) -> str:
    answer = client.get(path)
    assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
    return answer.text


def _macros(locale: str, template: str) -> Any:
    return build_environment(locale, {}).get_template(template).module


#: Each label macro and the vocabulary it must know, whole.
VOCABULARIES: list[tuple[str, str, tuple[str, ...]]] = [
    ("_labels.html", "kind", tuple(SubjectKind)),
    ("_labels.html", "status", tuple(RecordStatus)),
    ("_labels.html", "severity", tuple(Severity)),
    ("_labels.html", "polarity", tuple(Polarity)),
    ("_labels.html", "disclosure", tuple(Disclosure)),
    ("_due_labels.html", "objection_status", tuple(ObjectionStatus)),
    ("_due_labels.html", "outcome", tuple(ObjectionOutcome)),
    ("_due_labels.html", "repair_status", tuple(RepairStatus)),
    ("_due_labels.html", "complaint_status", tuple(ComplaintStatus)),
    ("_due_labels.html", "complaint_kind", tuple(ComplaintKind)),
    ("_rules_labels.html", "list_kind", tuple(ListKind)),
    ("_rules_labels.html", "effect", tuple(Effect)),
    ("_rules_labels.html", "until_basis", UNTIL_BASES),
    (
        "_due_labels.html",
        "topic",
        (
            *(f"{area}:escalated" for area in ("objection", "repair", "complaint")),
            "objection:opened",
            "objection:received",
            "objection:decided",
            "repair:submitted",
            *(f"repair:{s}" for s in RepairStatus if s is not RepairStatus.SUBMITTED),
            *(f"complaint:{k}" for k in ComplaintKind),
            "complaint:answered",
            "ingest:held",
        ),
    ),
]


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
@pytest.mark.parametrize(("template", "macro", "values"), VOCABULARIES)
def test_every_value_of_a_vocabulary_has_words(
    locale: str, template: str, macro: str, values: tuple[str, ...]
) -> None:
    """Values no demo page happens to show still have labels (an unknown one warns, and
    the suite makes the warning an error), and a Chinese label is Chinese."""
    render = getattr(_macros(locale, template), macro)
    for value in values:
        words = str(render(value))
        assert words, value
        assert "_" not in words, (macro, value, words)
        if locale == "zh_CN":
            assert re.search(r"[\u4e00-\u9fff]", words), (macro, value, words)


def test_an_unknown_value_fails_in_tests_and_reads_humanised_in_production() -> None:
    status = _macros("en", "_labels.html").status
    assert str(status("under_objection")) == "Under objection"
    with pytest.raises(MissingLabelWarning, match="'on_hold'"):
        status("on_hold")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingLabelWarning)
        assert str(status("on_hold")) == "On hold"
    assert str(status(None)) == ""


#: The console report's tables of rejection reasons, which ingest words (in English).
REASONS = re.compile(r'<table class="(?:numbers|rejections)">.*?</table>', re.S)


def _console_report(world: World, settings: Settings, locale: str) -> str:
    """The report of a file with one good row and one with a bad date and category."""
    rtype = load_catalogue().type("market.penalty")
    decided = world.today - dt.timedelta(days=1)
    rows = [factories.content_row(rtype, factories.org(), decision_date=decided) for _ in "ab"]
    rows[1]["处罚决定日期"] = "2025-02-30"
    rows[1]["处罚类别"] = "罚没"
    header = list(rows[0])
    lines = [",".join(header)] + [",".join(r[h] for h in header) for r in rows]
    key = settings.department_keys["samr"].get_secret_value()
    with api(settings, world) as client:
        client.cookies.set("bonafides_lang", locale)
        answer = client.post(
            "/console",
            data={"department": "samr", "key": key, "type": rtype.code},
            files={"file": ("处罚.csv", "\n".join(lines).encode(), "text/csv")},
        )
    assert answer.status_code == 200
    assert '<dd class="rejected">1</dd>' in answer.text
    return answer.text


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_the_console_report_shows_no_raw_value(
    world: World, settings: Settings, locale: str
) -> None:
    page = _console_report(world, settings, locale)
    assert REASONS.search(page)
    assert raw_values(REASONS.sub("", page), chinese=locale == "zh_CN") == set()


def test_rejection_reasons_name_the_allowed_values_by_their_labels(
    world: World, settings: Settings
) -> None:
    page = _console_report(world, settings, "en")
    assert raw_values(page, chinese=False) == set()


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("zh_CN", "自决定日期起24个月；决定载明“失信期限届满日期”的，至该日止，最长60个月"),
        (
            "en",
            "24 months from the decision date; or until the date in “Listing term ends” "
            "where the decision gives one, at most 60 months",
        ),
    ],
)
def test_a_list_says_how_long_an_entry_lasts_in_the_readers_words(
    world: World, settings: Settings, locale: str, words: str
) -> None:
    with api(settings, world) as client:
        client.cookies.set("bonafides_lang", locale)
        page = _get(client, "/lists/courts.defaulters")
    assert words in page
    assert "listing_until" not in page
