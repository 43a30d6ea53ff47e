"""Load the catalogue from YAML: the package's own data, or a directory laid out the same way.

Layout::

    catalogue.yaml        version, named publication policies
    fields.yaml           credit fields (domains)
    departments.yaml      departments that may submit records
    fieldsets.yaml        field templates (``use:``) and field sets (``include:``)
    types/<field>.yaml    `field`, `types` (the record types of that field) and an
                          optional `description`, a note for readers

Inside a type's ``fields`` list an item is one of

* a full field mapping (``name``, ``column_zh``, ``title_en``, ``type``, ...);
* ``{use: TEMPLATE, <overrides>}``: a template from ``fieldsets.yaml``, with any keys
  overridden (e.g. another ``column_zh``);
* ``{include: SET}``: every item of a named set, in order (sets may include sets).

``publication`` is either a window (``{min_months, max_months}``), a severity map
(``{by_severity: {minor: ..., general: ..., serious: ...}}``) or the name of a policy
from ``catalogue.yaml``.

Every error names the file and the key that failed.
"""

from __future__ import annotations

import functools
from collections.abc import Hashable, Iterator, Mapping, Sequence
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bonafides.catalogue.models import (
    Catalogue,
    ContentField,
    Department,
    Field,
    RecordType,
    reference_problems,
)

__all__ = ["CatalogueError", "load_catalogue"]

_MAX_INCLUDE_DEPTH = 16


class CatalogueError(ValueError):
    """A catalogue file is unreadable or invalid. ``file`` and ``key`` say where."""

    def __init__(self, file: str, key: str, message: str) -> None:
        self.file = file
        self.key = key
        self.message = message
        where = f"{file}: {key}" if key else file
        super().__init__(f"{where}: {message}")


