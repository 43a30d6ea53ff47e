"""Credit report benchmark: PDF and HTML reports per second against WeasyPrint's minimal page.

One organisation with 50 records in five fields (and the list entries the rules give
them, and a grade) gets a signed public report; the benchmark then renders it again and
again in one process. The baseline, measured in the same run, is WeasyPrint turning
``<p>hello</p>`` into a PDF: the floor any WeasyPrint page pays. A second table shows
why the report's font and embedding were chosen: the same report with WenQuanYi Micro
Hei's whole face instead of its cut to GB 2312 (``bonafides.reports.face``), with Noto
Sans CJK instead, and either one subset by fontTools (WeasyPrint's fallback when
HarfBuzz's subsetter is missing) instead of HarfBuzz::

    .venv/bin/python benchmarks/reports_bench.py --rounds 30

Two rows are a new report of data unchanged since the last one (two reports of the same
data, in turn): its pages are not laid out again but stamped with its own number, id,
code, times and QR code (``bonafides.reports.stamp``), then drawn; the first as the
unsigned render, the second as handed out (stamped, signed, registered).

Two more rows are the PDF as the platform hands it out (``issue_pdf``: rendered,
PDF-signed by pyHanko, its SHA-256 registered): the first download of a report, whose
render is made (the kept renders are emptied before each call), and a download again,
whose unsigned render is kept in memory (``bonafides.reports.rendered``) so only signing
and registering are paid. All rows are steady state: each measurement's first call, not
timed, pays the one-off costs, among them pyHanko's import (about 0.7 s once per process).

A third table is where a cold render of the zh report spends its CPU, phase by phase
(``phases``: each phase's functions are wrapped with a CPU clock for the run, then
restored), and what the PDF signature adds.

``--subjects`` (what ``benchmarks/run.sh`` passes) sets how many other organisations
share the store; a report reads one subject by index, so it changes little.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bonafides.app.reports import issue_pdf, issue_report
from bonafides.codes import make_uscc
from bonafides.context import Context
from bonafides.records import RecordInput, SubjectKind, SubjectRef
from bonafides.reports import render
from bonafides.reports.envelope import SignedReport
from bonafides.reports.model import ReportRequest
from bonafides.reports.pades import sign_pdf
from bonafides.reports.render import pdf_of, render_html, render_pdf
from bonafides.reports.rendered import RENDERED
from bonafides.reports.stamp import LAID_OUT, LaidOutReports
from bonafides.rules.records import write_records
from bonafides.settings import Settings
from bonafides.store.db import migrate
from bonafides.store.reference import sync_catalogue
from bonafides.store.subjects import find
from bonafides.store.tables import Grade
from bonafides.store.types import utcnow

RESULTS = Path(__file__).with_name("RESULTS.md")
SECRET = "reports-bench-secret-0123456789abcdef"
TODAY = dt.date.today()
#: (type, department, records): 50 in all, in five fields.
MIX = (
    ("market.penalty", "samr", 20),
    ("tax.penalty", "sta", 10),
    ("environment.penalty", "mee", 10),
    ("production_safety.penalty", "mem", 8),
    ("courts.defaulter", "spc", 2),
)
OUR_FONTS = '"WenQuanYi Micro Hei GB2312", "WenQuanYi Micro Hei", "Noto Sans CJK SC", sans-serif'
#: The stack without the face cut to GB 2312 (``bonafides.reports.face``).
WHOLE_FACE = '"WenQuanYi Micro Hei", "Noto Sans CJK SC", sans-serif'


def _org(n: int, name: str) -> SubjectRef:
    return SubjectRef(
        code=make_uscc("9", "1", "110105", f"{n:08d}"),
        kind=SubjectKind.LEGAL_PERSON,
        name=name,
        name_en=f"Beijing Benchmark {n} Co., Ltd.",
        region="110105",
    )


def _records(subject: SubjectRef, owner: int) -> list[RecordInput]:
    items = []
    n = 0
    for type_code, source, count in MIX:
        for _ in range(count):
            n += 1
            decided = TODAY - dt.timedelta(days=17 * n)
            number = f"京{source}罚〔{decided.year}〕{owner}-{n:04d}号"
            items.append(
                RecordInput(
                    type_code=type_code,
                    source=source,
                    decision_no=number,
                    decision_date=decided,
                    subject=subject,
                    content={
                        "subject_name": subject.name,
                        "decision_no": number,
                        "violation_type": "未按规定公示年度报告及相关信息",
                        "violation_facts": "经查，当事人存在违法行为，事实清楚、证据确凿。",
                        "penalty_basis": "《中华人民共和国行政处罚法》第二十八条",
                        "penalty_category": "warning;fine",
                        "fine_amount_10k_yuan": "2.5",
                        "enforcement_court": "北京市朝阳区人民法院",
                        "basis_document_no": f"（{decided.year}）京0105民初{n}号",
                    },
                    raw={},
                    severity="general",
                    legal_basis="《中华人民共和国行政处罚法》",
                    published_until=decided + dt.timedelta(days=3 * 365),
                    retention_until=decided + dt.timedelta(days=5 * 365),
                )
            )
    return items


def build_store(url: str, data_dir: Path, others: int) -> tuple[Context, SignedReport]:
    ctx = Context(Settings(db=url, secret_key=SECRET, data_dir=data_dir))
    migrate(ctx.engine)
    with ctx.sessions.begin() as session:
        sync_catalogue(session, ctx.catalogue)
    subject = _org(1, "北京信用报告基准测试科技有限公司")
    with ctx.sessions.begin() as session:
        write_records(session, ctx.keys, _records(subject, 1), actor="bench")
    for start in range(0, others, 500):
        batch = []
        for n in range(start, min(start + 500, others)):
            other = _org(n + 2, f"北京基准测试{n + 2}有限公司")
            batch.append(_records(other, n + 2)[0])
        with ctx.sessions.begin() as session:
            write_records(session, ctx.keys, batch, actor="bench")
    with ctx.sessions.begin() as session:
        found = find(session, ctx.keys, subject.code)
        assert found is not None
        session.add(
            Grade(
                subject_id=found.id,
                scheme="tax",
                grade="B",
                as_of=TODAY,
                line=2,
                record_ids="",
                evaluator="rules-v1",
                rules_version="bench",
                computed_at=utcnow(),
            )
        )
    signed = issue_report(ctx, ReportRequest(code=subject.code), actor="bench")
    return ctx, signed


def issue(ctx: Context, code: str) -> SignedReport:
    return issue_report(ctx, ReportRequest(code=code), actor="bench")


def first_download(ctx: Context, signed: SignedReport, lang: str) -> bytes:
    """A report's PDF as handed out the first time: rendered, signed, registered."""
    RENDERED.clear()
    LAID_OUT.clear()
    return issue_pdf(ctx, signed, lang)


