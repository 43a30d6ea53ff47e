"""No bare disclosure class decides visibility outside ``bonafides.disclosure``.

The rule of who sees what is written once (``bonafides.disclosure``, with its SQL over the
store's tables in ``bonafides.store.disclosure``), built from the catalogue's
``Disclosure`` enum. This scan of src/ fails when a copy starts again: a comparison with
"public", "shared", "restricted" or "subject_only", a set of them, such a value in an SQL
``in_``/``==`` or in SQL text, or a ``Disclosure`` member used outside the catalogue
and the disclosure module. The strings themselves appear only as the values of enum
members, and in the few places listed below that name something else.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import bonafides
from bonafides.catalogue import Disclosure

SRC = Path(bonafides.__file__).parent
VALUES = frozenset(d.value for d in Disclosure)
#: Where ``Disclosure`` members may be used: the enum's own package and the rule.
MEMBERS_ALLOWED = ("catalogue/", "disclosure.py")
#: Bare strings equal to a class that name something else, by file and the name they
#: are given to; each is checked to be there, so the list cannot go stale.
OTHER_MEANINGS = {
    ("app/reports.py", "actor"): "the audit actor of an anonymous report request",
    ("reports/service.py", "actor"): "the audit actor of an anonymous verification",
    ("security/sessions.py", "actor"): "the audit actor of a signed-out visitor",
    ("security/roles.py", "actor"): "how the audit chain names a signed-out principal",
    ("security/signing.py", "PUBLIC_DIR"): "the directory of the public signing keys",
    ("synth/files.py", "_STATE"): "the synthetic generator's shared state, by key",
}
#: SQL text comparing a column to a class: ``= 'public'``, ``IN ('shared', ...``.
_SQL = re.compile(
    rf"""(=|<>|!=|\bin\s*\(|,)\s*['"]({"|".join(sorted(VALUES))})['"]""", re.IGNORECASE
)
_SQL_METHODS = frozenset(
    {"in_", "not_in", "notin_", "is_", "is_not", "isnot", "is_distinct_from", "like", "contains"}
)


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}"


