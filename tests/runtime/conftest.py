import pytest


@pytest.fixture(scope="session")
def image_classifier(tmp_path_factory):
    """Path of a small .mlmodel image classifier (tests/runtime/image_classifier.py)."""
    pytest.importorskip("coremltools")
    pytest.importorskip("torch")
    from tests.runtime.image_classifier import build_image_classifier

    return build_image_classifier(tmp_path_factory.mktemp("classifier") / "classifier.mlmodel")
