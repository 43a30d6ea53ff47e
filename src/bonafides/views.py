"""Renderings of a subject's file for the terminal and for JSON clients."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from bonafides.ingest.characters import printable
from bonafides.store.profiles import Profile, RecordView

if TYPE_CHECKING:
    from bonafides.ingest.service import IngestReport

_STATUS_STYLE = {
    "active": "bold",
    "under_objection": "yellow",
    "corrected": "cyan",
    "revoked": "strike dim",
    "repaired": "green",
    "expired": "dim",
}


def plain(value: object) -> Text:
    """Stored or submitted text for the terminal: never read as rich markup, and with control
    characters shown as escapes, so no name or value can restyle or clear the screen."""
    return Text(printable("" if value is None else str(value)))


def record_json(record: RecordView) -> dict[str, Any]:
    return {
        "id": record.id,
        "type": record.type_code,
        "title_zh": record.type_title_zh,
        "title_en": record.type_title_en,
        "field": record.field,
        "polarity": record.polarity,
        "disclosure": record.disclosure,
        "source": record.source,
        "decision_no": record.decision_no,
        "decision_date": record.decision_date.isoformat(),
        "received_at": record.received_at.isoformat(),
        "status": record.status,
        "severity": record.severity,
        "legal_basis": record.legal_basis,
        "published_until": record.published_until.isoformat() if record.published_until else None,
        "version": record.version,
        "content": record.content,
    }


def profile_json(profile: Profile) -> dict[str, Any]:
    return {
        **profile.identity(),
        "minor": profile.minor,
        "as_of": profile.as_of.isoformat(),
        "records_by_field": {
            name: [record_json(r) for r in records] for name, records in profile.by_field().items()
        },
    }


def profile_tables(profile: Profile) -> list[RenderableType]:
    head = Text()
    head.append(printable(profile.name) + "\n", style="bold")
    if profile.name_en:
        head.append(printable(profile.name_en) + "\n")
    head.append(f"code {profile.code}   kind {profile.kind}   status {profile.status}\n")
    region = profile.region or "-"
    if profile.region_name:
        region += f" ({profile.region_name})"
    head.append(f"region {region}")
    if profile.former_names:
        head.append("\nformer names / aliases: " + printable("、".join(profile.former_names)))
    if profile.minor:
        head.append("\nminor: records are never public", style="yellow")
    parts: list[RenderableType] = [Panel(head, title="subject", expand=False)]
    if not profile.records:
        parts.append(Text("no records"))
    for name, records in profile.by_field().items():
        table = Table(title=f"field: {name}", title_justify="left", expand=False)
        table.add_column("date", no_wrap=True)
        table.add_column("type")
        table.add_column("decision", overflow="fold")
        table.add_column("source", no_wrap=True)
        table.add_column("status", no_wrap=True)
        table.add_column("published until", no_wrap=True)
        for r in records:
            table.add_row(
                r.decision_date.isoformat(),
                f"{r.type_title_zh}\n{r.type_code}",
                plain(r.decision_no),
                r.source,
                Text(r.status, style=_STATUS_STYLE.get(r.status, "")),
                r.published_until.isoformat() if r.published_until else "not published",
            )
        parts.append(table)
    return parts


def ingest_summary(report: IngestReport, *, shown: int = 20) -> RenderableType:
    """The end-of-run summary a clerk reads: counts, reasons, first rejected rows."""
    table = Table(
        title=plain(
            f"{report.file} → {report.type_code} from "
            f"{report.source or 'the departments its rows name'}"
        ),
        expand=False,
    )
    table.add_column("outcome")
    table.add_column("rows", justify="right")
    labels = {
        "rows": "rows read",
        "accepted": "accepted (new)",
        "amended": "amended (new version)",
        "unchanged": "unchanged",
        "held": "held (would undo an objection or repair)",
        "rejected": "rejected",
        "review": "queued for review (no code)",
        "matched": "linked by name matching (no code)",
    }
    for key, label in labels.items():
        table.add_row(label, f"{report.counts.get(key, 0):,}")
    table.add_row("time", f"{report.seconds:.1f} s")
    parts: list[RenderableType] = [table]
    if report.resumed_from_row:
        parts.append(Text(f"resumed an interrupted run at row {report.resumed_from_row}"))
    if report.ignored_columns:
        parts.append(
            plain(
                "columns not in the catalogue, ignored: "
                + ", ".join(
                    f"{c} (did you mean {report.suggestions[c]}?)" if c in report.suggestions else c
                    for c in report.ignored_columns
                )
            )
        )
    if report.normalised:
        norm = Table("normalised", "times", title="normalised values", expand=False)
        for kind, times in report.normalised.items():
            norm.add_row(plain(kind), f"{times:,}")
        parts.append(norm)
    if report.rejections:
        reasons = Table("field: reason", "rows", title="rejected by reason", expand=False)
        for reason, times in report.rejected_by_reason().items():
            reasons.add_row(plain(reason), f"{times:,}")
        parts.append(reasons)
        rows = Table("row", "field", "value", "reason", title="first rejected rows", expand=False)
        for r in report.rejections[:shown]:
            rows.add_row(str(r.row), plain(r.field), plain(r.value), plain(r.reason))
        parts.append(rows)
    return Group(*parts)
