from pathlib import Path

import numpy as np
import pytest

from bench.datasets import load_dataset
from bench.signals import CANDIDATES, SetSignals, ceiling, collect, selection
from indexer.analysis import Analyzer
from indexer.embedders import DEFAULT_MODEL
from retrieval.calibration import FEATURES
from tests.bench.sample_sets import VARIANT, write_dataset

NAMES = [*FEATURES, *CANDIDATES, "confidence"]


def _signals(seed: int, separating: str, questions: int = 60) -> SetSignals:
    """Noise in every signal but one, which is higher for the questions that have an answer."""
    rng = np.random.default_rng(seed)
    answerable = rng.random(questions) < 0.6
    values = rng.random((questions, len(NAMES)))
    values[:, NAMES.index(separating)] += 2.0 * answerable
    return SetSignals(NAMES, values, answerable.tolist(), answerable.tolist())


def test_the_selection_finds_the_candidate_that_tells_answerable_questions_apart_on_held_out_sets() -> None:
    table = selection({f"set{i}": _signals(i, "dense_tenth") for i in range(3)})["answerable"]

    assert table["with dense_tenth"]["mean"] > 0.95
    assert table["as shipped"]["mean"] < 0.75
    assert set(table["as shipped"]) == {"set0", "set1", "set2", "mean"}


def test_the_ceiling_reports_each_signal_alone_and_all_of_them_fitted_on_the_split_itself() -> None:
    figures = ceiling({"model-a": _signals(0, "passage_std", 200), "model-b": _signals(0, "dense", 200)})

    alone = figures["alone"]
    assert alone["model-a: passage_std"] == alone["model-b: dense"] == 1.0
    assert alone["model-a: margin"] < 0.75
    assert figures["fitted_on_the_split_itself"]["logistic"] > 0.95


@pytest.mark.e2e
def test_signals_are_collected_from_the_real_search_of_each_question(tmp_path: Path) -> None:
    queries = [
        {"id": "q1", "text": "パスワードを忘れました", "relevant": ["reset"], "split": "val"},
        {"id": "q2", "text": "where can I download my invoice", "relevant": ["invoice"], "split": "val"},
        {"id": "q3", "text": "how do I cancel my subscription", "relevant": [], "split": "val"},
    ]
    write_dataset(tmp_path / "datasets", "base_gap", VARIANT, queries)
    dataset = load_dataset(tmp_path / "datasets", "base_gap")

    signals = collect(dataset, "val", model=DEFAULT_MODEL, work_dir=tmp_path / "work", analyzer=Analyzer())

    assert signals.names == NAMES
    assert signals.answerable.tolist() == [True, True, False]
    assert signals.top_right.tolist() == [True, True, False]
    confidence = signals.columns(["confidence"])[:, 0]
    assert confidence[2] < min(confidence[0], confidence[1])
    # Three articles: the runner-up, fifth and tenth best clamp to the last; the top result scores at least that.
    dense, second, tenth = signals.columns(["dense", "dense_second", "dense_tenth"]).T
    assert np.all(dense >= tenth) and np.all(second >= tenth)
