"""Calibrated confidence: a logistic model over retrieval signals, fitted per embedding model.

A raw cosine means different things for different models and languages, so confidence is
P(the article answers the question) from several signals, fitted on benchmark validation
questions of the development help centers by `python -m bench.calibrate` and shipped in calibration.json.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

# dense_mean and spread place the top score among the question's scores over all articles; query_chars lets
# long contact-form mails, which sit closer to everything, need more; cross_language says the article is in the
# other language, where no term can be shared. Why: docs/decisions/0022-help-center-confidence.md
FEATURES = (
    "dense",
    "coverage",
    "lexical",
    "agreement",
    "margin",
    "dense_mean",
    "spread",
    "query_chars",
    "cross_language",
)


@dataclass(frozen=True)
class Calibration:
    weights: dict[str, float]
    bias: float

    def confidence(self, features: dict[str, float]) -> float:
        """Probability that a result answers the question."""
        z = self.bias + sum(self.weights.get(name, 0.0) * features.get(name, 0.0) for name in FEATURES)
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


# Used for a model the calibration file does not know (dense_mean left out): hand-set so that a close paraphrase
# (cosine ~0.6, most query terms found) lands near 0.6 and an unrelated question near 0.05.
FALLBACK = Calibration(
    weights={"dense": 7.0, "coverage": 3.0, "lexical": 0.0, "agreement": 0.5, "margin": 1.0}, bias=-6.0
)


def load_calibrations(path: Path | None = None) -> dict[str, Calibration]:
    """Calibrations by model name, from path or the packaged calibration.json."""
    if path is not None:
        text = path.read_text(encoding="utf-8")
    else:
        packaged = resources.files("retrieval").joinpath("calibration.json")
        if not packaged.is_file():
            return {}
        text = packaged.read_text(encoding="utf-8")
    data = json.loads(text)
    return {
        model: Calibration(weights=dict(entry["weights"]), bias=float(entry["bias"]))
        for model, entry in data.get("models", {}).items()
    }


def calibration_for(model: str, calibrations: dict[str, Calibration]) -> Calibration:
    return calibrations.get(model, FALLBACK)
