import json
from pathlib import Path

import pytest

from bench.__main__ import main as bench_main
from indexer.embedders import DEFAULT_MODEL
from tests.bench.sample_sets import BASE, VARIANT, write_dataset


@pytest.mark.e2e
def test_a_benchmark_run_indexes_first_then_answers_and_writes_its_figures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    datasets_dir = tmp_path / "datasets"
    queries = [
        {"id": "q1", "text": "パスワードを忘れました", "relevant": ["reset"], "split": "test"},
        {"id": "q2", "text": "where can I download my invoice", "relevant": ["invoice"], "split": "test"},
        {"id": "q3", "text": "SSO E-2001 error", "relevant": ["sso"], "split": "test"},
        {"id": "q4", "text": "how do I cancel my subscription", "relevant": [], "split": "test"},
        {"id": "q5", "text": "invoice pdf", "relevant": ["invoice"], "split": "val"},
    ]
    write_dataset(datasets_dir, "base", BASE, [q for q in queries if q["id"] in ("q1", "q2", "q5")])
    write_dataset(datasets_dir, "base_gap", VARIANT, queries)  # q4 has no article in either set: a gap
    argv = ["bench", "--datasets-dir", str(datasets_dir), "--work-dir", str(tmp_path / "work")]
    argv += ["--out", str(tmp_path / "out"), "--models", DEFAULT_MODEL, "--extra-models-on-small-sets", ""]
    argv += ["--workers", "2"]
    monkeypatch.setattr("sys.argv", argv)

    bench_main()

    [written] = (tmp_path / "out").glob("*-full.json")
    run = json.loads(written.read_text(encoding="utf-8"))
    assert [(r["dataset"], r["model"]) for r in run["results"]] == [
        ("base", DEFAULT_MODEL),
        ("base_gap", DEFAULT_MODEL),
    ]
    base, variant = run["results"]
    assert (base["build"]["embedded_by_model"], variant["build"]["embedded_by_model"]) == (4, 2)
    assert base["modes"]["hybrid"]["R@1"] == 1.0  # two short, distinct articles: each question finds its own
    assert base["speed"]["index_load_seconds"] > 0  # loading the build, timed alone as search is
    assert variant["gap"]["unanswerable"] == 1 and base["gap"] is None
    assert variant["speed"]["timed_queries"] == 4 and variant["speed"]["search_p50_ms"] > 0
    assert run["indexing_and_ranking"]["workers"] == 2
    assert 0 < run["indexing_and_ranking"]["seconds"] < run["seconds"]
    assert f"| base_gap | {DEFAULT_MODEL} | hybrid |" in written.with_suffix(".md").read_text(encoding="utf-8")
