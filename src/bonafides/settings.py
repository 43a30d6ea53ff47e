"""One settings class for the whole platform, read from ``BONAFIDES_*`` variables.

Secrets have a development default so that ``make demo`` works on a fresh machine;
outside demo mode the platform refuses to start with that default (see ``check``).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "bonafides-development-secret-change-me"  # noqa: S105 - refused outside demo


class InsecureSettingsError(RuntimeError):
    """Raised when a production instance would run with a known secret."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BONAFIDES_", extra="ignore")

    db: str = Field(
        default="sqlite:///bonafides.db",
        description="SQLAlchemy URL of the store: sqlite:///path or postgresql+psycopg://...",
    )
    secret_key: SecretStr = Field(
        default=SecretStr(DEFAULT_SECRET),
        description="Master secret: keys the lookup HMAC and the encryption of ID numbers.",
    )
    demo: bool = Field(
        default=False,
        description="Demo mode: allows the development secret; never set in production.",
    )
    data_dir: Path = Field(
        default=Path("var"),
        description="Directory for keys, uploaded files and ingest reports.",
    )
    holidays: Path | None = Field(
        default=None,
        description="YAML file of public holidays and adjusted working days; default: packaged.",
    )
    publicity_working_days: int = Field(
        default=7,
        description="Working days within which licences and penalties must be made public.",
    )
    timezone: str = Field(
        default="Asia/Shanghai",
        description="Time zone of the credit office; decides what 'today' is for deadlines.",
    )
    read_pool_size: int = Field(
        default=4,
        gt=0,
        le=64,
        description="PostgreSQL connections per worker for public profile reads on the "
        "event loop; a worker is busy in Python most of a read, so a few suffice.",
    )
    pg_partitions: int = Field(
        default=0,
        ge=0,
        le=1024,
        description="PostgreSQL only, read once by the migration that builds the tables: "
        "hash-partition records, versions, list entries and check lines by subject into "
        "this many partitions (0: plain tables).",
    )
    spark_driver_memory: str | None = Field(
        default=None,
        pattern=r"^[0-9]+([kKmMgGtTpP][bB]?)?$",
        description="Heap of the Spark JVM that `--engine spark` starts on this machine "
        "(local mode, where the driver is also the executor), as Spark writes sizes: "
        "512m, 6g. Unset: Spark's default (1g). Ignored under spark-submit.",
    )
    spark_bucket_subjects: int = Field(
        default=100_000,
        gt=0,
        description="Subjects per bucket of `lists recompute --engine spark`: the job reads, "
        "keeps and evaluates one bucket of subjects at a time, so its memory is that of a "
        "bucket whatever the store's size (docs/deployment.md gives the heap a bucket "
        "needs).",
    )
    db_pool_size: int = Field(
        default=10,
        gt=0,
        le=200,
        description="PostgreSQL connections per process that the ORM keeps open; ten more "
        "are opened for a burst and closed after it.",
    )
    upload_max_bytes: int = Field(
        default=50 * 1024 * 1024,
        gt=0,
        description="Largest request body of the routes that take files or batches: record "
        "submission, register loads, batch screening, the console upload, verification "
        "uploads, attachments.",
    )
    request_max_bytes: int = Field(
        default=64 * 1024,
        gt=0,
        description="Largest request body of every route that takes no files or batches "
        "(sign-in, registration, report issuing, forms); refused 413 before it is parsed.",
    )
    department_keys: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="Submission keys per department code (JSON object); a key submits as its "
        "department only.",
    )

    report_validity_days: int = Field(
        default=30,
        gt=0,
        description="Days a credit report stays valid after issue; printed on it and signed.",
    )
    report_verify_url: str = Field(
        default="http://127.0.0.1:8000/verify",
        description="Public address of the verification page; a report's QR code points here "
        "with ?report=ID.",
    )
    report_font_cache: Path | None = Field(
        default=None,
        description="Directory of the report face cut to GB 2312, made once per machine "
        "(bonafides.reports.face); default: $XDG_CACHE_HOME/bonafides/fonts or "
        "~/.cache/bonafides/fonts.",
    )

    audit_checkpoint_events: int = Field(
        default=1000,
        ge=0,
        description="Sign a checkpoint of the audit chain's head every this many events "
        "(0: never by count).",
    )
    audit_checkpoint_minutes: int = Field(
        default=60,
        ge=0,
        description="Sign a checkpoint with the first event appended this many minutes after "
        "the last one (0: never by time); bonafides audit checkpoint signs one at once.",
    )
    reading_alert_min: int = Field(
        default=100,
        ge=1,
        description="Alert on unusual reading only above this many non-public files read "
        "by one account or key in an office day, whatever its baseline.",
    )
    reading_alert_factor: float = Field(
        default=5.0,
        gt=1,
        description="Alert when a reader's non-public reads in a day exceed this multiple of "
        "its own baseline (the median of its daily reads over the window).",
    )
    reading_alert_window_days: int = Field(
        default=28,
        ge=7,
        le=366,
        description="Days before the scanned day whose reads make each reader's baseline.",
    )

    forwarded_allow_ips: str | None = Field(
        default=None,
        description="Comma-separated addresses of the reverse proxies trusted to name the "
        "client in X-Forwarded-For (bonafides serve --forwarded-allow-ips); unset: 127.0.0.1.",
    )

    hsts_seconds: int = Field(
        default=0,
        ge=0,
        description="Send Strict-Transport-Security with this max-age (seconds) on every "
        "answer; set it only when the platform is reached over HTTPS alone (0: no header).",
    )
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="Log lines as plain text, or as one JSON object a line (for a log "
        "collector); either way each carries the request id and no ID number.",
    )
    metrics_allow: str = Field(
        default="127.0.0.1/32,::1/128",
        description="Comma-separated networks allowed to read /metrics without a token "
        "(the client address after trusted proxies).",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="A bearer token that reads /metrics from any address (for a remote "
        "Prometheus); unset: only the metrics_allow networks may.",
    )

    # ---- the job worker (bonafides worker)
    job_escalate_minutes: int = Field(
        default=60,
        ge=0,
        description="Minutes between the worker's escalations of overdue objections, repair "
        "applications and complaints (0: not scheduled).",
    )
    job_expire_minutes: int = Field(
        default=60,
        ge=0,
        description="Minutes between the worker's runs that expire records past their "
        "retention period (0: not scheduled).",
    )
    job_mail_minutes: int = Field(
        default=1,
        ge=0,
        description="Minutes between the worker's mailings of queued notifications, when "
        "SMTP is configured (0: not scheduled).",
    )
    job_webhooks_minutes: int = Field(
        default=1,
        ge=0,
        description="Minutes between the worker's webhook deliveries to watchlists "
        "(0: not scheduled).",
    )
    job_alerts_minutes: int = Field(
        default=60,
        ge=0,
        description="Minutes between the worker's scans for unusual reading of non-public "
        "files (0: not scheduled).",
    )
    job_export_minutes: int = Field(
        default=1440,
        ge=0,
        description="Minutes between the worker's open-data snapshots (Parquet, in the data "
        "directory's exports, served at /api/v1/exports; 0: not scheduled).",
    )
    job_lease_seconds: int = Field(
        default=1800,
        gt=0,
        description="How long a worker holds a job's lease; a worker that dies mid-run "
        "frees the job for the others after this. Keep it above the longest run.",
    )

    # ---- accounts, sessions, rate limits and due process (issue 6)
    session_hours: int = Field(
        default=8,
        gt=0,
        le=24 * 30,
        description="Hours a portal or API login session lasts before the user signs in again.",
    )
    login_rate_per_minute: int = Field(
        default=10,
        gt=0,
        description="Login attempts allowed per minute from one client address, whichever "
        "accounts they try.",
    )
    login_account_rate_per_minute: int = Field(
        default=30,
        gt=0,
        description="Failed logins allowed per minute on one account from all addresses "
        "together; past it a guess waits for the next token. Keep it above "
        "login_rate_per_minute so that one address cannot slow the owner down.",
    )
    common_passwords_file: Path | None = Field(
        default=None,
        description="Text file (UTF-8, one password a line, '#' comments) of more passwords "
        "to refuse, added to the packaged list of the 20,000 most common ones.",
    )
    search_rate_per_minute: int = Field(
        default=120,
        gt=0,
        description="Public search and file requests allowed per minute, per address or API key.",
    )
    report_rate_per_minute: int = Field(
        default=20,
        gt=0,
        description="Credit reports issued or rendered as PDF or HTML per minute, per address "
        "or API key (a 17-page PDF costs about a second of CPU).",
    )
    objection_working_days: int = Field(
        default=15,
        gt=0,
        description="Working days the source department has to answer an objection.",
    )
    repair_working_days: int = Field(
        default=3,
        gt=0,
        description="Working days the source department has to decide a credit repair application.",
    )
    complaint_working_days: int = Field(
        default=15,
        gt=0,
        description="Working days the competent department has to answer a complaint or report.",
    )
    inquiry_max_days: int = Field(
        default=90,
        gt=0,
        description="Longest period an approved special inquiry may run, in calendar days.",
    )
    attachment_max_bytes: int = Field(
        default=10 * 1024 * 1024,
        gt=0,
        description="Largest single attachment to an objection, repair application or complaint.",
    )
    smtp_host: str | None = Field(
        default=None,
        description="SMTP server for e-mail notifications; unset: notifications are stored only.",
    )
    smtp_port: int = Field(default=587, gt=0, lt=65536, description="Port of the SMTP server.")
    smtp_starttls: bool = Field(
        default=True, description="Upgrade the SMTP connection with STARTTLS before logging in."
    )
    smtp_username: str | None = Field(default=None, description="SMTP login name, if required.")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password.")
    smtp_from: str = Field(
        default="bonafides@localhost",
        description="Sender address of e-mail notifications.",
    )
    instance: str = Field(
        default="local",
        min_length=1,
        max_length=64,
        pattern=r"^[a-z0-9][a-z0-9._-]*$",
        description="Name of this instance in the change feed: every event it writes names "
        "it as its origin (e.g. 'nation', 'gd').",
    )
    federation_secret: SecretStr | None = Field(
        default=None,
        min_length=32,
        description="Secret shared, out of band, with the instances this one federates "
        "with (32 characters or more). A peer reading the signed feed with an authority "
        "key then gets each natural person's ID number sealed under it, and a batch "
        "pulled from a peer opens them, so decisions about persons are copied; never in "
        "the public feed. Unset: persons' decisions are not exchanged.",
    )
    webhook_max_attempts: int = Field(
        default=8,
        gt=0,
        le=30,
        description="Attempts to deliver one event to a watchlist's webhook before it goes "
        "to the dead letters.",
    )
    webhook_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=120,
        description="Seconds a webhook receiver has to answer one delivery.",
    )

    def check(self) -> None:
        """Refuse the development secret unless demo mode is explicit."""
        if not self.demo and self.secret_key.get_secret_value() in ("", DEFAULT_SECRET):
            raise InsecureSettingsError(
                "BONAFIDES_SECRET_KEY is unset or the development default; "
                "set a random secret (or BONAFIDES_DEMO=1 for a demo instance)"
            )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
