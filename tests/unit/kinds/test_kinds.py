"""Each kind is one object that owns its contract, and the pieces it names exist."""

import numpy as np
import pytest

from aetheredge import kinds
from aetheredge.datasets.frames import split, validate_frame
from aetheredge.models import ForestModel, build_model


def test_the_built_in_kinds_and_a_clear_error_for_others():
    assert kinds.names() == ("anomaly", "cost")
    with pytest.raises(kinds.UnknownKindError, match=r"'gpu'.*\['anomaly', 'cost'\]"):
        kinds.get("gpu")


def test_routes_and_tables_are_each_kinds_own():
    specs = [kinds.get(name) for name in kinds.names()]
    assert len({s.v1_path for s in specs}) == len(specs)
    assert len({s.storage.table for s in specs}) == len(specs)


@pytest.mark.parametrize("name", kinds.names())
def test_what_a_kind_names_resolves_and_agrees_with_it(name):
    spec = kinds.get(name)
    estimator = spec.estimator_class()
    assert issubclass(estimator, ForestModel) and estimator.kind == name
    frame = spec.generate(3_000, seed=4)
    assert len(validate_frame(name, frame)) == len(frame)  # the generator keeps the contract
    data = split(name, frame)
    assert data.X_train.shape[1] == len(spec.feature_names)
    model = build_model(name, n_estimators=3, random_state=0).fit(data.X_train, data.y_train)
    assert {metric for metric, _ in spec.gates} <= set(
        model.evaluate(data.X_holdout, data.y_holdout)
    )


@pytest.mark.parametrize("name", kinds.names())
def test_the_tensor_route_encodes_as_the_row_route_does(name):
    spec = kinds.get(name)
    frame = spec.generate(500, seed=5)
    raw = frame[[n.name for n in spec.numeric]].to_numpy(np.float64)
    one_hots = [np.eye(len(c.values))[c.codes(frame[c.name])] for c in spec.categorical]
    tensor = np.hstack([raw, *one_hots])
    np.testing.assert_allclose(spec.from_tensor(tensor), spec.encode(frame), rtol=1e-6)
