from fastapi.testclient import TestClient

from app.api.main import create_app
from app.settings import Settings
from tests.fakes import HashingEmbedder


def test_the_dashboard_of_an_open_service_says_it_is_open(client: TestClient) -> None:
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert '<body class="dash" data-access="open">' in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    assert client.get("/v1/reports/deflection").status_code == 200  # what the page then reads, without a key


def test_the_dashboard_of_a_service_with_keys_asks_for_one(settings: Settings) -> None:
    keyed = settings.model_copy(update={"secret_keys": ["sk_test"]})
    with TestClient(create_app(keyed, embedder=HashingEmbedder())) as client:
        page = client.get("/dashboard")
        assert page.status_code == 200
        assert '<body class="dash" data-access="key">' in page.text and 'data-access="open"' not in page.text
        assert client.get("/v1/reports/deflection").status_code == 401
