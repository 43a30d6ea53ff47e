"""The platform's Prometheus metrics, defined once for every process that counts.

prometheus-client keeps them in the process; with ``PROMETHEUS_MULTIPROC_DIR`` set
(before the first import, as ``bonafides serve`` and ``bonafides worker`` do under a
process manager) each process writes them to files there and ``/metrics`` adds up all
the processes' files: the uvicorn workers' and the job worker's alike. Labels are
bounded: a route template (``/api/v1/subjects/{code}``), never a raw path, and no
label ever carries a subject.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

REQUESTS = Counter(
    "bonafides_http_requests",
    "HTTP requests answered, by method, route template and status code.",
    ("method", "route", "status"),
)
LATENCY = Histogram(
    "bonafides_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by method and route template.",
    ("method", "route"),
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
INGEST_ROWS = Counter(
    "bonafides_ingest_rows",
    "Rows of submitted files and batches, by outcome: accepted or rejected.",
    ("outcome",),
)
JOB_RUNS = Counter(
    "bonafides_job_runs",
    "Runs of the scheduled jobs, by job and outcome (ok, failed).",
    ("job", "outcome"),
)
JOB_DURATION = Histogram(
    "bonafides_job_duration_seconds",
    "How long each scheduled job's runs took.",
    ("job",),
    buckets=(0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 1800.0),
)
