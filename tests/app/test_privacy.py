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
        # Dashes that NFKC keeps: U+2212 from a Mac's full-width hyphen, ー from kana mode.
        ("携帯：０９０−１２３４−５６７８", "[PHONE]", "5678"),
        ("カード ４１１１ー１１１１ー１１１１ー１１１１", "[CARD]", "1111"),
        ("〒150−0001 東京都渋谷区", "[POSTAL_CODE]", "0001"),
        ("郵便番号1500001", "[POSTAL_CODE]", "0001"),
        ("TEL 03(1234)5678", "[PHONE]", "5678"),
        ("090 - 1234 - 5678 までお願いします", "[PHONE]", "5678"),
        ("+819012345678", "[PHONE]", "9012"),
        ("call me at (415) 555-2671", "[PHONE]", "2671"),
        ("toll free 1-800-555-0199", "[PHONE]", "0199"),
        ("office 415.555.2671", "[PHONE]", "2671"),
        ("taro＠example。com", "[EMAIL]", "taro"),
        ("taro @ example.com", "[EMAIL]", "taro"),
        ("https://app.example.com/reset?email=taro%40example.com", "[EMAIL]", "taro"),
        ("ｔａｒｏーｙａｍａｄａ＠ｅｘａｍｐｌｅ．ｃｏｍ", "[EMAIL]", "taro"),
        ("card number 4111  1111\n1111 1111 from the ticket", "[CARD]", "1111"),
    ],
)
def test_redact_replaces_personal_data(text: str, placeholder: str, secret: str) -> None:
    redacted = Redactor().redact(text)
    assert placeholder in redacted
    assert secret not in redacted


@pytest.mark.parametrize(
    "text",
    [
        "エラー E-1023 が出ます",
        "2026-11-23 に申請した",
        "4111111111111112 is not Luhn-valid",
        "上限は600 requests/min",
        # Ids and amounts a customer needs to say: none is a phone, card or My Number.
        "INV-2026-000123 の請求書",
        "ticket #0123456",
        "注文番号 1000234567",
        "1200000000円",
        "billed on 01-05-2026",
        "期間 2026-01-05 2026-02-04 の請求",
        "ポイント 1500 2000 3000 4500",
        "会員番号 0012345678",
        "Order #112-1234567-1234567",
        "2 seats @ 5.00 each",
    ],
)
def test_redact_leaves_ordinary_numbers_alone(text: str) -> None:
    assert Redactor().redact(text) == text


def test_redact_applies_operator_patterns() -> None:
    assert Redactor([r"社員番号\d+"]).redact("社員番号12345の件") == "[REDACTED]の件"


def test_client_id_that_looks_like_an_email_is_hashed() -> None:
    hashed = pseudonymous_client_id("Taro@Example.com")
    assert hashed is not None and hashed.startswith("h:") and "example" not in hashed
    assert pseudonymous_client_id("browser-3f9a") == "browser-3f9a"
    # One address typed full-width is the same client; a phone number is hashed as an address is.
    assert pseudonymous_client_id("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｃｏｍ") == pseudonymous_client_id("taro@example.com")
    phone = pseudonymous_client_id("line:090-1234-5678")
    assert phone is not None and phone.startswith("h:") and "5678" not in phone


def test_a_keyed_redactor_hashes_client_ids_by_its_key() -> None:
    one, other = Redactor(client_id_key="one"), Redactor(client_id_key="other")

    assert one.client_id("taro@example.com") == one.client_id("ＴＡＲＯ＠ｅｘａｍｐｌｅ．ｃｏｍ")
    assert one.client_id("taro@example.com") != other.client_id("taro@example.com")
    assert one.client_id("taro@example.com") != pseudonymous_client_id("taro@example.com")
    assert one.client_id("browser-3f9a") == "browser-3f9a"
