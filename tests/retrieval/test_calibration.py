import pytest

from indexer.embedders import PACKAGED_MODELS
from retrieval.calibration import FALLBACK, FEATURES, calibration_for, load_calibrations


@pytest.mark.parametrize("model", sorted(PACKAGED_MODELS))
def test_every_packaged_model_has_a_fitted_calibration(model: str) -> None:
    calibration = calibration_for(model, load_calibrations())

    assert calibration is not FALLBACK
    assert set(calibration.weights) == set(FEATURES)
    # Fitted on val: a close match with both rankers agreeing is likelier to answer than a distant one.
    close = {"dense": 0.8, "coverage": 1.0, "lexical": 1.0, "agreement": 1.0, "margin": 0.2, "dense_mean": 0.2}
    distant = {"dense": 0.1, "coverage": 0.0, "lexical": 0.0, "agreement": 0.0, "margin": 0.0, "dense_mean": 0.05}
    assert calibration.confidence(close) > 0.5 > calibration.confidence(distant)
    # The same top score says less for a question that sits close to every article.
    assert calibration.confidence({**close, "dense_mean": 0.5}) < calibration.confidence(close)


def test_a_model_without_a_calibration_gets_the_hand_set_one() -> None:
    assert calibration_for("some/other-model", load_calibrations()) is FALLBACK
