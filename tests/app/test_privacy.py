import pytest

from app.privacy import Redactor, pseudonymous_client_id


@pytest.mark.parametrize(
    ("text", "placeholder", "secret"),
    [
        ("連絡先は taro.yamada@example.co.jp です", "[EMAIL]", "taro.yamada"),
        ("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｃｏｍ", "[EMAIL]", "taro"),
        ("携帯 090-1234-5678 まで", "[PHONE]", "5678"),
        ("電話は０３－１２３４－５６７８です", "[PHONE]", "1234"),
        ("call +81 90 1234 5678", "[PHONE]", "1234"),
        ("us office +1 (415) 555-2671", "[PHONE]", "2671"),
        ("〒150-0001 東京都渋谷区", "[POSTAL_CODE]", "0001"),
        ("マイナンバーは1234 5678 9012です", "[MY_NUMBER]", "9012"),
        ("card 4111 1111 1111 1111 please", "[CARD]", "4111"),
        ("カード番号5555-5555-5555-4444", "[CARD]", "4444"),
    ],
)
def test_redact_replaces_personal_data(text: str, placeholder: str, secret: str) -> None:
    redacted = Redactor().redact(text)
    assert placeholder in redacted
    assert secret not in redacted


@pytest.mark.parametrize(
    "text",
    ["エラー E-1023 が出ます", "2026-11-23 に申請した", "4111111111111112 is not Luhn-valid", "上限は600 requests/min"],
)
def test_redact_leaves_ordinary_numbers_alone(text: str) -> None:
    assert Redactor().redact(text) == text


def test_redact_applies_operator_patterns() -> None:
    assert Redactor([r"社員番号\d+"]).redact("社員番号12345の件") == "[REDACTED]の件"


def test_client_id_that_looks_like_an_email_is_hashed() -> None:
    hashed = pseudonymous_client_id("Taro@Example.com")
    assert hashed is not None and hashed.startswith("h:") and "example" not in hashed
    assert pseudonymous_client_id("browser-3f9a") == "browser-3f9a"
