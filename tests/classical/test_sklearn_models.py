"""Every open classical model type, converted from scikit-learn by coremltools with varied
parameters and seeds: predict matches scikit-learn (labels exactly, probabilities and values
within 1e-6), the IR prints and parses back identically, and export gives the source protobuf."""
from __future__ import annotations

import numpy as np
import pytest

from tests.classical.zoo import check_round_trip, convert, coremltools, dataset, load

ROWS = 12


def _lr(seed, classes=2, C=1.0, intercept=True):
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    X, y, _ = dataset(seed, classes=classes)
    if classes == 2:
        model = LogisticRegression(C=C, fit_intercept=intercept).fit(X, y)
        model.multi_class = "ovr"  # removed in scikit-learn 1.8; the converter reads it
        return model, X, model
    ovr = OneVsRestClassifier(LogisticRegression(C=C, fit_intercept=intercept)).fit(X, y)
    model = LogisticRegression().fit(X, y)  # a shell carrying the one-vs-rest coefficients
    model.coef_ = np.vstack([e.coef_ for e in ovr.estimators_])
    model.intercept_ = np.concatenate([e.intercept_ for e in ovr.estimators_])
    model.multi_class = "ovr"
    return model, X, ovr


def _fit(estimator, seed, classes=2, target="class", labels=None):
    X, y, yr = dataset(seed, classes=classes)
    if labels is not None:
        y = np.asarray(labels)[y]
    model = estimator.fit(X, yr if target == "value" else y)
    return model, X, model


def _cases():
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier, RandomForestRegressor
    from sklearn.linear_model import LinearRegression, Ridge
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.svm import SVC, SVR, LinearSVC, LinearSVR, NuSVC, NuSVR
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    cases = {
        "glm_regressor-linear": lambda s: _fit(LinearRegression(), s, target="value"),
        "glm_regressor-ridge-no-intercept": lambda s: _fit(Ridge(alpha=2.0, fit_intercept=False), s, target="value"),
        "glm_regressor-linear_svr": lambda s: _fit(LinearSVR(random_state=s, max_iter=5000), s, target="value"),
        "glm_classifier-logistic": lambda s: _lr(s),
        "glm_classifier-logistic-ovr3": lambda s: _lr(s, classes=3, C=0.5),
        "glm_classifier-logistic-ovr4-no-intercept": lambda s: _lr(s, classes=4, intercept=False),
        "glm_classifier-linear_svc": lambda s: _fit(LinearSVC(random_state=s), s),
        "glm_classifier-linear_svc3": lambda s: _fit(LinearSVC(random_state=s), s, classes=3),
        "tree_classifier-decision_tree": lambda s: _fit(DecisionTreeClassifier(max_depth=4, random_state=s), s),
        "tree_classifier-forest3-strings": lambda s: _fit(RandomForestClassifier(7, random_state=s), s, classes=3,
                                                           labels=["cat", "dog", "eel"]),
        "tree_classifier-forest-no-bootstrap": lambda s: _fit(RandomForestClassifier(5, max_depth=5, bootstrap=False,
                                                                                      random_state=s), s),
        "tree_classifier-boosting": lambda s: _fit(GradientBoostingClassifier(n_estimators=6, random_state=s), s),
        "tree_classifier-boosting-deep": lambda s: _fit(GradientBoostingClassifier(n_estimators=3, max_depth=5,
                                                                                   learning_rate=0.3,
                                                                                   random_state=s), s),
        "tree_classifier-decision_tree4": lambda s: _fit(DecisionTreeClassifier(min_samples_leaf=3, random_state=s), s,
                                                          classes=4),
        "tree_regressor-decision_tree": lambda s: _fit(DecisionTreeRegressor(max_depth=5, random_state=s), s,
                                                       target="value"),
        "tree_regressor-forest": lambda s: _fit(RandomForestRegressor(6, max_depth=6, random_state=s), s,
                                                target="value"),
        "svc-rbf-probability": lambda s: _fit(SVC(probability=True, random_state=s), s),
        "svc-poly3-probability": lambda s: _fit(SVC(kernel="poly", degree=3, coef0=0.5, probability=True,
                                                    random_state=s), s, classes=3),
        "svc-linear4": lambda s: _fit(SVC(kernel="linear", C=0.7), s, classes=4),
        "svc-sigmoid-strings": lambda s: _fit(SVC(kernel="sigmoid", gamma=0.1), s, labels=["no", "yes"]),
        "svc-nu": lambda s: _fit(NuSVC(nu=0.4, probability=True, random_state=s), s, classes=3),
        "svr-rbf": lambda s: _fit(SVR(C=2.0, epsilon=0.05), s, target="value"),
        "svr-poly": lambda s: _fit(SVR(kernel="poly", degree=2, coef0=1.0), s, target="value"),
        "svr-nu": lambda s: _fit(NuSVR(nu=0.3), s, target="value"),
        "knn-3": lambda s: _fit(KNeighborsClassifier(3), s, classes=3),
        "knn-1-brute": lambda s: _fit(KNeighborsClassifier(1, algorithm="brute"), s),
        "knn-7-kd": lambda s: _fit(KNeighborsClassifier(7, algorithm="kd_tree", leaf_size=10), s),
    }
    return cases


