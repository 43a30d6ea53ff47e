"""Broken catalogue directories fail at load with an error naming the file and the key."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bonafides.catalogue import CatalogueError, load_catalogue

from .yamlfiles import read_yaml, write_yaml

Edit = Callable[[Path, Callable[[Any], None]], None]


def _type(data: Any, code: str) -> dict[str, Any]:
    for item in data["types"]:
        if item["code"] == code:
            assert isinstance(item, dict)
            return item
    raise AssertionError(code)


def test_copy_loads(data_copy: Path) -> None:
    assert len(load_catalogue(data_copy).types) >= 40


def test_unknown_key_in_type(data_copy: Path, edit_yaml: Edit) -> None:
    edit_yaml(
        data_copy / "types" / "tax.yaml",
        lambda d: _type(d, "tax.penalty").update(retention_month=60),
    )
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(data_copy)
    error = caught.value
    assert error.file == "types/tax.yaml"
    assert "tax.penalty" in error.key
    assert "retention_month" in error.key
    assert "types/tax.yaml" in str(error)


def test_unknown_key_in_field(data_copy: Path, edit_yaml: Edit) -> None:
    def change(data: Any) -> None:
        _type(data, "courts.defaulter")["fields"].append(
            {
                "name": "extra",
                "column_zh": "额外",
                "title_en": "Extra",
                "type": "string",
                "requird": True,
            }
        )

    edit_yaml(data_copy / "types" / "courts.yaml", change)
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(data_copy)
    assert caught.value.file == "types/courts.yaml"
    assert "courts.defaulter" in caught.value.key
    assert caught.value.key.endswith("requird")


def test_unknown_field_code(data_copy: Path, edit_yaml: Edit) -> None:
    def change(data: Any) -> None:
        data["field"] = "taxes"
        for item in data["types"]:
            item["code"] = item["code"].replace("tax.", "taxes.", 1)

    edit_yaml(data_copy / "types" / "tax.yaml", change)
    with pytest.raises(CatalogueError, match="unknown field 'taxes'") as caught:
        load_catalogue(data_copy)
    assert caught.value.file == "types/tax.yaml"
    assert caught.value.key.endswith(".field")


def test_code_must_start_with_field(data_copy: Path, edit_yaml: Edit) -> None:
    edit_yaml(
        data_copy / "types" / "tax.yaml",
        lambda d: _type(d, "tax.penalty").update(code="market.tax_penalty"),
    )
    with pytest.raises(CatalogueError, match="must start with its field") as caught:
        load_catalogue(data_copy)
    assert caught.value.file == "types/tax.yaml"


def test_unknown_source_department(data_copy: Path, edit_yaml: Edit) -> None:
    edit_yaml(
        data_copy / "types" / "tax.yaml",
        lambda d: _type(d, "tax.penalty").update(sources=["stax"]),
    )
    with pytest.raises(CatalogueError, match="unknown department 'stax'") as caught:
        load_catalogue(data_copy)
    assert caught.value.file == "types/tax.yaml"
    assert caught.value.key == "types[0] (tax.penalty).sources"


def test_duplicate_type_code_across_files(data_copy: Path, edit_yaml: Edit) -> None:
    def change(data: Any) -> None:
        clone = dict(_type(read_yaml(data_copy / "types" / "pricing.yaml"), "pricing.violation"))
        clone["code"] = "tax.penalty"
        data["types"].append(clone)

    edit_yaml(data_copy / "types" / "tax.yaml", change)
    with pytest.raises(
        CatalogueError, match=r"duplicate record type code 'tax\.penalty'"
    ) as caught:
        load_catalogue(data_copy)
    assert caught.value.file == "types/tax.yaml"
    assert caught.value.key.endswith(".code")


def test_duplicate_department_code(data_copy: Path, edit_yaml: Edit) -> None:
    def change(data: Any) -> None:
        data["departments"].append(dict(data["departments"][0]))

    edit_yaml(data_copy / "departments.yaml", change)
    with pytest.raises(CatalogueError, match="duplicate code 'ndrc'") as caught:
        load_catalogue(data_copy)
    assert caught.value.file == "departments.yaml"


def test_negative_type_without_legal_basis(data_copy: Path, edit_yaml: Edit) -> None:
    edit_yaml(
        data_copy / "types" / "courts.yaml",
        lambda d: _type(d, "courts.defaulter").pop("legal_basis"),
    )
    with pytest.raises(CatalogueError, match="legal_basis") as caught:
        load_catalogue(data_copy)
    assert caught.value.file == "types/courts.yaml"
    assert "courts.defaulter" in caught.value.key


def test_public_person_type_without_disclosure_basis(data_copy: Path, edit_yaml: Edit) -> None:
    edit_yaml(
        data_copy / "types" / "courts.yaml",
        lambda d: _type(d, "courts.defaulter").pop("disclosure_basis"),
    )
    with pytest.raises(CatalogueError, match="disclosure_basis"):
        load_catalogue(data_copy)


def test_duplicate_yaml_key(data_copy: Path) -> None:
    path = data_copy / "fields.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("    title_zh: 税务\n", "    title_zh: 税务\n    title_zh: 税收\n"),
        encoding="utf-8",
    )
    with pytest.raises(CatalogueError, match="duplicate key 'title_zh'") as caught:
        load_catalogue(data_copy)
    assert caught.value.file == "fields.yaml"


def test_invalid_yaml(data_copy: Path) -> None:
    (data_copy / "types" / "tax.yaml").write_text("field: tax\ntypes: [\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match="invalid YAML") as caught:
        load_catalogue(data_copy)
    assert caught.value.file == "types/tax.yaml"


def test_unknown_template(data_copy: Path, edit_yaml: Edit) -> None:
    edit_yaml(
        data_copy / "types" / "tax.yaml",
        lambda d: _type(d, "tax.credit_grade")["fields"].append({"use": "decison_no"}),
    )
    with pytest.raises(CatalogueError, match="unknown field template 'decison_no'") as caught:
        load_catalogue(data_copy)
    assert caught.value.file == "types/tax.yaml"
    assert caught.value.key.endswith(".use")


def test_unknown_field_set(data_copy: Path, edit_yaml: Edit) -> None:
    edit_yaml(
        data_copy / "types" / "tax.yaml",
        lambda d: _type(d, "tax.penalty").update(fields=[{"include": "penalties"}]),
    )
    with pytest.raises(CatalogueError, match="unknown field set 'penalties'"):
        load_catalogue(data_copy)


def test_field_set_cycle(data_copy: Path, edit_yaml: Edit) -> None:
    def change(data: Any) -> None:
        data["sets"]["loop_a"] = [{"include": "loop_b"}]
        data["sets"]["loop_b"] = [{"include": "loop_a"}]

    edit_yaml(data_copy / "fieldsets.yaml", change)
    with pytest.raises(CatalogueError, match="cycle") as caught:
        load_catalogue(data_copy)
    assert caught.value.file == "fieldsets.yaml"


def test_error_in_included_field_names_the_set(data_copy: Path, edit_yaml: Edit) -> None:
    edit_yaml(
        data_copy / "fieldsets.yaml",
        lambda d: d["templates"]["remarks"].update(type="memo"),
    )
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(data_copy)
    assert caught.value.file == "fieldsets.yaml"
    assert caught.value.key == "templates.remarks.type"


def test_missing_national_column(data_copy: Path, edit_yaml: Edit) -> None:
    penalty_set = read_yaml(data_copy / "fieldsets.yaml")["sets"]["penalty"]

    def change(data: Any) -> None:
        # the penalty set's items, without 公示截止期
        fields = [item for item in penalty_set if item.get("name") != "publication_until"]
        _type(data, "tax.penalty")["fields"] = fields

    edit_yaml(data_copy / "types" / "tax.yaml", change)
    with pytest.raises(CatalogueError, match="公示截止期"):
        load_catalogue(data_copy)


def test_unknown_publication_policy(data_copy: Path, edit_yaml: Edit) -> None:
    edit_yaml(
        data_copy / "types" / "tax.yaml",
        lambda d: _type(d, "tax.penalty").update(publication="forever"),
    )
    with pytest.raises(CatalogueError, match="unknown publication policy 'forever'") as caught:
        load_catalogue(data_copy)
    assert caught.value.key.endswith(".publication")


def test_severity_map_must_be_complete(data_copy: Path, edit_yaml: Edit) -> None:
    edit_yaml(
        data_copy / "types" / "tax.yaml",
        lambda d: _type(d, "tax.penalty").update(
            publication={"by_severity": {"serious": {"min_months": 12, "max_months": 36}}}
        ),
    )
    with pytest.raises(CatalogueError, match="missing severities: minor, general"):
        load_catalogue(data_copy)


def test_retention_shorter_than_publication(data_copy: Path, edit_yaml: Edit) -> None:
    edit_yaml(
        data_copy / "types" / "tax.yaml",
        lambda d: _type(d, "tax.penalty").update(retention_months=24),
    )
    with pytest.raises(CatalogueError, match="retention_months"):
        load_catalogue(data_copy)


def test_missing_file(data_copy: Path) -> None:
    (data_copy / "departments.yaml").unlink()
    with pytest.raises(CatalogueError, match="file not found") as caught:
        load_catalogue(data_copy)
    assert caught.value.file == "departments.yaml"


def test_not_a_directory(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="not a directory"):
        load_catalogue(tmp_path / "nothing")


def test_version_must_be_a_string(data_copy: Path) -> None:
    path = data_copy / "catalogue.yaml"
    data = read_yaml(path)
    data["version"] = 2026.1
    write_yaml(path, data)
    with pytest.raises(CatalogueError, match="non-empty string") as caught:
        load_catalogue(data_copy)
    assert caught.value.key == "version"


def test_digest_changes_with_content(data_copy: Path, edit_yaml: Edit) -> None:
    before = load_catalogue(data_copy).digest
    edit_yaml(
        data_copy / "types" / "tax.yaml",
        lambda d: _type(d, "tax.penalty").update(retention_months=72),
    )
    after = load_catalogue(data_copy)
    assert after.type("tax.penalty").retention_months == 72
    assert after.digest != before


def test_formatting_does_not_change_digest(data_copy: Path, edit_yaml: Edit) -> None:
    before = load_catalogue(data_copy).digest
    # re-dumping expands anchors and flow style: same content, same digest
    for path in sorted((data_copy / "types").glob("*.yaml")):
        edit_yaml(path, lambda d: None)
    edit_yaml(data_copy / "fieldsets.yaml", lambda d: None)
    assert load_catalogue(data_copy).digest == before
