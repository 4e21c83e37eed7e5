"""`classical`: Core ML's non-neural model types, one op per Model.Type, mirroring the protobuf
so that import -> export is exact (layout and value conventions in base.py).

Models: glm_regressor, glm_classifier, support_vector_regressor / _classifier,
tree_ensemble_regressor / _classifier (compiled kernel, csrc/trees.c),
k_nearest_neighbors_classifier. Feature engineering: dict_vectorizer, feature_vectorizer,
one_hot_encoder, imputer, scaler, normalizer, array_feature_extractor, categorical_mapping,
identity. Containers: pipeline (Pipeline, PipelineClassifier, PipelineRegressor) and
neural_network (a NeuralNetwork stage holding `nn` ops), both with one region ending in
classical.yield. `MODEL_OPS` maps the Model.Type oneof name to the op class.
"""
from mlir_coreml.ir.dialects.classical import features, models, pipeline, trees  # noqa: F401
from mlir_coreml.ir.dialects.classical.base import MODEL_ATTR, MODEL_OPS, ClassicalModel  # noqa: F401
from mlir_coreml.ir.dialects.classical.pipeline import NETWORK_KINDS, PIPELINE_KINDS  # noqa: F401
