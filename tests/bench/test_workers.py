import shutil
from pathlib import Path

import pytest

from bench.datasets import Dataset, load_dataset
from bench.workers import plan_tasks, run_tasks
from indexer import store
from indexer.articles import Article
from tests.bench.sample_sets import BASE, OTHER, VARIANT, write_dataset


def _dataset(name: str, rows: list[dict[str, str]]) -> Dataset:
    return Dataset(name, [Article(id=r["id"], title=r["title"], locale="en", body=r["body"]) for r in rows], [])


def test_sets_that_share_passages_are_one_task_and_the_costliest_task_comes_first() -> None:
    datasets = {d.name: d for d in (_dataset("base", BASE), _dataset("base_gap", VARIANT), _dataset("other", OTHER))}
    tasks = plan_tasks(
        [("use-multilingual-v3", ["base", "base_gap", "other"]), ("all-MiniLM-L6-v2", ["other"])],
        datasets,
        quick=None,
    )
    assert [(t.model, t.datasets) for t in tasks] == [
        ("use-multilingual-v3", ("base", "base_gap")),
        ("all-MiniLM-L6-v2", ("other",)),  # one short article, but in a model that costs 6x as much a character
        ("use-multilingual-v3", ("other",)),
    ]
    assert tasks[0].steps == 4 + 6  # two passages an article (title, body), every set counted in full


@pytest.mark.e2e
@pytest.mark.parametrize("workers", [2, 1])
def test_tasks_index_every_set_once_rank_its_queries_and_embed_shared_passages_once(
    tmp_path: Path, workers: int
) -> None:
    datasets_dir = tmp_path / "datasets"
    question = {"id": "q1", "text": "SSOでログインできない E-2001", "relevant": ["sso"], "split": "test"}
    for name, rows in (("base", BASE), ("base_gap", VARIANT), ("other", OTHER)):
        write_dataset(datasets_dir, name, rows, [question] if name == "base_gap" else [])
    names = ["base", "base_gap", "other"]
    datasets = {name: load_dataset(datasets_dir, name) for name in names}
    tasks = plan_tasks([("use-multilingual-v3", names)], datasets, quick=None)

    ranked = run_tasks(tasks, datasets_dir=datasets_dir, work_dir=tmp_path / "work", quick=None, workers=workers)
    figures = {key: result.build for key, result in ranked.items()}

    assert set(figures) == {("use-multilingual-v3", name) for name in names}
    assert figures[("use-multilingual-v3", "base")]["embedded_by_model"] == 4
    # Built after its base set by the same process: only the new article's two passages went to the model.
    assert figures[("use-multilingual-v3", "base_gap")]["embedded_passages"] == 6
    assert figures[("use-multilingual-v3", "base_gap")]["embedded_by_model"] == 2
    for name, rows in (("base", BASE), ("base_gap", VARIANT), ("other", OTHER)):
        build = store.load_current(
            tmp_path / "work" / name / "use-multilingual-v3", expected_model="use-multilingual-v3"
        )
        assert sorted(build.articles) == sorted(row["id"] for row in rows)
        assert build.dense.ntotal == 2 * len(rows)
    [outcome] = ranked[("use-multilingual-v3", "base_gap")].outcomes
    assert set(outcome.ranked) == {"hybrid", "hybrid-rrf", "dense", "lexical"}
    assert outcome.ranked["hybrid"][0] == "sso" and outcome.confidence > 0


@pytest.mark.e2e
def test_a_task_that_fails_fails_the_run(tmp_path: Path) -> None:
    datasets_dir = tmp_path / "datasets"
    write_dataset(datasets_dir, "base", BASE, [])
    write_dataset(datasets_dir, "other", OTHER, [])
    datasets = {name: load_dataset(datasets_dir, name) for name in ("base", "other")}
    tasks = plan_tasks([("use-multilingual-v3", ["base", "other"])], datasets, quick=None)
    shutil.rmtree(datasets_dir / "other")  # gone between planning and indexing

    with pytest.raises(FileNotFoundError):
        run_tasks(tasks, datasets_dir=datasets_dir, work_dir=tmp_path / "work", quick=None, workers=2)
