"""Scoring tables in-process (runtime/dataset.py, runtime/tables.py, `run --dataset`): every
row's outputs equal `predict` on that row; a corrupt image is skipped and named, or stops the
run with one clear error and no output file."""
import numpy as np
import pytest

from mlir_coreml import MlirCoremlError
from mlir_coreml.cli import main
from mlir_coreml.runtime.dataset import BatchPredictor
from mlir_coreml.runtime.predict import compile_model
from tests.runtime.image_classifier import LABELS, png_bytes, random_images

pq = pytest.importorskip("pyarrow.parquet")
pytest.importorskip("PIL")


@pytest.fixture(scope="module")
def classifier(image_classifier):
    return compile_model(image_classifier)


def expected_rows(model, images):
    return [model.predict({"image": image}) for image in images]


def assert_rows_match(table: dict, expected: list[dict], skip=()):
    for i, want in enumerate(expected):
        if i in skip:
            assert table["error"][i] and table["classLabel"][i] == "" and np.isnan(table["var_41"][i]).all()
            continue
        assert table["classLabel"][i] == want["classLabel"]
        np.testing.assert_allclose(table["var_41"][i], list(want["var_41"].values()), rtol=1e-5, atol=1e-6)
        if "error" in table:
            assert table["error"][i] == ""


def test_predictor_decodes_images_and_skips_a_corrupt_row(classifier):
    images = random_images(9)
    encoded = [png_bytes(im) for im in images]
    encoded[4] = b"\x89PNG not really"
    batch = {"image": np.array(encoded, dtype=object), "id": np.arange(9)}
    out = BatchPredictor(model=classifier, batch_size=4, on_error="skip")(batch)
    assert set(out) == {"id", "var_41", "classLabel", "error"} and out["var_41"].shape == (9, len(LABELS))
    assert "cannot decode the image" in out["error"][4]
    assert_rows_match(out, expected_rows(classifier, images), skip={4})
    with pytest.raises(MlirCoremlError, match="row id=4: cannot decode"):
        BatchPredictor(model=classifier, batch_size=4, on_error="raise")(batch)


def test_a_row_that_fails_to_run_is_skipped_alone(classifier, monkeypatch):
    from mlir_coreml.runtime import batch

    run_checked = batch.run_checked

    def failing_on_flat_images(model, checked, size):
        if any(float(args[0].min()) == float(args[0].max()) for args in checked):
            raise MlirCoremlError("'core.conv2d' failed: simulated kernel error")
        return run_checked(model, checked, size)

    monkeypatch.setattr(batch, "run_checked", failing_on_flat_images)
    images = random_images(6, seed=4)
    images[3] = 7
    out = BatchPredictor(model=classifier, batch_size=4, on_error="skip")({"image": images})
    assert "simulated kernel error" in out["error"][3]
    assert_rows_match(out, expected_rows(classifier, images), skip={3})
    with pytest.raises(MlirCoremlError, match="simulated"):
        BatchPredictor(model=classifier, batch_size=4, on_error="raise")({"image": images})


def test_uint8_arrays_and_renamed_columns(classifier):
    images = random_images(5, seed=1)
    out = BatchPredictor(model=classifier, input_columns={"image": "pixels"},
                         output_columns={"classLabel": "label"})({"pixels": images})
    assert list(out) == ["label"]
    assert list(out["label"]) == [r["classLabel"] for r in expected_rows(classifier, images)]
    with pytest.raises(MlirCoremlError, match="no column 'image'"):
        BatchPredictor(model=classifier)({"pixels": images})


def _image_folder(tmp_path, images, corrupt=None):
    folder = tmp_path / "images"
    (folder / "sub").mkdir(parents=True)
    for i, image in enumerate(images):
        (folder / ("sub" if i % 2 else "") / f"img{i:03d}.png").write_bytes(
            b"not an image" if i == corrupt else png_bytes(image))
    (folder / "notes.txt").write_text("ignored")
    return folder