CASES = [  # the keys of _cases() (sklearn is imported only when a test runs)
    "glm_regressor-linear", "glm_regressor-ridge-no-intercept", "glm_regressor-linear_svr",
    "glm_classifier-logistic", "glm_classifier-logistic-ovr3", "glm_classifier-logistic-ovr4-no-intercept",
    "glm_classifier-linear_svc", "glm_classifier-linear_svc3", "tree_classifier-decision_tree",
    "tree_classifier-forest3-strings", "tree_classifier-forest-no-bootstrap", "tree_classifier-boosting",
    "tree_classifier-boosting-deep", "tree_classifier-decision_tree4", "tree_regressor-decision_tree", "tree_regressor-forest", "svc-rbf-probability",
    "svc-poly3-probability", "svc-linear4", "svc-sigmoid-strings", "svc-nu", "svr-rbf", "svr-poly", "svr-nu",
    "knn-3", "knn-1-brute", "knn-7-kd"]


def test_case_list_is_complete():
    coremltools()
    assert sorted(CASES) == sorted(_cases())


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("case", CASES)
def test_sklearn_model_predicts_like_sklearn(case, seed, tmp_path):
    coremltools()
    model, X, reference = _cases()[case](seed)
    per_feature = seed % 2 == 1  # one double input per feature, or one multi-array input
    names = [f"f{i}" for i in range(X.shape[1])] if per_feature else "x"
    data = convert(model, names, "y")
    compiled, path = load(data, tmp_path)
    for row in X[:ROWS]:
        inputs = {n: float(v) for n, v in zip(names, row)} if per_feature else {"x": row}
        out = compiled.predict(inputs)
        _check_prediction(case, reference, row, out)
    check_round_trip(path, data)


def _check_prediction(case, reference, row, out):
    if case.startswith(("glm_regressor", "tree_regressor", "svr")):
        want = float(reference.predict(row[None, :])[0])
        assert out["y"] == pytest.approx(want, rel=1e-9, abs=1e-6)
        return
    want = reference.predict(row[None, :])[0]
    assert out["y"] == want and type(out["y"]) is (str if isinstance(want, str) else int)
    probs = out.get("classProbability")
    if probs is None or not hasattr(reference, "predict_proba") or case.startswith("knn"):
        return
    expected = _binary_platt(reference, row) if _is_binary_svc(reference) else \
        reference.predict_proba(row[None, :])[0] * _forest_scale(reference)
    assert list(probs) == list(reference.classes_)
    np.testing.assert_allclose([probs[k] for k in reference.classes_], expected, atol=1e-6)


def _is_binary_svc(reference) -> bool:
    return hasattr(reference, "probA_") and len(reference.classes_) == 2


