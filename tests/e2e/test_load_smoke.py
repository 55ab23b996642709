"""The load script's CI smoke run: mixed traffic, reindexes and a cut database, with nothing lost.

Behaviour only: throughput and latency are the benchmark's to report (python -m bench.load), not asserted.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.load import main as run_load
from tests.conftest import POSTGRES_URL

pytestmark = pytest.mark.e2e


def test_mixed_traffic_with_reindexes_and_a_database_restart_loses_nothing(tmp_path: Path) -> None:
    database = POSTGRES_URL or f"sqlite:///{tmp_path / 'load.db'}"
    exit_code = run_load(
        ["--smoke", "--restart", "terminate", "--database-url", database, "--output-dir", str(tmp_path)]
    )
    (result,) = tmp_path.glob("*-load.json")
    figures = json.loads(result.read_text())["figures"]

    assert exit_code == 0
    for kind in ["suggest", "events"]:
        assert figures["traffic"][kind]["statuses"].get("200", 0) > 20, kind
        assert figures["traffic"][kind]["server_errors_outside_restart"] == 0, kind
    events = figures["events"]
    assert events["lost"] == 0 and events["unaccounted"] == 0
    assert events["acknowledged"] > 0 and events["stored"] >= events["acknowledged"]
    assert events["refused_with_error"].keys() <= {"503"}  # the only refusal: the database was away
    reindexes = [i for i in figures["incidents"] if i["what"] == "reindex"]
    assert len(reindexes) >= 2 and all(i["detail"]["exit"] == 0 for i in reindexes)
    # Each reindex published a new build, and the service went on to serve it by itself.
    assert len({i["detail"]["published"] for i in reindexes}) == len(reindexes)
    assert reindexes[0]["detail"]["serving_after_seconds"] is not None
    if POSTGRES_URL:
        assert any(i["what"].startswith("database restart") for i in figures["incidents"])