def read_parquet(path) -> dict:
    from mlir_coreml.runtime.tables import arrow_to_numpy

    table = pq.read_table(path)
    return {name: arrow_to_numpy(table.column(name)) for name in table.column_names}


def test_cli_scores_an_image_folder(tmp_path, image_classifier, classifier, capsys):
    images = random_images(40, seed=2)
    folder = _image_folder(tmp_path, images, corrupt=7)
    out = tmp_path / "scores.parquet"
    assert main(["run", str(image_classifier), "--dataset", str(folder), "--output", str(out),
                 "--batch-size", "16"]) == 0
    assert "skipped 1 of 40 rows" in capsys.readouterr().err
    table = read_parquet(out)
    order = [int(p.rsplit("img", 1)[1][:3]) for p in table["path"]]
    expected = expected_rows(classifier, images)
    assert sorted(order) == list(range(40))
    assert_rows_match(table, [expected[i] for i in order], skip={order.index(7)})


def test_cli_scores_npz_and_parquet_tables(tmp_path, image_classifier, classifier):
    from mlir_coreml.runtime.tables import numpy_to_arrow

    images = random_images(21, seed=3)
    npz = tmp_path / "table.npz"
    np.savez(npz, image=images, id=np.arange(21))
    parquet = tmp_path / "table.parquet"
    import pyarrow as pa

    pq.write_table(pa.table({"image": numpy_to_arrow(images), "id": np.arange(21)}), parquet)
    expected = expected_rows(classifier, images)
    for source in (npz, parquet):
        out = tmp_path / f"{source.stem}-scores.parquet"
        assert main(["run", str(image_classifier), "--dataset", str(source), "--output", str(out),
                     "--batch-size", "8"]) == 0
        table = read_parquet(out)
        assert list(table["id"]) == list(range(21))
        assert_rows_match(table, expected)


def test_cli_errors_are_one_line_without_output(tmp_path, image_classifier, capsys):
    folder = _image_folder(tmp_path, random_images(3), corrupt=1)
    out = tmp_path / "scores.parquet"
    assert main(["run", str(image_classifier), "--dataset", str(folder), "--output", str(out),
                 "--on-error", "raise"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "img001.png" in err and "cannot decode the image" in err
    assert not out.exists() and not list(tmp_path.glob(".scores*"))
    assert main(["run", str(image_classifier), "--dataset", str(tmp_path / "missing.parquet"),
                 "--output", str(out)]) == 1
    assert "no such dataset" in capsys.readouterr().err
    assert main(["run", str(image_classifier), "--dataset", str(folder)]) == 1
    assert "--output" in capsys.readouterr().err


def test_packed_model_runs_its_shipped_build_without_compiling(image_classifier, monkeypatch, tmp_path):
    from mlir_coreml.runtime import build
    from mlir_coreml.runtime.dataset import pack_model, unpack_model
    from mlir_coreml.runtime.specialized import SpecializedExecutor

    monkeypatch.setenv("MLIR_COREML_CODEGEN", "1")
    monkeypatch.setenv("MLIR_COREML_CACHE", str(tmp_path / "driver-cache"))
    archive = pack_model(image_classifier, batch_size=4)

    def no_compiler(*args, **kwargs):
        raise AssertionError("a worker ran the C compiler")

    monkeypatch.setattr(build, "_compile", no_compiler)
    monkeypatch.setenv("MLIR_COREML_CACHE", str(tmp_path / "worker-cache"))
    model = unpack_model(archive, 4)
    assert isinstance(model.runner, SpecializedExecutor)
    assert isinstance(model.batch_variants[4].runner, SpecializedExecutor)
    images = random_images(6, seed=9)
    out = BatchPredictor(model=model, batch_size=4)({"image": images})
    assert list(out["classLabel"]) == [r["classLabel"] for r in expected_rows(compile_model(image_classifier), images)]
    assert not (tmp_path / "worker-cache" / "kernels").exists()  # (the expected rows' compile cached its IR there)