def _is_value(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in VALUES


def _holds_value(node: ast.AST) -> bool:
    """A class value, or a literal collection (or ``frozenset(...)`` of one) holding one."""
    if _is_value(node):
        return True
    if isinstance(node, ast.Set | ast.List | ast.Tuple):
        return any(_holds_value(e) for e in node.elts)
    if isinstance(node, ast.Call) and node.args:
        return (
            isinstance(node.func, ast.Name)
            and node.func.id in {"frozenset", "set"}
            and (_holds_value(node.args[0]))
        )
    return False


def _enum_member_values(tree: ast.AST) -> set[int]:
    """Ids of the constants assigned as members in the body of an ``...Enum`` class."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef):
            continue
        bases = {b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases}
        if not any(name.endswith("Enum") for name in bases):
            continue
        for stmt in node.body:
            if isinstance(stmt, ast.Assign) and _is_value(stmt.value):
                out.add(id(stmt.value))
    return out


def _named(tree: ast.AST) -> dict[int, str]:
    """Ids of the constants given to a name, with that name: ``actor="public"``,
    ``X = "public"``, ``_STATE["shared"]``, a default, or what ``def actor()`` returns."""
    out: dict[int, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg:
            out[id(node.value)] = node.arg
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name) and node.value is not None:
                    out[id(node.value)] = target.id
        elif isinstance(node, ast.FunctionDef):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Return) and inner.value is not None:
                    out.setdefault(id(inner.value), node.name)
        elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
            out[id(node.slice)] = node.value.id
        elif isinstance(node, ast.arguments):
            positional = [*node.posonlyargs, *node.args]
            for arg, default in zip(
                positional[len(positional) - len(node.defaults) :], node.defaults, strict=True
            ):
                out[id(default)] = arg.arg
            for arg, kw_default in zip(node.kwonlyargs, node.kw_defaults, strict=True):
                if kw_default is not None:
                    out[id(kw_default)] = arg.arg
    return out


def scan(source: str, path: str) -> tuple[list[Finding], set[tuple[str, str]]]:
    """The findings in one module, and the ``OTHER_MEANINGS`` keys it uses."""
    tree = ast.parse(source)
    findings: list[Finding] = []
    used: set[tuple[str, str]] = set()
    members = _enum_member_values(tree)
    named = _named(tree)

    def found(node: ast.AST, what: str) -> None:
        findings.append(Finding(path, getattr(node, "lineno", 0), what))

    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            if any(_holds_value(n) for n in [node.left, *node.comparators]):
                found(node, "compares with a disclosure class")
        elif isinstance(node, ast.Call):
            attr = node.func.attr if isinstance(node.func, ast.Attribute) else None
            if attr in _SQL_METHODS and any(_holds_value(a) for a in node.args):
                found(node, f"passes a disclosure class to SQL .{attr}()")
        elif isinstance(node, ast.MatchValue) and _is_value(node.value):
            found(node, "matches a disclosure class")
        elif isinstance(node, ast.Set | ast.List | ast.Tuple) and _holds_value(node):
            found(node, "holds a set of disclosure classes")
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "Disclosure"
            and node.attr in Disclosure.__members__
            and not path.startswith(MEMBERS_ALLOWED)
        ):
            found(node, f"uses Disclosure.{node.attr} outside bonafides.disclosure")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if _SQL.search(node.value):
                found(node, "compares with a disclosure class in SQL text")
            elif node.value in VALUES and id(node) not in members:
                key = (path, named.get(id(node), ""))
                if key in OTHER_MEANINGS:
                    used.add(key)
                else:
                    found(node, f'bare "{node.value}" outside an enum\'s values')
    return findings, used


def _modules() -> Iterator[tuple[str, str]]:
    for file in sorted(SRC.rglob("*.py")):
        yield file.relative_to(SRC).as_posix(), file.read_text(encoding="utf-8")


def test_no_bare_disclosure_class_outside_the_enum() -> None:
    findings: list[Finding] = []
    used: set[tuple[str, str]] = set()
    for path, source in _modules():
        more, keys = scan(source, path)
        findings += more
        used |= keys
    assert [str(f) for f in findings] == []
    assert used == set(OTHER_MEANINGS), "an entry of OTHER_MEANINGS no longer occurs"


@pytest.mark.parametrize(
    "source",
    [
        'shown = record.disclosure == "public"',
        'shown = "shared" != rtype.disclosure',
        'shown = disclosure in {"public", "shared"}',
        'shown = disclosure in ("public",)',
        'query.where(RecordType.disclosure.in_(["public"]))',
        'query.where(RecordType.disclosure.in_(sorted(frozenset({"public"}))))',
        'query.where(RecordType.disclosure.is_("restricted"))',
        '_SHOWN = frozenset({"public", "shared"})',
        "text(\"SELECT id FROM record_types WHERE disclosure = 'public'\")",
        "text(\"WHERE t.disclosure IN ('shared', 'restricted')\")",
        'match disclosure:\n    case "subject_only":\n        pass',
        'record_visible(disclosure="public")',
        'def f(disclosure: str = "public") -> None: ...',
        "_SHOWN = frozenset({Disclosure.PUBLIC.value, Disclosure.SHARED.value})",
    ],
)
def test_the_scan_finds_a_copy_of_the_rule(source: str) -> None:
    findings, _ = scan(source, "screening/answer.py")
    assert findings, source


@pytest.mark.parametrize(
    "source",
    [
        'class Role(StrEnum):\n    PUBLIC = "public"',
        'PUBLIC_DIR = "public"',
        'log(actor="public")',
    ],
)
def test_the_scan_leaves_enum_values_and_listed_names_alone(source: str) -> None:
    path = "security/signing.py" if "PUBLIC_DIR" in source else "reports/service.py"
    findings, _ = scan(source, path)
    assert findings == []