def stamped(reports: tuple[SignedReport, SignedReport], lang: str) -> Callable[[], bytes]:
    """PDFs of two reports of the same data in turn, each stamped on the pages laid out
    for the other (``bonafides.reports.stamp``): a new report of unchanged data."""
    laid = LaidOutReports()
    turn = [0]

    def run() -> bytes:
        turn[0] += 1
        return laid.pdf(reports[turn[0] % 2], lang)

    return run


def download_new(ctx: Context, reports: tuple[SignedReport, SignedReport]) -> Callable[[], bytes]:
    """A new report of unchanged data handed out: stamped, signed, registered."""
    turn = [0]

    def run() -> bytes:
        turn[0] += 1
        RENDERED.clear()
        return issue_pdf(ctx, reports[turn[0] % 2], "zh")

    return run


def download_again(ctx: Context, signed: SignedReport, lang: str) -> bytes:
    """The same report's PDF handed out again: its render kept, signed, registered."""
    return issue_pdf(ctx, signed, lang)


@dataclass
class Timing:
    """Wall time per call, and CPU time beside it: on a shared machine the CPU time says
    what the call costs, the wall time what a caller waited."""

    name: str
    seconds: list[float]
    cpu: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu)

    @property
    def p95(self) -> float:
        ordered = sorted(self.seconds)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]

    @property
    def rate(self) -> float:
        return 1 / self.median


