"""`nn-to-core` on NeuralNetwork recurrent layers built with NeuralNetworkBuilder: LSTMs (reverse,
bidirectional, last-step or sequence output, with initial states, forget bias) and simple RNNs
lower to core.lstm / core.rnn keeping the reference semantics; layers core cannot express
(Core ML's GRU, peephole LSTMs) are errors naming the layer."""
import numpy as np
import pytest

ct = pytest.importorskip("coremltools")
from coremltools.models import datatypes  # noqa: E402
from coremltools.models.neural_network import NeuralNetworkBuilder  # noqa: E402

from mlir_coreml.errors import MlirCoremlError  # noqa: E402
from mlir_coreml.frontend.mlmodel import read  # noqa: E402
from mlir_coreml.passes.manager import PassManager  # noqa: E402
from tests.lowering.helpers import lower_and_compare, rel_err  # noqa: E402

S, X, H = 5, 3, 4
R = np.random.RandomState(11)


def mats(n, rows, cols):
    return [R.randn(rows, cols).astype(np.float32) * 0.5 for _ in range(n)]


def vecs(n, size):
    return [R.randn(size).astype(np.float32) * 0.5 for _ in range(n)]


def build(tmp_path, inputs, outputs, add):
    builder = NeuralNetworkBuilder([(n, datatypes.Array(*s)) for n, s in inputs.items()],
                                   [(n, None) for n in outputs], disable_rank5_shape_mapping=True)
    add(builder)
    path = str(tmp_path / "rnn.mlmodel")
    ct.utils.save_spec(builder.spec, path)
    return read(path)


SEQ = {"x": (S, 1, X, 1, 1)}
STATES = {"x": (S, 1, X, 1, 1), "h0": (1, 1, H, 1, 1), "c0": (1, 1, H, 1, 1)}

CASES = {
    "lstm_sequence": (SEQ, ["y", "h", "c"], lambda b: b.add_unilstm(
        "lstm", mats(4, H, H), mats(4, H, X), vecs(4, H), H, X, ["x"], ["y", "h", "c"], output_all=True)),
    "lstm_reverse_last_step_forget_bias": (SEQ, ["y", "h", "c"], lambda b: b.add_unilstm(
        "lstm", mats(4, H, H), mats(4, H, X), vecs(4, H), H, X, ["x"], ["y", "h", "c"], output_all=False,
        reverse_input=True, forget_bias=True)),
    "lstm_initial_states": (STATES, ["y", "h", "c"], lambda b: b.add_unilstm(
        "lstm", mats(4, H, H), mats(4, H, X), vecs(4, H), H, X, ["x", "h0", "c0"], ["y", "h", "c"], output_all=True,
        cell_clip_threshold=0.0)),
    "bilstm_sequence": (SEQ, ["y", "hf", "cf", "hb", "cb"], lambda b: b.add_bidirlstm(
        "bi", mats(4, H, H), mats(4, H, X), vecs(4, H), mats(4, H, H), mats(4, H, X), vecs(4, H), H, X, ["x"],
        ["y", "hf", "cf", "hb", "cb"], output_all=True)),
    "bilstm_last_step": (SEQ, ["y", "hf", "cf", "hb", "cb"], lambda b: b.add_bidirlstm(
        "bi", mats(4, H, H), mats(4, H, X), vecs(4, H), mats(4, H, H), mats(4, H, X), vecs(4, H), H, X, ["x"],
        ["y", "hf", "cf", "hb", "cb"], output_all=False)),
    "simple_rnn_tanh": (SEQ, ["y", "h"], lambda b: b.add_simple_rnn(
        "rnn", mats(1, H, H)[0], mats(1, H, X)[0], vecs(1, H)[0], H, X, "TANH", ["x"], ["y", "h"], output_all=True)),
    "simple_rnn_relu_reverse": (SEQ, ["y", "h"], lambda b: b.add_simple_rnn(
        "rnn", mats(1, H, H)[0], mats(1, H, X)[0], vecs(1, H)[0], H, X, "RELU", ["x"], ["y", "h"], output_all=False,
        reverse_input=True)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_recurrent_lowering_keeps_semantics(tmp_path, name):
    inputs, outputs, add = CASES[name]
    module = build(tmp_path, inputs, outputs, add)
    rng = np.random.default_rng(3)
    feed = {n: rng.standard_normal(s).astype(np.float32) for n, s in inputs.items()}
    before, after = lower_and_compare(module, feed, "nn-to-core")
    for b, a in zip(before, after):
        assert rel_err(a, b) <= 1e-5


UNSUPPORTED = {
    "peephole_lstm": (lambda b: b.add_unilstm("peep_layer", mats(4, H, H), mats(4, H, X), vecs(4, H), H, X, ["x"],
                                              ["y", "h", "c"], peep=vecs(3, H)),
                      r"'nn\.uni_directional_lstm' \(layer 'peep_layer'\): an LSTM with hasPeepholeVectors"),
    "clipping_lstm_with_state_inputs": (lambda b: b.add_unilstm(
        "clip_layer", mats(4, H, H), mats(4, H, X), vecs(4, H), H, X, ["x", "h0", "c0"], ["y", "h", "c"]),
        r"'nn\.uni_directional_lstm' \(layer 'clip_layer'\): an LSTM with cell clipping at 50000\.0"),
    "clipping_lstm": (lambda b: b.add_unilstm("clip_layer", mats(4, H, H), mats(4, H, X), vecs(4, H), H, X, ["x"],
                                              ["y", "h", "c"], cell_clip_threshold=0.5),
                      r"'nn\.uni_directional_lstm' \(layer 'clip_layer'\): an LSTM with cell clipping at 0\.5"),
}


@pytest.mark.parametrize("name", sorted(UNSUPPORTED))
def test_unsupported_recurrent_layer_is_a_clear_error(tmp_path, name):
    add, message = UNSUPPORTED[name]
    outputs = ["y", "h", "c"]
    module = build(tmp_path, STATES if "state_inputs" in name else SEQ, outputs, add)
    with pytest.raises(MlirCoremlError, match=message):
        PassManager.from_pipeline("nn-to-core").run(module)
    assert any(op.op_name.startswith("nn.") for op in module.walk()), "nothing is rewritten before the error"
