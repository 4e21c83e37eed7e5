"""Predictive models: generalized linear models, support vector machines, k-nearest neighbours.

Classifiers compute one probability per class label and return (label, probabilities);
`ClassifierOp.reference` hands each result what its type asks for (the dict-typed result gets
the probabilities, the other the label), so a model declaring only its label output works too.
"""
from __future__ import annotations

import numpy as np

from mlir_coreml.ir.dialects.classical.base import (ClassicalModel, as_feature, class_labels, classifier_outputs,
                                                    model_op, numeric_vector, probit, sigmoid)
from mlir_coreml.ir.opdef import VerifyError, op_def
from mlir_coreml.ir.types import DictType


class ClassifierOp(ClassicalModel):
    n_outputs = (1, 2)

    def reference(self, *inputs):
        label, probabilities = self.compute(*inputs)
        return tuple(probabilities if isinstance(r.type, DictType) else as_feature(label, r.type)
                     for r in self.results)


def _rows(op, field="weights", key="value") -> np.ndarray:
    return np.array([np.asarray(row.get(key, ()), dtype=np.float64) for row in op.attr(field, ())])


def _linear(op, x) -> np.ndarray:
    weights = _rows(op)
    offset = np.asarray(op.attr("offset", ()), dtype=np.float64)
    vector = numeric_vector(x)
    if weights.shape[1:] != vector.shape:
        raise ValueError(f"input has {vector.size} values, the weights expect {weights.shape[1:]}")
    return weights @ vector + (offset if offset.size else 0.0)


def _check_glm(op):
    widths = {len(row.get("value", ())) for row in op.attr("weights", ())}
    if len(widths) > 1:
        raise VerifyError(f"weight rows have different lengths {sorted(widths)}")
    offset = op.attr("offset", ())
    if len(offset) not in (0, len(op.attr("weights", ()))):
        raise VerifyError(f"{len(offset)} offsets for {len(op.attr('weights', ()))} weight rows")


@model_op("glmRegressor")
@op_def("classical.glm_regressor")
class GLMRegressorOp(ClassicalModel):
    """y = f(W x + offset), f = identity, logistic or probit (`postEvaluationTransform`)."""

    check_params = _check_glm

    def compute(self, x):
        z = _linear(self, x)
        transform = self.attr("postEvaluationTransform", "NoTransform")
        return ({"Logit": sigmoid, "Probit": probit}.get(transform, lambda v: v)(z),)


@model_op("glmClassifier")
@op_def("classical.glm_classifier")
class GLMClassifierOp(ClassifierOp):
    """One row: P(labels[1]) = f(w x + b) against labels[0]. One row per class (OneVsRest):
    f per class, normalized to sum 1. ReferenceClass with a row per other class: the rows are
    log-odds against labels[0] (softmax with a zero score for the reference class)."""

    def check_params(self):
        _check_glm(self)
        rows, n = len(self.attr("weights", ())), len(class_labels(self))
        if rows not in (n - 1, n) or n < 2:
            raise VerifyError(f"{rows} weight rows for {n} class labels")

    def compute(self, x):
        z = _linear(self, x)
        n = len(class_labels(self))
        link = probit if self.attr("postEvaluationTransform", "Logit") == "Probit" else sigmoid
        if n == 2 and z.size == 1:
            p = float(link(z)[0])
            return classifier_outputs(self, [1.0 - p, p])
        if self.attr("classEncoding", "ReferenceClass") == "OneVsRest" or z.size == n:
            p = link(z)
            return classifier_outputs(self, p / p.sum())
        scores = np.concatenate([[0.0], z])
        e = np.exp(scores - scores.max())
        return classifier_outputs(self, e / e.sum())


# -- support vector machines (libsvm semantics) -------------------------------------------------