def measure(name: str, rounds: int, action: Callable[[], Any]) -> Timing:
    action()  # warm caches: templates, font configuration, fontconfig's font list
    seconds, cpu = [], []
    for _ in range(rounds):
        started, cpu_started = time.perf_counter(), time.process_time()
        action()
        seconds.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    return Timing(name, seconds, cpu)


def minimal_pdf() -> bytes:
    import weasyprint

    data = weasyprint.HTML(string="<p>hello</p>").write_pdf()
    assert isinstance(data, bytes)
    return data


def font_variant(signed: SignedReport, fonts: str, *, harfbuzz: bool) -> Callable[[], bytes]:
    """The same report page with another font stack, subset by HarfBuzz or by fontTools."""
    html = render_html(signed, "zh").replace(OUR_FONTS, fonts)
    assert fonts == OUR_FONTS or OUR_FONTS not in html

    def run() -> bytes:
        import weasyprint.pdf.fonts as pdf_fonts

        saved = pdf_fonts.harfbuzz_subset
        if not harfbuzz:
            pdf_fonts.harfbuzz_subset = None
        try:
            return pdf_of(html, signed)
        finally:
            pdf_fonts.harfbuzz_subset = saved

    return run


def phases(ctx: Context, signed: SignedReport, rounds: int) -> list[tuple[str, float]]:
    """CPU ms per cold zh render in each phase, and the PDF signature's beside them."""
    import pydyf  # type: ignore[import-untyped]
    import weasyprint.document as document
    import weasyprint.pdf as pdf
    import weasyprint.pdf.fonts as fonts

    from bonafides.reports.service import key_store

    spent: dict[str, float] = dict.fromkeys(
        (
            "template and QR",
            "QR",
            "parse the page",
            "styles",
            "box tree",
            "styles, boxes and layout",
            "draw",
            "font subset",
            "attachment",
            "deflate",
            "write and compress",
        ),
        0.0,
    )
    wrapped = (
        (render, "_page", "template and QR"),
        (render, "qr_png", "QR"),
        (render, "_document", "parse the page"),
        (document.Document, "_build_layout_context", "styles"),
        (document, "build_formatting_structure", "box tree"),
        (document.Document, "_render", "styles, boxes and layout"),
        (document, "draw_page", "draw"),
        (fonts.Font, "subset", "font subset"),
        (pdf, "write_pdf_attachment", "attachment"),
        (render, "deflate_streams_once", "deflate"),
        (pydyf.PDF, "write", "write and compress"),
    )
    saved = [(owner, name, getattr(owner, name)) for owner, name, _ in wrapped]

    def timed(function: Callable[..., Any], label: str) -> Callable[..., Any]:
        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> Any:
            started = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                spent[label] += time.process_time() - started

        return run

    render_pdf(signed, "zh")
    for (owner, name, label), (_, _, function) in zip(wrapped, saved, strict=True):
        setattr(owner, name, timed(function, label))
    try:
        started = time.process_time()
        for _ in range(rounds):
            unsigned = render_pdf(signed, "zh")
        total = time.process_time() - started
    finally:
        for owner, name, function in saved:
            setattr(owner, name, function)
    keys = key_store(ctx)
    sign_pdf(unsigned, keys, reason="bench")
    started = time.process_time()
    for _ in range(rounds):
        sign_pdf(unsigned, keys, reason="bench")
    signing = time.process_time() - started
    ms = {label: seconds * 1000 / rounds for label, seconds in spent.items()}
    layout = ms["styles, boxes and layout"] - ms["styles"] - ms["box tree"]
    rows = [
        ("page template", ms["template and QR"] - ms["QR"]),
        ("QR code", ms["QR"]),
        ("parse the page", ms["parse the page"]),
        ("styles (cascade)", ms["styles"]),
        ("box tree", ms["box tree"]),
        ("layout (line breaking, pages, footers)", layout),
        ("draw the pages", ms["draw"]),
        ("font subset (HarfBuzz)", ms["font subset"]),
        ("attach the envelope", ms["attachment"]),
        ("deflate the streams (once)", ms["deflate"]),
        ("write the PDF", ms["write and compress"]),
    ]
    rows.append(
        (
            "rest (PDF objects, font widths, metadata)",
            total * 1000 / rounds - sum(v for _, v in rows),
        )
    )
    rows.append(("render in all", total * 1000 / rounds))
    rows.append(("PDF signature (pyHanko), beside it", signing * 1000 / rounds))
    return rows


