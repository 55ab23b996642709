"""Property-based fuzzing of the whole API from its OpenAPI schema (schemathesis): no input gives a 5xx."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from app.api.main import create_app
from app.settings import Settings
from bench.server import served
from indexer.analysis import Analyzer
from indexer.build import build_index
from indexer.embedders import DEFAULT_MODEL, load_embedder

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]
schema = schemathesis.openapi.from_dict(create_app(Settings(_env_file=None)).openapi())  # type: ignore[call-arg]
# NUL bytes in a URL never reach the app: uvicorn's HTTP parser resets such connections itself. NUL in bodies
# is covered by tests/api/test_suggest.py.
schema.config.generation.update(allow_x00=False)


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("fuzz")
    shutil.copytree(REPO / "content", root / "content")
    build_index(
        content_dir=root / "content",
        index_dir=root / "index",
        embedder=load_embedder(DEFAULT_MODEL),
        analyzer=Analyzer(),
    )
    env = {
        "DEFLECT_DATABASE_URL": f"sqlite:///{root / 'fuzz.db'}",
        "DEFLECT_INDEX_DIR": str(root / "index"),
        "DEFLECT_CONTENT_DIR": str(root / "content"),
        "DEFLECT_INDEX_POLL_SECONDS": "0",
        "DEFLECT_RATE_LIMIT_PER_MINUTE": "1000000",
        "DEFLECT_LOG_FORMAT": "text",
    }
    # Fuzzed requests that are not valid HTTP are refused by uvicorn itself, with a warning each: keep it quiet.
    with served(env, cwd=REPO, log_level="error") as url:
        yield url


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_causes_a_server_error(case: schemathesis.Case, base_url: str) -> None:
    case.call_and_validate(base_url=base_url, checks=[not_a_server_error])