def support_vectors(op) -> np.ndarray:
    dense = op.attr("denseSupportVectors")
    if dense is not None:
        return np.array([np.asarray(v.get("values", ()), dtype=np.float64) for v in dense.get("vectors", ())])
    sparse = op.attr("sparseSupportVectors", {}).get("vectors", ())
    nodes = [v.get("nodes", ()) for v in sparse]
    width = max((int(n.get("index", 0)) for row in nodes for n in row), default=0)
    out = np.zeros((len(nodes), width), dtype=np.float64)
    for i, row in enumerate(nodes):
        for node in row:  # libsvm indices are 1-based
            out[i, int(node.get("index", 0)) - 1] = float(node.get("value", 0.0))
    return out


def kernel_values(op, vectors: np.ndarray, x: np.ndarray) -> np.ndarray:
    """K(sv_i, x) for every support vector."""
    kernel = op.attr("kernel", {})
    if vectors.shape[1] < x.size:  # sparse vectors may leave trailing zero features out
        vectors = np.pad(vectors, ((0, 0), (0, x.size - vectors.shape[1])))
    vectors = vectors[:, :x.size] if vectors.shape[1] > x.size else vectors
    if "rbfKernel" in kernel:
        gamma = float(kernel["rbfKernel"].get("gamma", 0.0))
        return np.exp(-gamma * ((vectors - x) ** 2).sum(axis=1))
    dot = vectors @ x
    if "polyKernel" in kernel:
        p = kernel["polyKernel"]
        return (float(p.get("gamma", 0.0)) * dot + float(p.get("c", 0.0))) ** int(p.get("degree", 0))
    if "sigmoidKernel" in kernel:
        p = kernel["sigmoidKernel"]
        return np.tanh(float(p.get("gamma", 0.0)) * dot + float(p.get("c", 0.0)))
    return dot


@model_op("supportVectorRegressor")
@op_def("classical.support_vector_regressor")
class SupportVectorRegressorOp(ClassicalModel):
    """y = sum_i alpha_i K(sv_i, x) - rho."""

    def compute(self, x):
        vector = numeric_vector(x)
        alpha = np.asarray(self.attr("coefficients", {}).get("alpha", ()), dtype=np.float64)
        k = kernel_values(self, support_vectors(self), vector)
        return (float(alpha @ k) - float(self.attr("rho", 0.0)),)


@model_op("supportVectorClassifier")
@op_def("classical.support_vector_classifier")
class SupportVectorClassifierOp(ClassifierOp):
    """libsvm's one-vs-one classifier: the label wins most pairwise votes; with probA/probB the
    probabilities are Platt-scaled pairwise estimates coupled as libsvm does (Wu, Lin and Weng's
    second method); without them each class gets its share of the votes."""

    def check_params(self):
        per_class = self.attr("numberOfSupportVectorsPerClass", ())
        if len(per_class) != len(class_labels(self)):
            raise VerifyError(f"{len(per_class)} support vector counts for {len(class_labels(self))} class labels")
        if len(self.attr("coefficients", ())) != max(len(per_class) - 1, 0):
            raise VerifyError("needs one coefficient vector per class but one")

    def decisions(self, x) -> np.ndarray:
        counts = [int(c) for c in self.attr("numberOfSupportVectorsPerClass", ())]
        start = np.concatenate([[0], np.cumsum(counts)])
        coef = [np.asarray(c.get("alpha", ()), dtype=np.float64) for c in self.attr("coefficients", ())]
        k = kernel_values(self, support_vectors(self), numeric_vector(x))
        rho = np.asarray(self.attr("rho", ()), dtype=np.float64)
        out, p = [], 0
        for i in range(len(counts)):
            for j in range(i + 1, len(counts)):
                si, sj = slice(start[i], start[i + 1]), slice(start[j], start[j + 1])
                total = coef[j - 1][si] @ k[si] + coef[i][sj] @ k[sj]
                out.append(total - rho[p])
                p += 1
        return np.asarray(out)

    def compute(self, x):
        n = len(class_labels(self))
        dec = self.decisions(x)
        votes, p = np.zeros(n), 0
        for i in range(n):
            for j in range(i + 1, n):
                votes[i if dec[p] > 0 else j] += 1
                p += 1
        label = class_labels(self)[int(np.argmax(votes))]
        prob_a = np.asarray(self.attr("probA", ()), dtype=np.float64)
        if not prob_a.size:
            return label, dict(zip(class_labels(self), (votes / votes.sum()).tolist()))
        prob_b = np.asarray(self.attr("probB", ()), dtype=np.float64)
        pairwise = np.zeros((n, n))
        p = 0
        for i in range(n):
            for j in range(i + 1, n):
                r = min(max(_platt(dec[p], prob_a[p], prob_b[p]), 1e-7), 1 - 1e-7)
                pairwise[i, j], pairwise[j, i] = r, 1 - r
                p += 1
        probs = _couple(pairwise)
        return label, dict(zip(class_labels(self), probs.tolist()))


