"""The embedded demo model: a small MobileNet-style image network (conv, batchnorm, ReLU,
depthwise conv, global pooling, inner product, softmax over 4 classes) written with our own
protobuf schema and a fixed seed, so `lower default` works with nothing but this package."""
from __future__ import annotations

import numpy as np

from mlir_coreml.frontend.proto import model_pb2

INPUT, OUTPUT, SIZE = "image", "probabilities", 64
CLASSES = 4
RGB = 20  # ImageFeatureType.ColorSpace


def _weights(params, array: np.ndarray) -> None:
    params.floatValue.extend(array.astype(np.float32).ravel().tolist())


def _conv(nn, name, bottom, top, rng, cin, cout, k, stride=1, groups=1):
    layer = nn.layers.add(name=name, input=[bottom], output=[top])
    c = layer.convolution
    c.outputChannels, c.kernelChannels, c.nGroups = cout, cin // groups, groups
    c.kernelSize.extend([k, k])
    c.stride.extend([stride, stride])
    c.dilationFactor.extend([1, 1])
    c.same.asymmetryMode = 0
    c.hasBias = True
    _weights(c.weights, rng.standard_normal((cout, cin // groups, k, k)) * np.sqrt(2.0 / (cin // groups * k * k)))
    _weights(c.bias, rng.standard_normal(cout) * 0.1)


def _batchnorm(nn, name, blob, rng, channels):
    layer = nn.layers.add(name=name, input=[blob], output=[name + "_output"])
    bn = layer.batchnorm
    bn.channels, bn.epsilon = channels, 1e-3
    _weights(bn.gamma, 1 + 0.1 * rng.standard_normal(channels))
    _weights(bn.beta, 0.1 * rng.standard_normal(channels))
    _weights(bn.mean, 0.1 * rng.standard_normal(channels))
    _weights(bn.variance, 1 + 0.1 * rng.random(channels))
    return name + "_output"


def _relu(nn, name, blob):
    layer = nn.layers.add(name=name, input=[blob], output=[name + "_output"])
    layer.activation.ReLU.SetInParent()
    return name + "_output"


def build_demo_model(seed: int = 0) -> bytes:
    """Serialized `.mlmodel` bytes of the demo classifier."""
    rng = np.random.default_rng(seed)
    model = model_pb2.Model(specificationVersion=4)
    desc = model.description
    inp = desc.input.add(name=INPUT, shortDescription="RGB image")
    inp.type.imageType.width = inp.type.imageType.height = SIZE
    inp.type.imageType.colorSpace = RGB
    out = desc.output.add(name=OUTPUT, shortDescription="class probabilities")
    out.type.multiArrayType.shape.extend([CLASSES])
    out.type.multiArrayType.dataType = 65568  # FLOAT32
    desc.metadata.shortDescription = "mlir_coreml demo network"

    nn = model.neuralNetwork
    scaler = nn.preprocessing.add(featureName=INPUT).scaler
    scaler.channelScale, scaler.redBias, scaler.greenBias, scaler.blueBias = 1 / 127.5, -1.0, -1.0, -1.0
    blob, cin = INPUT, 3
    for i, (cout, stride) in enumerate([(16, 2), (32, 2), (64, 2)]):
        _conv(nn, f"conv{i}", blob, f"conv{i}_output", rng, cin, cout, 3, stride)
        blob = _relu(nn, f"conv{i}_relu", _batchnorm(nn, f"conv{i}_bn", f"conv{i}_output", rng, cout))
        _conv(nn, f"dw{i}", blob, f"dw{i}_output", rng, cout, cout, 3, 1, groups=cout)
        blob = _relu(nn, f"dw{i}_relu", f"dw{i}_output")
        cin = cout
    pool = nn.layers.add(name="pool", input=[blob], output=["pool_output"]).pooling
    pool.type, pool.globalPooling = 1, True  # AVERAGE
    pool.valid.SetInParent()
    fc = nn.layers.add(name="fc", input=["pool_output"], output=["fc_output"]).innerProduct
    fc.inputChannels, fc.outputChannels, fc.hasBias = cin, CLASSES, True
    _weights(fc.weights, rng.standard_normal((CLASSES, cin)) * 0.1)
    _weights(fc.bias, np.zeros(CLASSES))
    nn.layers.add(name="softmax", input=["fc_output"], output=[OUTPUT]).softmax.SetInParent()
    return model.SerializeToString()


def write_demo_model(path: str) -> str:
    with open(path, "wb") as f:
        f.write(build_demo_model())
    return path
