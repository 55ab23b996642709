from pathlib import Path
from types import SimpleNamespace

import pytest

from bench.datasets import Query, load_dataset
from bench.gaps import asked_twice, planted_gap_figures, served_queries
from indexer.analysis import Analyzer
from indexer.embedders import DEFAULT_MODEL, load_embedder
from tests.bench.sample_sets import BASE, write_dataset


def _asked(gap: str | None, n: int, *, answered: bool = False) -> list[Query]:
    relevant = ("an-article",) if answered else ()
    return [Query(f"{gap}-{i}", f"{gap} {i}", "ja", relevant, "test", gap_topic=gap) for i in range(n)]


def test_planted_gap_figures_count_merged_topics_and_gaps_with_a_topic_of_their_own() -> None:
    queries = [*_asked("waitlist", 6), *_asked("gift-card", 3), *_asked("receipts", 2), *_asked(None, 2, answered=True)]
    ids = {q.id: q for q in queries}
    topics = [
        # waitlist's topic also holds two askings of gift-card: one merge; gift-card's third asking is alone.
        ["waitlist-0", "waitlist-1", "waitlist-2", "waitlist-3", "gift-card-0", "gift-card-1"],
        ["waitlist-4", "waitlist-5", "None-0", "None-1"],
        ["receipts-0", "receipts-1"],  # a gap asked twice, in a topic of its own
    ]
    report = SimpleNamespace(topics=[SimpleNamespace(query_ids=t) for t in topics])
    assert planted_gap_figures(report, ids) == {  # type: ignore[arg-type]
        "topics_holding_two_gaps": 1,
        "gaps_with_own_topic": 2,
        "small_gaps": 2,
        "small_gaps_with_own_topic": 1,
    }


def test_asked_twice_keeps_every_answerable_question_and_two_askings_of_each_gap() -> None:
    queries = [*_asked("waitlist", 6), *_asked("receipts", 1), *_asked(None, 3, answered=True)]
    kept = asked_twice(queries)
    assert sum(q.gap_topic == "waitlist" for q in kept) == 2
    assert [q.id for q in kept if q.gap_topic != "waitlist"] == ["receipts-0", "None-0", "None-1", "None-2"]
    assert asked_twice(queries) == kept  # seeded: the same askings each run


@pytest.mark.e2e
def test_a_served_help_centers_gap_topics_are_scored_from_its_http_api(tmp_path: Path) -> None:
    queries = [
        {"id": "a1", "text": "パスワードを忘れました", "relevant": ["reset"], "split": "test"},
        {"id": "a2", "text": "download my invoice", "relevant": ["invoice"], "split": "test"},
        *(
            {"id": f"csv{i}", "text": text, "relevant": [], "split": "test", "gap_topic": "export-contacts-csv"}
            for i, text in enumerate(["export contacts to csv", "how do I export my contacts to a csv file"])
        ),
        *(
            {"id": f"dark{i}", "text": text, "relevant": [], "split": "test", "gap_topic": "dark-mode"}
            for i, text in enumerate(["dark mode", "is there a dark mode"])
        ),
    ]
    write_dataset(tmp_path / "datasets", "tiny_gap", BASE, queries)
    dataset = load_dataset(tmp_path / "datasets", "tiny_gap")

    figures = served_queries(
        dataset,
        dataset.queries,
        run="tiny_gap",
        work_dir=tmp_path,
        embedder=load_embedder(DEFAULT_MODEL),
        analyzer=Analyzer(),
    )

    # Each unanswerable question was asked over HTTP, ticketed, and read back from GET /v1/reports/gaps.
    assert figures["queries"] == 6 and figures["unanswered"] == 4
    assert figures["unanswered_in_a_topic"] == 1.0
    assert (figures["ARI"], figures["gap_topics"], figures["topics_holding_two_gaps"]) == (1.0, 2, 0)