def _phase_table(rows: list[tuple[str, float]]) -> Table:
    total = dict(rows)["render in all"]
    table = Table(title="where a cold zh render's CPU goes")
    for column in ("phase", "CPU ms", "share"):
        table.add_column(column, justify="left" if column == "phase" else "right")
    for name, value in rows:
        table.add_row(name, f"{value:.1f}", f"{100 * value / total:.0f} %")
    return table


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = os.getloadavg()[0]
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB, Python "
        f"{platform.python_version()}, load {load:.1f} at start"
    )


def _table(title: str, timings: list[Timing], baseline: Timing, sizes: dict[str, int]) -> Table:
    table = Table(title=title)
    for column in ("what", "median ms", "p95 ms", "CPU ms", "per second", "× baseline", "bytes"):
        table.add_column(column, justify="left" if column == "what" else "right")
    for t in timings:
        table.add_row(
            t.name,
            f"{t.median * 1000:.1f}",
            f"{t.p95 * 1000:.1f}",
            f"{t.cpu_median * 1000:.1f}",
            f"{t.rate:.1f}",
            f"{t.median / baseline.median:.1f}",
            f"{sizes.get(t.name, 0):,}" if t.name in sizes else "",
        )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--subjects", type=int, default=1000, help="other subjects in the store")
    parser.add_argument("--max-subjects", type=int, default=10_000, help="cap on --subjects")
    parser.add_argument("--rounds", type=int, default=30, help="renders per measurement")
    parser.add_argument("--font-rounds", type=int, default=5, help="renders per font variant")
    parser.add_argument("--db", help="store URL; default a temporary SQLite file")
    parser.add_argument("--no-results", action="store_true", help="do not append RESULTS.md")
    args = parser.parse_args()
    others = min(args.subjects, args.max_subjects)
    console = Console()
    described = machine()
    with tempfile.TemporaryDirectory(prefix="reports-bench-") as tmp:
        url = args.db or f"sqlite:///{tmp}/bench.db"
        console.print(f"store: {others:,} other subjects; {described}")
        ctx, signed = build_store(url, Path(tmp) / "var", others)
        code = signed.document["subject"]["code"]
        pair = (signed, issue(ctx, code))
        try:
            records = sum(len(s["records"]) for s in signed.document["sections"])
            console.print(f"report {signed.document['number']}: {records} records")
            sizes = {
                "PDF report, zh": len(render_pdf(signed, "zh")),
                "PDF report, en": len(render_pdf(signed, "en")),
                "minimal page (baseline)": len(minimal_pdf()),
                "PDF issued, zh (render, sign, register)": len(first_download(ctx, signed, "zh")),
            }
            sizes["PDF issued again, zh (kept render, sign, register)"] = sizes[
                "PDF issued, zh (render, sign, register)"
            ]
            baseline = measure("minimal page (baseline)", args.rounds, minimal_pdf)
            main_rows = [
                baseline,
                measure("HTML report, zh", args.rounds, lambda: render_html(signed, "zh")),
                measure("PDF report, zh", args.rounds, lambda: render_pdf(signed, "zh")),
                measure("PDF report, en", args.rounds, lambda: render_pdf(signed, "en")),
                measure(
                    "PDF report, zh, new report of unchanged data (stamped)",
                    args.rounds,
                    stamped(pair, "zh"),
                ),
                measure(
                    "PDF issued, zh, new report of unchanged data (stamped, sign, register)",
                    args.rounds,
                    download_new(ctx, pair),
                ),
                measure(
                    "PDF issued, zh (render, sign, register)",
                    args.rounds,
                    lambda: first_download(ctx, signed, "zh"),
                ),
                measure(
                    "PDF issued again, zh (kept render, sign, register)",
                    args.rounds,
                    lambda: download_again(ctx, signed, "zh"),
                ),
                measure("issue (draw, sign, store)", args.rounds, lambda: issue(ctx, code)),
            ]
            fonts = []
            for label, stack, harfbuzz in (
                ("WenQuanYi Micro Hei cut to GB 2312, HarfBuzz (chosen)", OUR_FONTS, True),
                ("WenQuanYi Micro Hei whole face, HarfBuzz", WHOLE_FACE, True),
                ("Noto Sans CJK SC, HarfBuzz", '"Noto Sans CJK SC", sans-serif', True),
                ("WenQuanYi Micro Hei, fontTools", OUR_FONTS, False),
                ("Noto Sans CJK SC, fontTools", '"Noto Sans CJK SC", sans-serif', False),
            ):
                run = font_variant(signed, stack, harfbuzz=harfbuzz)
                sizes[label] = len(run())
                fonts.append(measure(label, args.font_rounds, run))
            phase_rows = phases(ctx, signed, args.rounds)
        finally:
            ctx.close()
    console.print(_table("reports (one process, one thread)", main_rows, baseline, sizes))
    console.print(_table("font and embedding, same zh report", fonts, baseline, sizes))
    console.print(_phase_table(phase_rows))
    if not args.no_results:
        _append_results(
            args, described, others, records, main_rows, fonts, baseline, sizes, phase_rows
        )