def _binary_platt(reference, row):
    """Two-class SVM probabilities as libsvm (and Core ML) compute them: Platt's sigmoid of the
    decision value alone. scikit-learn couples the pair once more, which shifts them by up to
    0.5% (coremltools' SVC converter warns of exactly this)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a, b = float(reference.probA_[0]), float(reference.probB_[0])
    decision = -float(reference.decision_function(row[None, :])[0])  # libsvm's sign for class 0
    p0 = 1.0 / (1.0 + np.exp(decision * a + b))
    return np.array([p0, 1.0 - p0])


def _forest_scale(reference) -> int:
    """coremltools writes multi-class forest leaves as class fractions without dividing by the
    number of trees, and Core ML sums them as they are: its probabilities are n_trees times
    scikit-learn's (coremltools issue #1541, observed on macOS)."""
    from sklearn.ensemble._forest import BaseForest

    if isinstance(reference, BaseForest) and len(reference.classes_) > 2:
        return len(reference.estimators_)
    return 1


@pytest.mark.parametrize("k", [1, 4, 6])
def test_knn_inverse_distance_weighting(k, tmp_path):
    """coremltools converts only uniform weighting; the same index with inverseDistanceWeighting
    set must vote like scikit-learn's weights="distance"."""
    from sklearn.neighbors import KNeighborsClassifier

    from mlir_coreml.frontend.proto import model_pb2

    uniform, X, _ = _fit(KNeighborsClassifier(k), k, classes=3)
    spec = model_pb2.Model.FromString(convert(uniform, "x", "y"))
    spec.kNearestNeighborsClassifier.inverseDistanceWeighting.SetInParent()
    compiled, _ = load(spec.SerializeToString(), tmp_path)
    weighted = KNeighborsClassifier(k, weights="distance").fit(X, uniform.predict(X) * 0 + uniform._y)
    rows = X[:ROWS] + 0.05  # off the training samples, so no distance is zero
    for row in rows:
        assert compiled.predict({"x": row})["y"] == weighted.predict(row[None, :])[0]


@pytest.mark.parametrize("seed", [0, 1])
def test_sparse_support_vectors_predict_like_dense(seed, tmp_path):
    """LibSVM's converter writes sparse support vectors (1-based indices, zeros left out)."""
    from sklearn.svm import SVR

    from mlir_coreml.frontend.proto import model_pb2

    model, X, _ = _fit(SVR(kernel="rbf", gamma=0.3), seed, target="value")
    spec = model_pb2.Model.FromString(convert(model, "x", "y"))
    svr = spec.supportVectorRegressor
    dense = [list(v.values) for v in svr.denseSupportVectors.vectors]
    for values in dense:
        node_list = svr.sparseSupportVectors.vectors.add()
        for i, v in enumerate(values):
            if i % 3 != seed:  # drop some entries: they must read as zeros
                node = node_list.nodes.add()
                node.index, node.value = i + 1, v
    for values, vector in zip(dense, svr.sparseSupportVectors.vectors):
        values[:] = [v if i % 3 != seed else 0.0 for i, v in enumerate(values)]
    compiled, path = load(spec.SerializeToString(), tmp_path)
    sv = np.array(dense)
    alpha = np.array(list(svr.coefficients.alpha))
    for row in X[:ROWS]:
        want = alpha @ np.exp(-0.3 * ((sv - row) ** 2).sum(axis=1)) - svr.rho
        assert compiled.predict({"x": row})["y"] == pytest.approx(want, abs=1e-9)
    check_round_trip(path, spec.SerializeToString())


