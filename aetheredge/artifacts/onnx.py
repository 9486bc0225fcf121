"""Compiled inference: a fitted forest as one ONNX graph run by ONNX Runtime.

scikit-learn walks a forest tree by tree in Python-dispatched Cython calls, which costs
milliseconds even for one row. :func:`compile_model` writes the fitted trees into one
ONNX ``TreeEnsembleRegressor`` node whose leaves hold what the model averages (the
Isolation Forest's path length ``depth + c(leaf size)``, the Random Forest's leaf
mean), one target per tree group (the anomaly detector's inputs and context forests,
see :mod:`aetheredge.models.anomaly`), followed by the model's own output transform in
float64 (``2 ** (-E[h]/c(psi))`` for the anomaly score, picked per row by whether it
has a baseline; ``max(expm1(.), 0)`` for the cost), so the graph returns exactly what
:meth:`ForestModel.output` returns. The anomaly threshold travels in the graph's
metadata, so a replica needs nothing but this artifact.

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


def average_path_length(n: np.ndarray) -> np.ndarray:
    """``c(n)``: the mean path length of an unsuccessful BST search among ``n`` points."""
    n = np.asarray(n, dtype=np.float64)
    out = np.zeros_like(n)
    big = n > 2
    out[n == 2] = 1.0
    out[big] = 2.0 * (np.log(n[big] - 1.0) + np.euler_gamma) - 2.0 * (n[big] - 1.0) / n[big]
    return out


def _depths(children_left: np.ndarray, children_right: np.ndarray) -> np.ndarray:
    depth = np.zeros(len(children_left), dtype=np.int64)
    for node in range(len(children_left)):  # children always follow their parent
        for child in (children_left[node], children_right[node]):
            if child >= 0:
                depth[child] = depth[node] + 1
    return depth


def _leaf_values(model: ForestModel, tree: Any) -> np.ndarray:
    if model.kind == "anomaly":
        depth = _depths(tree.children_left, tree.children_right)
        return depth + average_path_length(tree.n_node_samples)
    return tree.value[:, 0, 0]


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
            values = _leaf_values(model, tree)[leaves] / len(group.estimators_)
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


def _const(name: str, value: float) -> onnx.NodeProto:
    tensor = helper.make_tensor(name, TensorProto.DOUBLE, [], [value])
    return helper.make_node("Constant", [], [name], value=tensor)


def _column(name: str, index: int) -> list[onnx.NodeProto]:
    """Column ``index`` of the float64 means ``m2`` as ``name`` (shape ``[n]``)."""
    const = helper.make_tensor(f"{name}_at", TensorProto.INT64, [], [index])
    return [
        helper.make_node("Constant", [], [f"{name}_at"], value=const),
        helper.make_node("Gather", ["m2", f"{name}_at"], [name], axis=1),
    ]


def _head(model: ForestModel) -> list[onnx.NodeProto]:
    """Nodes from the float64 group means ``m2`` (``[n, groups]``) to the output ``y``."""
    if model.kind == "anomaly":  # 2 ** (-m / c(psi)) per group, picked per row
        from aetheredge.models.anomaly import INPUTS

        c = float(average_path_length(np.array([model.forest_.max_samples_]))[0])
        n_features = int(model.forest_.n_features_in_)
        nodes = [
            _const("neg_inv_c", -1.0 / c),
            _const("two", 2.0),
            _const("exponent", model.exponent_),
            *_column("m_in", 0),
            *_column("m_ctx", 1),
            helper.make_node("Mul", ["m_in", "neg_inv_c"], ["e_in"]),
            helper.make_node("Pow", ["two", "e_in"], ["s_in"]),
            helper.make_node("Pow", ["s_in", "exponent"], ["y_in"]),
        ]
        if n_features <= INPUTS:
            return [*nodes, helper.make_node("Identity", ["y_in"], ["y"])]
        bounds = {"z_from": INPUTS, "z_to": n_features, "z_axis": 1}
        for name, value in bounds.items():
            tensor = helper.make_tensor(name, TensorProto.INT64, [1], [value])
            nodes.append(helper.make_node("Constant", [], [name], value=tensor))
        zero = helper.make_tensor("zero32", TensorProto.FLOAT, [], [0.0])
        return [
            *nodes,
            helper.make_node("Mul", ["m_ctx", "neg_inv_c"], ["e_ctx"]),
            helper.make_node("Pow", ["two", "e_ctx"], ["y_ctx"]),
            helper.make_node("Slice", ["X", "z_from", "z_to", "z_axis"], ["z"]),
            helper.make_node("Abs", ["z"], ["z_abs"]),
            helper.make_node("ReduceMax", ["z_abs"], ["z_max"], axes=[1], keepdims=0),
            helper.make_node("Constant", [], ["zero32"], value=zero),
            helper.make_node("Greater", ["z_max", "zero32"], ["has_baseline"]),
            helper.make_node("Where", ["has_baseline", "y_ctx", "y_in"], ["y"]),
        ]
    nodes = [_const("zero", 0.0), *_column("m", 0)]
    if model.log_target:  # max(expm1(m), 0)
        nodes += [
            _const("one", 1.0),
            helper.make_node("Exp", ["m"], ["em"]),
            helper.make_node("Sub", ["em", "one"], ["v"]),
        ]
    else:
        nodes.append(helper.make_node("Identity", ["m"], ["v"]))
    return [*nodes, helper.make_node("Max", ["v", "zero"], ["y"])]


def compile_model(model: ForestModel) -> bytes:
    """The ONNX graph computing ``model.output(X)`` for float32 ``X`` of shape ``(n, F)``."""
    n_features = int(model.forest_.n_features_in_)
    nodes = [
        _ensemble(model),
        helper.make_node("Cast", ["mean"], ["m2"], to=TensorProto.DOUBLE),
        *_head(model),
    ]
    graph = helper.make_graph(
        nodes,
        f"aetheredge-{model.kind}",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, n_features])],
        [helper.make_tensor_value_info("y", TensorProto.DOUBLE, [None])],
    )
    proto = helper.make_model(graph, opset_imports=OPSETS, producer_name="aetheredge")
    meta = {"kind": model.kind, "n_features": str(n_features)}
    if model.kind == "anomaly":
        meta["threshold"] = repr(model.threshold_)
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