def _append_results(
    args: argparse.Namespace,
    described: str,
    others: int,
    records: int,
    main_rows: list[Timing],
    fonts: list[Timing],
    baseline: Timing,
    sizes: dict[str, int],
    phase_rows: list[tuple[str, float]],
) -> None:
    lines = [
        "",
        f"## reports_bench ({dt.date.today().isoformat()})",
        "",
        f"`benchmarks/reports_bench.py --subjects {args.subjects} --rounds {args.rounds} "
        f"--font-rounds {args.font_rounds}`: a public report of {records} records "
        f"(one organisation; {others:,} others in the store), one process, one thread, "
        "steady state (pyHanko's import, about 0.7 s once per process, is not timed). "
        f"Machine: {described}.",
        "",
        "| what | median ms | p95 ms | CPU ms | per second | × baseline | PDF bytes |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for t in [*main_rows, *fonts]:
        size = f"{sizes[t.name]:,}" if t.name in sizes else ""
        lines.append(
            f"| {t.name} | {t.median * 1000:.1f} | {t.p95 * 1000:.1f} | "
            f"{t.cpu_median * 1000:.1f} | {t.rate:.1f} | "
            f"{t.median / baseline.median:.1f} | {size} |"
        )
    total = dict(phase_rows)["render in all"]
    lines += [
        "",
        f"Where a cold zh render's CPU goes ({args.rounds} renders, each phase's functions "
        "wrapped with a CPU clock):",
        "",
        "| phase | CPU ms | share |",
        "|---|---:|---:|",
        *(f"| {name} | {value:.1f} | {100 * value / total:.0f} % |" for name, value in phase_rows),
    ]
    with RESULTS.open("a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
