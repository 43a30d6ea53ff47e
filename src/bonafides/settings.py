"""One settings class for the whole platform, read from ``BONAFIDES_*`` variables.

Secrets have a development default so that ``make demo`` works on a fresh machine;
outside demo mode the platform refuses to start with that default (see ``check``).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

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
