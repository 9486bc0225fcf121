"""Compiled inference: a fitted forest as one ONNX graph run by ONNX Runtime.

scikit-learn walks a forest tree by tree in Python-dispatched Cython calls, which costs
milliseconds even for one row. :func:`compile_model` writes the fitted trees into one
ONNX ``TreeEnsembleRegressor`` node whose leaves hold what the model averages (the
Isolation Forest's path length ``depth + c(leaf size)``, the Random Forest's leaf
mean), one target per tree group (the anomaly detector's inputs and context forests,
see :mod:`aetheredge.models.anomaly`), followed by the model's own output transform in
float64 (``2 ** (-E[h]/c(psi))`` for the anomaly score, picked per row by whether it
has a baseline; ``max(expm1(.), 0)`` for the cost), so the graph returns exactly what
:meth:`ForestModel.output` returns. Each model family declares its leaf values, its
transform and its metadata (:meth:`ForestModel.graph_head`); this module knows only
tree ensembles. The anomaly threshold travels in the graph's metadata, so a replica
needs nothing but this artifact.

Split thresholds are rounded *down* to float32: inputs are float32, and for any float32
``x``, ``x <= t`` holds exactly when ``x <= round_down(t)``, so every row takes the same
path as in scikit-learn and only the float32 summation of leaf values differs.
:func:`max_relative_difference` measures that on rows the model never saw before a
version may be promoted (see :data:`TOLERANCE`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

if TYPE_CHECKING:
    from aetheredge.models import ForestModel

ENGINE = "onnxruntime"
TOLERANCE = 1e-4  # largest relative difference from scikit-learn a version may promote with
OPSETS = [helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3)]


def _round_down(threshold: np.ndarray) -> np.ndarray:
    t32 = threshold.astype(np.float32)
    return np.where(t32 > threshold, np.nextafter(t32, np.float32(-np.inf)), t32)


def _groups(model: ForestModel) -> list[Any]:
    """The tree groups the graph averages separately, one output column each."""
    return list(getattr(model.forest_, "groups", [model.forest_]))


def _ensemble(model: ForestModel) -> onnx.NodeProto:
    cols: dict[str, list[Any]] = {
        k: []
        for k in (
            "nodes_treeids",
            "nodes_nodeids",
            "nodes_featureids",
            "nodes_values",
            "nodes_modes",
            "nodes_truenodeids",
            "nodes_falsenodeids",
            "target_ids",
            "target_treeids",
            "target_nodeids",
            "target_weights",
        )
    }
    tree_id = 0
    groups = _groups(model)
    for target, group in enumerate(groups):
        for estimator in group.estimators_:
            tree = estimator.tree_
            leaf = tree.children_left < 0
            n = tree.node_count
            cols["nodes_treeids"] += [tree_id] * n
            cols["nodes_nodeids"] += range(n)
            cols["nodes_featureids"] += np.where(leaf, 0, tree.feature).tolist()
            cols["nodes_values"] += _round_down(np.where(leaf, 0.0, tree.threshold)).tolist()
            cols["nodes_modes"] += ["LEAF" if is_leaf else "BRANCH_LEQ" for is_leaf in leaf]
            cols["nodes_truenodeids"] += np.where(leaf, 0, tree.children_left).tolist()
            cols["nodes_falsenodeids"] += np.where(leaf, 0, tree.children_right).tolist()
            leaves = np.flatnonzero(leaf)
            cols["target_ids"] += [target] * len(leaves)
            cols["target_treeids"] += [tree_id] * len(leaves)
            cols["target_nodeids"] += leaves.tolist()
            # SUM of value / group size: each output column is its own group's mean
            values = model.leaf_values(tree)[leaves] / len(group.estimators_)
            cols["target_weights"] += values.tolist()
            tree_id += 1
    return helper.make_node(
        "TreeEnsembleRegressor",
        ["X"],
        ["mean"],
        domain="ai.onnx.ml",
        n_targets=len(groups),
        aggregate_function="SUM",
        **cols,
    )


class Nodes:
    """The nodes of a model's output head, as the model declares them.

    A model family writes its own transform (:meth:`ForestModel.graph_head`) from the
    float64 group means ``m2`` (``[n, groups]``) and the input ``X`` to the output
    ``y``, through these builders, so the family's arithmetic stays with its class.
    """

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []

    def op(self, op_type: str, inputs: list[str], outputs: list[str], **attrs: Any) -> None:
        self.nodes.append(helper.make_node(op_type, inputs, outputs, **attrs))

    def double(self, name: str, value: float) -> None:
        """A float64 scalar constant."""
        self._scalar(name, TensorProto.DOUBLE, value)

    def float32(self, name: str, value: float) -> None:
        """A float32 scalar constant."""
        self._scalar(name, TensorProto.FLOAT, value)

    def _scalar(self, name: str, datatype: int, value: float) -> None:
        self.op("Constant", [], [name], value=helper.make_tensor(name, datatype, [], [value]))

    def int64s(self, name: str, values: list[int]) -> None:
        """An int64 vector constant."""
        tensor = helper.make_tensor(name, TensorProto.INT64, [len(values)], values)
        self.op("Constant", [], [name], value=tensor)

    def column(self, name: str, index: int) -> None:
        """Column ``index`` of the group means ``m2`` as ``name`` (shape ``[n]``)."""
        const = helper.make_tensor(f"{name}_at", TensorProto.INT64, [], [index])
        self.op("Constant", [], [f"{name}_at"], value=const)
        self.op("Gather", ["m2", f"{name}_at"], [name], axis=1)


def compile_model(model: ForestModel) -> bytes:
    """The ONNX graph computing ``model.output(X)`` for float32 ``X`` of shape ``(n, F)``."""
    n_features = int(model.forest_.n_features_in_)
    head = Nodes()
    model.graph_head(head)
    nodes = [
        _ensemble(model),
        helper.make_node("Cast", ["mean"], ["m2"], to=TensorProto.DOUBLE),
        *head.nodes,
    ]
    graph = helper.make_graph(
        nodes,
        f"aetheredge-{model.kind}",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, n_features])],
        [helper.make_tensor_value_info("y", TensorProto.DOUBLE, [None])],
    )
    proto = helper.make_model(graph, opset_imports=OPSETS, producer_name="aetheredge")
    meta = {"kind": model.kind, "n_features": str(n_features), **model.graph_metadata()}
    helper.set_model_props(proto, meta)
    onnx.checker.check_model(proto)
    return proto.SerializeToString()


class CompiledModel:
    """Runs a compiled graph; calling it on float32 ``X`` returns the model output.

    ``threads`` is ONNX Runtime's intra-op thread count. Spinning is off: on a small
    machine, idle threads busy-waiting for work steal the CPU that other replicas and
    the HTTP server need.
    """

    def __init__(self, payload: bytes, threads: int = 1) -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(payload, options, providers=["CPUExecutionProvider"])
        meta = self.session.get_modelmeta().custom_metadata_map
        self.kind: str = meta["kind"]
        self.n_features = int(meta["n_features"])
        self.threshold: float | None = float(meta["threshold"]) if "threshold" in meta else None

    def __call__(self, X: np.ndarray) -> np.ndarray:
        return self.session.run(None, {"X": np.ascontiguousarray(X, dtype=np.float32)})[0]


def max_relative_difference(model: ForestModel, compiled: CompiledModel, X: np.ndarray) -> float:
    """The largest ``|compiled - sklearn| / |sklearn|`` over the rows of ``X``."""
    expected = model.output(X)
    got = compiled(X)
    scale = np.maximum(np.abs(expected), np.finfo(np.float64).tiny)
    return float(np.max(np.abs(got - expected) / scale))