@pytest.mark.parametrize("classes,seed", [(3, 0), (4, 1)])
def test_multiclass_boosting_softmax(classes, seed, tmp_path):
    """coremltools' converter fails on multi-class boosting with scikit-learn 1.9, so the
    TreeEnsembleClassifier is built from the fitted trees directly: one output per class,
    Classification_SoftMax over base (the initial raw score) + learning_rate * leaf values."""
    from sklearn.ensemble import GradientBoostingClassifier

    from mlir_coreml.frontend.proto import model_pb2

    model, X, _ = _fit(GradientBoostingClassifier(n_estimators=5, max_depth=3, learning_rate=0.4,
                                                  random_state=seed), seed, classes=classes)
    spec = model_pb2.Model(specificationVersion=1)
    _feature(spec.description.input.add(), "x", multi_array=X.shape[1])
    spec.description.output.add().name = "y"
    spec.description.output[0].type.int64Type.SetInParent()
    probs = spec.description.output.add()
    probs.name = "classProbability"
    probs.type.dictionaryType.int64KeyType.SetInParent()
    spec.description.predictedFeatureName, spec.description.predictedProbabilitiesName = "y", "classProbability"
    params = spec.treeEnsembleClassifier
    params.postEvaluationTransform = 1  # Classification_SoftMax
    params.int64ClassLabels.vector.extend(int(c) for c in model.classes_)
    ensemble = params.treeEnsemble
    ensemble.numPredictionDimensions = classes
    ensemble.basePredictionValue.extend(model._raw_predict_init(X[:1])[0])
    for stage, trees in enumerate(model.estimators_):
        for k, estimator in enumerate(trees):
            _add_tree(ensemble, estimator.tree_, stage * classes + k, k, model.learning_rate)
    data = spec.SerializeToString()
    compiled, path = load(data, tmp_path)
    for row in X[:ROWS]:
        out = compiled.predict({"x": row})
        assert out["y"] == model.predict(row[None, :])[0]
        np.testing.assert_allclose([out["classProbability"][k] for k in model.classes_],
                                   model.predict_proba(row[None, :])[0], atol=1e-9)
    check_round_trip(path, data)


def _feature(f, name, multi_array):
    f.name = name
    f.type.multiArrayType.shape.append(multi_array)
    f.type.multiArrayType.dataType = 65600  # DOUBLE


def _add_tree(ensemble, tree, tree_id, output, scale):
    for i in range(tree.node_count):
        node = ensemble.nodes.add()
        node.treeId, node.nodeId = tree_id, i
        if tree.children_left[i] < 0:
            node.nodeBehavior = 6  # LeafNode
            info = node.evaluationInfo.add()
            info.evaluationIndex, info.evaluationValue = output, scale * float(tree.value[i].reshape(-1)[0])
            continue
        node.nodeBehavior = 0  # BranchOnValueLessThanEqual: scikit-learn's rule
        node.branchFeatureIndex, node.branchFeatureValue = int(tree.feature[i]), float(tree.threshold[i])
        node.trueChildNodeId, node.falseChildNodeId = int(tree.children_left[i]), int(tree.children_right[i])


@pytest.mark.parametrize("transform", ["NoTransform", "Logit", "Probit"])
def test_glm_regressor_transforms(transform, tmp_path):
    import math

    from mlir_coreml.frontend.proto import model_pb2

    rng = np.random.default_rng(len(transform))
    w, b = rng.normal(size=(2, 3)), rng.normal(size=2)
    spec = model_pb2.Model(specificationVersion=1)
    _feature(spec.description.input.add(), "x", 3)
    _feature(spec.description.output.add(), "y", 2)
    for row in w:
        spec.glmRegressor.weights.add().value.extend(row)
    spec.glmRegressor.offset.extend(b)
    spec.glmRegressor.postEvaluationTransform = ["NoTransform", "Logit", "Probit"].index(transform)
    compiled, path = load(spec.SerializeToString(), tmp_path)
    link = {"NoTransform": lambda z: z, "Logit": lambda z: 1 / (1 + math.exp(-z)),
            "Probit": lambda z: 0.5 * (1 + math.erf(z / math.sqrt(2)))}[transform]
    for x in rng.normal(size=(5, 3)):
        np.testing.assert_allclose(compiled.predict({"x": x})["y"], [link(z) for z in w @ x + b], rtol=1e-12)
    check_round_trip(path, spec.SerializeToString())
