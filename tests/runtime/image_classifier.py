"""A small image classifier (.mlmodel with an RGB image input and class labels), shared by the
dataset, Ray and view tests."""
from pathlib import Path

import numpy as np

LABELS = ["cat", "dog", "eel", "fox"]
SIZE = 16


def build_image_classifier(path: Path) -> Path:
    import coremltools as ct
    import torch

    torch.manual_seed(3)
    module = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.Conv2d(8, 8, 3, stride=2, padding=1),
        torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(8, len(LABELS)),
        torch.nn.Softmax(-1)).eval()
    x = torch.rand(1, 3, SIZE, SIZE) * 255
    mlmodel = ct.convert(torch.jit.trace(module, x),
                         inputs=[ct.ImageType(name="image", shape=x.shape, scale=1 / 255.0, bias=[-0.5] * 3)],
                         classifier_config=ct.ClassifierConfig(LABELS), convert_to="neuralnetwork")
    mlmodel.save(str(path))
    return path


def random_images(count: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(count, SIZE, SIZE, 3), dtype=np.uint8)


def png_bytes(image: np.ndarray) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()
