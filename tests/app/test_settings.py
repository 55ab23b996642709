"""Settings as an operator writes them: environment variables with the DEFLECT_ prefix."""

import pytest
from pydantic import ValidationError

from app.privacy import Redactor
from app.settings import Settings
from retrieval.display import DEFAULT_THRESHOLDS


@pytest.mark.parametrize("value", ['["社員番号\\\\d{6,8}", "EMP-\\\\d+"]', "社員番号\\d{6,8}\nEMP-\\d+"])
def test_operator_patterns_come_from_the_environment_as_json_or_lines(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("DEFLECT_REDACT_PATTERNS", value)
    patterns = Settings().redact_patterns

    assert patterns == [r"社員番号\d{6,8}", r"EMP-\d+"]  # the comma in {6,8} is part of the pattern
    assert Redactor(patterns).redact("社員番号1234567 と EMP-42") == "[REDACTED] と [REDACTED]"


def test_one_operator_pattern_may_start_with_a_character_class(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEFLECT_REDACT_PATTERNS", r"[A-Z]{2}\d{7}")
    assert Settings().redact_patterns == [r"[A-Z]{2}\d{7}"]


@pytest.mark.parametrize(
    ("value", "reason"),
    [('["社員番号(\\\\d"]', "not a regular expression"), ('["社員番号\\d{6,8}"]', "double every backslash")],
)
def test_an_operator_pattern_that_cannot_be_read_stops_the_settings(
    monkeypatch: pytest.MonkeyPatch, value: str, reason: str
) -> None:
    monkeypatch.setenv("DEFLECT_REDACT_PATTERNS", value)
    with pytest.raises(ValidationError, match=reason):
        Settings()


@pytest.mark.parametrize("value", ["sk_a, sk_b,", '["sk_a", "sk_b"]'])
def test_keys_are_a_comma_list_or_a_json_list(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("DEFLECT_SECRET_KEYS", value)
    assert Settings().secret_keys == ["sk_a", "sk_b"]


def test_locales_and_threshold_keys_are_lower_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEFLECT_LOCALES", "JA, EN")
    monkeypatch.setenv("DEFLECT_ANSWER_THRESHOLD", '{"default": 0.5, "JA": 0.6}')
    settings = Settings()

    assert settings.locales == ["ja", "en"]
    assert settings.thresholds_for("ja") == (0.6, DEFAULT_THRESHOLDS[1])


def test_an_origin_copied_with_its_trailing_slash_is_the_bare_origin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEFLECT_ALLOWED_ORIGINS", "https://help.example.com/, http://localhost:3000")
    assert Settings().allowed_origins == ["https://help.example.com", "http://localhost:3000"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEFLECT_ALLOWED_ORIGINS", "help.example.com"),
        ("DEFLECT_ALLOWED_ORIGINS", "https://help.example.com/faq"),
        ("DEFLECT_ANSWER_THRESHOLD", '{"default": 1.5}'),
        ("DEFLECT_LOW_CONFIDENCE_THRESHOLD", '{"default": NaN}'),
        ("DEFLECT_ATTRIBUTION_WINDOW_HOURS", "inf"),
        ("DEFLECT_RECONTACT_DAYS", "inf"),
        ("DEFLECT_REDIS_URL", "localhost:6379"),
    ],
)
def test_a_value_that_cannot_work_stops_the_settings(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=name.removeprefix("DEFLECT_").lower()):
        Settings()
