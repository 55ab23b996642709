"""The service's one settings class: every value comes from here, read from DEFLECT_* variables."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.logs import LogFormat
from indexer.embedders import DEFAULT_MODEL
from retrieval.display import DEFAULT_THRESHOLDS

CommaList = Annotated[list[str], NoDecode]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DEFLECT_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///var/deflect.db"
    content_dir: Path = Path("content")
    index_dir: Path = Path("var/index")
    model: str = DEFAULT_MODEL
    morphological_analysis: bool = True
    log_format: LogFormat = Field(
        default="auto", description="text on a terminal, JSON lines otherwise; json or text to choose"
    )
    index_poll_seconds: float = Field(
        default=5.0, ge=0, description="how often to look for a newly published build; 0 = never"
    )

    secret_keys: CommaList = []
    publishable_keys: CommaList = []
    allowed_origins: CommaList = []

    redis_url: str | None = Field(
        default=None, description="shares rate limits across workers and instances; unset = each process counts alone"
    )
    rate_limit_per_minute: int = Field(default=120, ge=1, description="public requests per client (IP) and key")
    rate_limit_per_key_per_minute: int = Field(default=6000, ge=1, description="public requests per key, all clients")
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    max_import_bytes: int = Field(
        default=1024 * 1024, ge=1024, description="ticket imports over HTTP; larger exports: `deflect import tickets`"
    )
    retention_days: float = Field(default=90.0, gt=0, description="raw question text and vectors are purged after this")
    # Regexes hold commas ({6,8}), so not a comma list: a JSON list, or one pattern per line.
    redact_patterns: Annotated[list[str], NoDecode] = Field(
        default=[], description='extra regular expressions to redact: a JSON list (["社員番号\\d{6}"]) or one per line'
    )

    client_id_key: SecretStr | None = Field(
        default=None,
        description="keys the hash of client ids that hold an email or phone number (HMAC); unset: plain SHA-256",
    )

    locales: CommaList = ["ja", "en"]
    # A contact-form mail told at length is still a question, and its ticket a failure to count: 10,000 characters
    # still fit the body limit as escaped JSON. Why: docs/decisions/0045-long-mails-are-searched.md
    max_query_chars: int = Field(default=10_000, ge=10)
    min_query_chars: int = Field(default=2, ge=1)
    # Per-locale thresholds on the calibrated confidence; "default" covers the rest.
    answer_threshold: dict[str, float] = {"default": DEFAULT_THRESHOLDS[0]}
    intent_window_seconds: float = Field(
        default=10.0, gt=0, description="keystrokes closer than this on one edit chain are one search intent"
    )
    attribution_window_hours: float = Field(
        default=24.0, gt=0, allow_inf_nan=False, description="W: how long after a suggestion set events count"
    )
    recontact_days: float = Field(
        default=7.0, gt=0, allow_inf_nan=False, description="R: re-contact horizon for net deflection"
    )
    gap_report_max_stale_seconds: float = Field(
        default=300.0, ge=0, description="a gap report is recomputed at most this often; 0 = whenever data changed"
    )
    low_confidence_threshold: dict[str, float] = {"default": DEFAULT_THRESHOLDS[1]}

    @field_validator("secret_keys", "publishable_keys", "allowed_origins", "locales", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            if value.strip().startswith("["):  # pydantic-settings' own list syntax, which operators try too
                return json.loads(value)
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("content_dir", "index_dir")
    @classmethod
    def _home(cls, path: Path) -> Path:
        return path.expanduser()  # ~/help-center, as operators write it in .env, where no shell expands it

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, url: str | None) -> str | None:
        if url and not url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(f"{url!r} is not a Redis URL: give redis://host:6379/0 (rediss:// for TLS)")
        return url or None

    @field_validator("locales")
    @classmethod
    def _lower_case_locales(cls, locales: list[str]) -> list[str]:
        return [locale.lower() for locale in locales]

    @field_validator("allowed_origins")
    @classmethod
    def _bare_origins(cls, origins: list[str]) -> list[str]:
        # Browsers send an origin as scheme://host[:port]; CORS compares it as a string, so a copied URL's
        # trailing slash would never match.
        bare = []
        for origin in origins:
            trimmed = origin.rstrip("/")
            scheme, _, rest = trimmed.partition("://")
            if trimmed != "*" and (scheme not in ("http", "https") or not rest or "/" in rest):
                raise ValueError(f"{origin!r} is not an origin: give scheme://host[:port], as https://help.example.com")
            bare.append(trimmed)
        return bare

    @field_validator("answer_threshold", "low_confidence_threshold")
    @classmethod
    def _probabilities(cls, thresholds: dict[str, float]) -> dict[str, float]:
        for locale, threshold in thresholds.items():
            if not 0.0 <= threshold <= 1.0:  # NaN fails this too
                raise ValueError(f"the threshold for {locale!r} is {threshold}: confidence is a probability, 0 to 1")
        return {locale.lower(): threshold for locale, threshold in thresholds.items()}

    @field_validator("redact_patterns", mode="before")
    @classmethod
    def _pattern_list(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith('["'):  # a JSON list; a pattern may start with "[" too, as in [A-Z]{2}\d{7}
                try:
                    return json.loads(text)
                except json.JSONDecodeError as exc:
                    raise ValueError(f"not a JSON list of patterns ({exc}): double every backslash") from exc
            return [line.strip() for line in text.splitlines() if line.strip()]
        return value

    @field_validator("redact_patterns")
    @classmethod
    def _compilable(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a regular expression: {exc}") from exc
        return patterns

    @property
    def client_id_key_value(self) -> str | None:
        return self.client_id_key.get_secret_value() if self.client_id_key else None

    @property
    def open_access(self) -> bool:
        """No keys configured: every endpoint is open (development only; said loudly at start-up)."""
        return not self.secret_keys and not self.publishable_keys

    def thresholds_for(self, locale: str | None) -> tuple[float, float]:
        """(answered, low_confidence) thresholds for a locale."""
        key = locale or "default"
        answered = self.answer_threshold.get(key, self.answer_threshold.get("default", DEFAULT_THRESHOLDS[0]))
        low = self.low_confidence_threshold.get(
            key, self.low_confidence_threshold.get("default", DEFAULT_THRESHOLDS[1])
        )
        return answered, low


def setting_problems(error: ValidationError) -> list[str]:
    """Each problem of a settings error named as operators set it (DEFLECT_SECRET_KEYS), not as a field."""
    problems = []
    for problem in error.errors():
        name = str(problem["loc"][0]) if problem["loc"] else ""
        problems.append(f"{Settings.model_config.get('env_prefix', '')}{name.upper()}: {problem['msg']}")
    return problems
