"""Name search quality and latency: one-typo names, against pg_trgm's operator alone.

A fixed sample of names (``TABLESAMPLE ... REPEATABLE``) each gets one character
replaced, as a clerk might mistype it, and is searched in process. Reported: how often
the right subject comes first and among the first five, and the latency. The baseline,
measured in the same run on the same queries, is the textbook query on the same GIN
index: ``<%`` (word similarity, pg_trgm's default threshold 0.3) ordered by
``word_similarity``. The store is web_bench's, filled once and reused::

    .venv/bin/python benchmarks/search_bench.py --subjects 1000000 \\
        --db postgresql+psycopg:///bonafides_web_bench_1m
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
from rich.console import Console
from rich.table import Table

from bonafides.context import Context
from bonafides.settings import Settings
from bonafides.store.search import search_subjects
from web_bench import (
    SECRET,
    _ensure_database,
    _has_schema,
    _loaded,
    _psycopg_url,
    _setting,
    _typo,
    append_results,
    load,
)

TODAY = dt.date.today()
BASELINE = (
    "SELECT s.code_display FROM subject_names AS n JOIN subjects AS s ON s.id = n.subject_id "
    "WHERE %(q)s <%% n.name ORDER BY word_similarity(%(q)s, n.name) DESC LIMIT 20"
)


@dataclass
class Outcome:
    approach: str
    queries: int
    first: int
    five: int
    latencies: list[float]

    def cells(self) -> list[str]:
        ms = sorted(self.latencies)

        def at(share: float) -> str:
            return f"{ms[min(len(ms) - 1, int(len(ms) * share))]:.1f}"

        return [
            self.approach,
            f"{self.queries:,}",
            f"{self.first / self.queries:.0%}",
            f"{self.five / self.queries:.0%}",
            f"{statistics.median(ms):.1f}",
            at(0.95),
            at(0.99),
        ]


COLUMNS = ("approach", "queries", "right name first", "in first five", "p50 ms", "p95 ms", "p99 ms")


def sample(url: str, n: int, seed: int) -> list[tuple[str, str]]:
    """(code, misspelt name) pairs, the same for the same seed and store."""
    rnd = random.Random(seed)
    with psycopg.connect(_psycopg_url(url)) as conn:
        rows = conn.execute(
            "SELECT code_display, name FROM subjects "
            f"TABLESAMPLE SYSTEM (5) REPEATABLE ({int(seed)}) LIMIT %s",
            (n,),
        ).fetchall()
    return [(str(code), _typo(rnd, str(name))) for code, name in rows]


def window_statistics(url: str) -> str:
    """How coarse the window statistics search chooses by are (store/name_stats.py)."""
    with psycopg.connect(_psycopg_url(url)) as conn:
        row = conn.execute(
            "SELECT cardinality(e.most_common_elems::text::text[]), "
            "e.most_common_elem_freqs[cardinality(e.most_common_elems::text::text[]) + 1] "
            "* c.reltuples FROM pg_stats_ext_exprs AS e "
            "JOIN pg_class AS c ON c.oid = to_regclass('subject_names') "
            "WHERE e.statistics_name = 'subject_names_windows'"
        ).fetchone()
    if row is None or row[0] is None:
        return "window statistics not gathered yet"
    return f"{row[0]:,} windows listed as common, the least held by {row[1]:,.0f} names"


def run(approach: str, queries: list[tuple[str, str]], find: Callable[[str], list[str]]) -> Outcome:
    for _, query in queries[:20]:
        find(query)  # the first searches read the index into memory
    outcome = Outcome(approach, len(queries), 0, 0, [])
    for code, query in queries:
        started = time.perf_counter()
        found = find(query)
        outcome.latencies.append((time.perf_counter() - started) * 1000)
        outcome.first += found[:1] == [code]
        outcome.five += code in found[:5]
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--records-per-subject", type=int, default=10)
    parser.add_argument("--db", default="postgresql+psycopg:///bonafides_web_bench")
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-results", action="store_true", help="do not append RESULTS.md")
    args = parser.parse_args()
    console = Console()
    _ensure_database(args.db)
    have = _loaded(args.db) if _has_schema(args.db) else 0
    if have != args.subjects:
        load(args.db, args.subjects, args.records_per_subject, console)
    queries = sample(args.db, args.queries, args.seed)
    ctx = Context(Settings(db=args.db, secret_key=SECRET))

    def bonafides(query: str) -> list[str]:
        with ctx.sessions() as session:
            result = search_subjects(session, ctx.keys, query, today=TODAY, limit=20)
        return [hit.code for hit in result.hits]

    with psycopg.connect(_psycopg_url(args.db), autocommit=True) as conn:

        def baseline(query: str) -> list[str]:
            return [str(row[0]) for row in conn.execute(BASELINE, {"q": query})]

        outcomes = [
            run("pg_trgm <% alone (baseline)", queries, baseline),
            run("bonafides search", queries, bonafides),
        ]
    ctx.close()
    table = Table(
        title=f"search_bench: {args.queries} one-typo names of {args.subjects:,} subjects, "
        f"PostgreSQL, in process, seed {args.seed}"
    )
    for column in COLUMNS:
        table.add_column(column, justify="left" if column == "approach" else "right")
    for outcome in outcomes:
        table.add_row(*outcome.cells())
    console.print(table)
    if not args.no_results:
        append_results(
            "search_bench",
            f"`benchmarks/search_bench.py --subjects {args.subjects} --queries {args.queries} "
            f"--seed {args.seed}`: {args.queries} names sampled from {args.subjects:,} "
            "subjects, one character of each replaced, searched in process on PostgreSQL "
            f"(shared_buffers {_setting(args.db, 'shared_buffers')}; "
            f"{window_statistics(args.db)}).",
            COLUMNS,
            [o.cells() for o in outcomes],
        )


if __name__ == "__main__":
    main()