# libyaml's parser when PyYAML was built with it (several times faster), else pure Python.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_SafeLoader):  # type: ignore[valid-type,misc]
    """Safe loader that refuses duplicate mapping keys instead of keeping the last one."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Hashable, Any]:
    loader.flatten_mapping(node)
    mapping: dict[Hashable, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                f"found duplicate key {key!r}",
                key_node.start_mark,
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
    return mapping


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


# --------------------------------------------------------------------------- helpers


def _loc(parts: Sequence[int | str]) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def _join(prefix: str, loc: Sequence[int | str]) -> str:
    tail = _loc(loc)
    if not tail:
        return prefix
    if not prefix:
        return tail
    return prefix + tail if tail.startswith("[") else f"{prefix}.{tail}"


def _from_validation(file: str, prefix: str, error: ValidationError) -> CatalogueError:
    first = error.errors(include_url=False)[0]
    message = first["msg"].removeprefix("Value error, ")
    extra = len(error.errors()) - 1
    if extra:
        message += f" (and {extra} more error{'s' if extra > 1 else ''})"
    return CatalogueError(file, _join(prefix, first["loc"]), message)


def _read_yaml(root: Traversable, name: str) -> Any:
    node = root
    for part in name.split("/"):
        node = node.joinpath(part)
    if not node.is_file():
        raise CatalogueError(name, "", "file not found")
    try:
        return yaml.load(node.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506
    except yaml.YAMLError as exc:
        raise CatalogueError(name, "", f"invalid YAML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise CatalogueError(name, "", "not UTF-8 text") from exc


def _mapping(file: str, key: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise CatalogueError(file, key, f"expected a mapping, got {type(value).__name__}")
    return value


def _sequence(file: str, key: str, value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise CatalogueError(file, key, f"expected a list, got {type(value).__name__}")
    return value


def _document(file: str, data: Any, required: set[str], optional: set[str]) -> dict[str, Any]:
    doc = _mapping(file, "", data)
    for key in doc:
        if key not in required | optional:
            raise CatalogueError(file, str(key), "unknown key")
    for key in sorted(required - set(doc)):
        raise CatalogueError(file, key, "missing key")
    return doc


# --------------------------------------------------------------------------- field sets


class _FieldSets:
    """Templates and sets from fieldsets.yaml, and the expansion of a ``fields`` list."""

    FILE = "fieldsets.yaml"

    def __init__(self, templates: dict[str, dict[str, Any]], sets: dict[str, list[Any]]) -> None:
        self.templates = templates
        self.sets = sets

    @classmethod
    def read(cls, root: Traversable) -> _FieldSets:
        if not root.joinpath(cls.FILE).is_file():
            return cls({}, {})
        doc = _document(cls.FILE, _read_yaml(root, cls.FILE), set(), {"templates", "sets"})
        raw_templates = _mapping(cls.FILE, "templates", doc.get("templates") or {})
        templates: dict[str, dict[str, Any]] = {}
        for name, body in raw_templates.items():
            key = f"templates.{name}"
            body = _mapping(cls.FILE, key, body)
            if "name" in body:
                raise CatalogueError(cls.FILE, f"{key}.name", "a template is named by its key")
            spec = {"name": name, **body}
            try:
                ContentField.model_validate(spec)
            except ValidationError as exc:
                raise _from_validation(cls.FILE, key, exc) from None
            templates[str(name)] = spec
        raw_sets = _mapping(cls.FILE, "sets", doc.get("sets") or {})
        sets = {str(k): _sequence(cls.FILE, f"sets.{k}", v) for k, v in raw_sets.items()}
        fieldsets = cls(templates, sets)
        for name in sets:  # validate every set once so a broken set fails here, not in a type
            fieldsets.fields(sets[name], cls.FILE, f"sets.{name}")
        return fieldsets

    def expand(
        self, items: list[Any], file: str, key: str, depth: int = 0
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """Yield ``(key, field mapping)`` for each field, the key saying where it came from."""
        if depth > _MAX_INCLUDE_DEPTH:
            raise CatalogueError(file, key, "field sets include each other in a cycle")
        for index, item in enumerate(items):
            where = f"{key}[{index}]"
            item = _mapping(file, where, item)
            if "include" in item:
                if set(item) != {"include"}:
                    others = sorted(set(item) - {"include"})
                    raise CatalogueError(file, f"{where}.{others[0]}", "unknown key beside include")
                name = item["include"]
                if name not in self.sets:
                    raise CatalogueError(file, f"{where}.include", f"unknown field set {name!r}")
                yield from self.expand(self.sets[name], file, f"{where}<{name}>", depth + 1)
            elif "use" in item:
                name = item["use"]
                if name not in self.templates:
                    raise CatalogueError(file, f"{where}.use", f"unknown field template {name!r}")
                if "name" in item:
                    raise CatalogueError(file, f"{where}.name", "a used template keeps its name")
                overrides = {k: v for k, v in item.items() if k != "use"}
                yield where, {**self.templates[name], **overrides}
            else:
                yield where, item

    def fields(self, items: list[Any], file: str, key: str) -> list[ContentField]:
        out: list[ContentField] = []
        for where, spec in self.expand(items, file, key):
            try:
                out.append(ContentField.model_validate(spec))
            except ValidationError as exc:
                raise _from_validation(file, where, exc) from None
        return out


# --------------------------------------------------------------------------- loading


def _load_fields(root: Traversable) -> list[Field]:
    file = "fields.yaml"
    doc = _document(file, _read_yaml(root, file), {"fields"}, set())
    out: list[Field] = []
    for index, raw in enumerate(_sequence(file, "fields", doc["fields"])):
        try:
            out.append(Field.model_validate(raw))
        except ValidationError as exc:
            raise _from_validation(file, f"fields[{index}]", exc) from None
    return out


def _load_departments(root: Traversable) -> list[Department]:
    file = "departments.yaml"
    doc = _document(file, _read_yaml(root, file), {"departments"}, set())
    out: list[Department] = []
    for index, raw in enumerate(_sequence(file, "departments", doc["departments"])):
        try:
            out.append(Department.model_validate(raw))
        except ValidationError as exc:
            raise _from_validation(file, f"departments[{index}]", exc) from None
    return out


def _type_files(root: Traversable) -> list[Traversable]:
    folder = root.joinpath("types")
    if not folder.is_dir():
        raise CatalogueError("types/", "", "directory not found")
    return sorted(
        (p for p in folder.iterdir() if p.is_file() and p.name.endswith(".yaml")),
        key=lambda p: p.name,
    )


def _load_types(
    root: Traversable,
    policies: Mapping[str, Any],
    fieldsets: _FieldSets,
) -> tuple[list[RecordType], dict[str, tuple[str, str]]]:
    types: list[RecordType] = []
    origin: dict[str, tuple[str, str]] = {}
    for path in _type_files(root):
        file = f"types/{path.name}"
        doc = _document(file, _read_yaml(root, file), {"field", "types"}, {"description"})
        field_code = doc["field"]
        for index, raw in enumerate(_sequence(file, "types", doc["types"])):
            raw = dict(_mapping(file, f"types[{index}]", raw))
            code = raw.get("code")
            prefix = f"types[{index}]" + (f" ({code})" if isinstance(code, str) else "")
            if "field" in raw and raw["field"] != field_code:
                raise CatalogueError(
                    file, f"{prefix}.field", f"{raw['field']!r} differs from the file's field"
                )
            raw["field"] = field_code
            publication = raw.get("publication")
            if isinstance(publication, str):
                if publication not in policies:
                    raise CatalogueError(
                        file, f"{prefix}.publication", f"unknown publication policy {publication!r}"
                    )
                raw["publication"] = policies[publication]
            if "fields" in raw:
                items = _sequence(file, f"{prefix}.fields", raw["fields"])
                raw["fields"] = fieldsets.fields(items, file, f"{prefix}.fields")
            try:
                rtype = RecordType.model_validate(raw)
            except ValidationError as exc:
                raise _from_validation(file, prefix, exc) from None
            if rtype.code in origin:
                raise CatalogueError(
                    file,
                    f"{prefix}.code",
                    f"duplicate record type code {rtype.code!r} "
                    f"(first defined in {origin[rtype.code][0]})",
                )
            origin[rtype.code] = (file, prefix)
            types.append(rtype)
    return types, origin


def _load(root: Traversable) -> Catalogue:
    head_file = "catalogue.yaml"
    head = _document(
        head_file, _read_yaml(root, head_file), {"version"}, {"description", "publication"}
    )
    version = head["version"]
    if not isinstance(version, str) or not version:
        raise CatalogueError(head_file, "version", "must be a non-empty string (quote it)")
    policies = _mapping(head_file, "publication", head.get("publication") or {})
    fields = _load_fields(root)
    departments = _load_departments(root)
    fieldsets = _FieldSets.read(root)
    types, origin = _load_types(root, policies, fieldsets)
    problems = reference_problems(fields, departments, types)
    if problems:
        first = problems[0]
        if first.where == "types":
            file, prefix = origin[first.code]
            key = f"{prefix}.{first.key}"
        else:
            file = f"{first.where}.yaml"
            key = f"{first.where} ({first.code}).{first.key}"
        raise CatalogueError(file, key, first.message)
    try:
        return Catalogue(
            version=version,
            fields=tuple(fields),
            departments=tuple(departments),
            types=tuple(types),
        )
    except ValidationError as exc:  # pragma: no cover - reference_problems ran above
        raise _from_validation(head_file, "", exc) from None


@functools.cache
def _packaged() -> Catalogue:
    return _load(resources.files("bonafides.catalogue").joinpath("data"))


def load_catalogue(path: Path | None = None) -> Catalogue:
    """Load and validate a catalogue directory; with no path, the packaged default (cached).

    Raises :class:`CatalogueError` naming the file and key that failed.
    """
    if path is None:
        return _packaged()
    if not path.is_dir():
        raise CatalogueError(str(path), "", "not a directory")
    return _load(path)
