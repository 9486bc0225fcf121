"""The compiled (ONNX Runtime) forest against the scikit-learn model it came from."""

import numpy as np
import pytest

from aetheredge.artifacts.onnx import (
    TOLERANCE,
    CompiledModel,
    compile_model,
    max_relative_difference,
)
from aetheredge.datasets.frames import load_frame, split
from aetheredge.datasets.synthetic import random_matrix
from aetheredge.models import build_model
from aetheredge.models.anomaly import blank_context


@pytest.fixture(scope="module", params=["anomaly", "cost"])
def fitted(request):
    kind = request.param
    data = split(kind, load_frame(kind, rows=20_000, seed=3))
    model = build_model(kind, n_estimators=25, random_state=0).fit(data.X_train, data.y_train)
    return model, CompiledModel(compile_model(model)), data


def test_compiled_output_agrees_on_holdout_and_on_rows_spread_over_the_input_space(fitted):
    model, compiled, data = fitted
    spread = random_matrix(model.kind, 5000, seed=9)
    for X in (data.X_holdout, spread, blank_context(data.X_holdout)):  # both tree groups
        assert max_relative_difference(model, compiled, X) < TOLERANCE / 10


def test_rows_sitting_exactly_on_split_points_take_the_sklearn_path(fitted):
    model, compiled, data = fitted
    rng = np.random.default_rng(0)
    X = data.X_holdout[:2000].copy()
    for estimator in model.forest_.estimators_[:5]:
        tree = estimator.tree_
        split_nodes = np.flatnonzero(tree.children_left >= 0)
        for node in rng.choice(split_nodes, 40):
            row = rng.integers(len(X))
            # the float32 value nearest the float64 threshold, from either side
            X[row, tree.feature[node]] = np.float32(tree.threshold[node])
    assert max_relative_difference(model, compiled, X) < TOLERANCE / 10


def test_compiled_model_carries_what_serving_needs(fitted):
    model, compiled, _ = fitted
    assert compiled.kind == model.kind
    assert compiled.n_features == model.forest_.n_features_in_
    if model.kind == "anomaly":
        assert compiled.threshold == model.threshold_
    else:
        assert compiled.threshold is None


def test_compiled_model_scores_one_row_and_empty_blocks(fitted):
    model, compiled, data = fitted
    one = data.X_holdout[:1]
    np.testing.assert_allclose(compiled(one), model.output(one), rtol=TOLERANCE)
    assert compiled(data.X_holdout[:0]).shape == (0,)