def _platt(dec, a, b) -> float:
    f = dec * a + b
    return float(np.exp(-f) / (1.0 + np.exp(-f))) if f >= 0 else float(1.0 / (1.0 + np.exp(f)))


def _couple(r: np.ndarray) -> np.ndarray:
    """Pairwise probabilities r[i, j] ~ P(i | i or j) -> class probabilities (libsvm's
    multiclass_probability: a fixed-point iteration on a quadratic problem)."""
    k = r.shape[0]
    if k == 2:
        return np.array([r[0, 1], r[1, 0]])
    q = -r.T * r                                          # q[t, j] = -r[j, t] r[t, j]
    np.fill_diagonal(q, (r ** 2).sum(axis=0) - np.diag(r) ** 2)  # q[t, t] = sum_{j != t} r[j, t]^2
    p = np.full(k, 1.0 / k)
    for _ in range(max(100, k)):
        qp = q @ p
        pqp = p @ qp
        if np.abs(qp - pqp).max() < 0.005 / k:
            break
        for t in range(k):
            diff = (-qp[t] + pqp) / q[t, t]
            p[t] += diff
            pqp = (pqp + diff * (diff * q[t, t] + 2 * qp[t])) / (1 + diff) / (1 + diff)
            qp = (qp + diff * q[t]) / (1 + diff)
            p /= 1 + diff
    return p


# -- k nearest neighbours ------------------------------------------------------------------------

@model_op("kNearestNeighborsClassifier")
@op_def("classical.k_nearest_neighbors_classifier")
class KNearestNeighborsClassifierOp(ClassifierOp):
    """The k samples nearest in squared Euclidean distance vote for their labels (uniformly, or
    weighted by 1 / distance); ties go to the smallest label. Probabilities: each label's share
    of the votes. No samples: the default label."""

    def samples(self) -> np.ndarray:
        index = self.attr("nearestNeighborsIndex", {})
        return np.array([np.asarray(v.get("vector", ()), dtype=np.float32) for v in index.get("floatSamples", ())])

    def check_params(self):
        n_samples = len(self.attr("nearestNeighborsIndex", {}).get("floatSamples", ()))
        if len(class_labels(self)) != n_samples:
            raise VerifyError(f"{len(class_labels(self))} labels for {n_samples} samples")

    def compute(self, x):
        labels = class_labels(self)
        samples = self.samples()
        if not labels:
            default = self.attr("defaultStringLabel", self.attr("defaultInt64Label"))
            return default, {}
        vector = numeric_vector(x).astype(np.float32)
        distances = ((samples.astype(np.float64) - vector.astype(np.float64)) ** 2).sum(axis=1)
        k = min(int(self.attr("numberOfNeighbors", {}).get("defaultValue", 1)) or 1, len(labels))
        nearest = np.argsort(distances, kind="stable")[:k]
        weights = np.ones(k)
        if self.attr("inverseDistanceWeighting") is not None:
            d = np.sqrt(distances[nearest])
            weights = np.where(d > 0, 1.0 / np.where(d > 0, d, 1.0), np.inf)
            if np.isinf(weights).any():
                weights = np.isinf(weights).astype(np.float64)
        votes: dict = {}
        for i, w in zip(nearest, weights):
            votes[labels[i]] = votes.get(labels[i], 0.0) + float(w)
        best = max(votes.values())
        label = min(key for key, v in votes.items() if v == best)
        total = sum(votes.values())
        return label, {key: votes.get(key, 0.0) / total for key in sorted(set(labels))}
