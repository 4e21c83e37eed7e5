"""Ray Data batch inference against a local Ray instance (2 CPUs): `predict_dataset` and
`run --ray` give, row by row, what `predict` gives; a corrupt image is skipped and named."""
import numpy as np
import pytest

from mlir_coreml.cli import main
from mlir_coreml.runtime.predict import compile_model
from tests.runtime.image_classifier import png_bytes, random_images
from tests.runtime.test_dataset import _image_folder, assert_rows_match, expected_rows, read_parquet

ray = pytest.importorskip("ray", reason="Ray is the optional extra mlir_coreml[ray]")
pytest.importorskip("ray.data")
pytest.importorskip("PIL")

ROWS = 240


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, log_to_driver=False, include_dashboard=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    yield ray
    ray.shutdown()


def test_predict_dataset_matches_predict_row_by_row(local_ray, image_classifier):
    from mlir_coreml.ray import predict_dataset

    model = compile_model(image_classifier)
    images = random_images(ROWS, seed=5)
    encoded = [png_bytes(im) for im in images]
    encoded[17] = b"corrupt"
    rows = [{"id": i, "png": data} for i, data in enumerate(encoded)]
    ds = ray.data.from_items(rows, override_num_blocks=8)
    scored = predict_dataset(ds, image_classifier, batch_size=16, concurrency=2, input_columns=["png"],
                             on_error="skip")
    assert isinstance(scored, ray.data.Dataset)
    table = {}
    for batch in scored.iter_batches(batch_size=None, batch_format="numpy"):
        for key, column in batch.items():
            table.setdefault(key, []).extend(column)
    order = np.argsort(table["id"])
    table = {k: np.array(v, dtype=object if k in ("classLabel", "error") else None)[order] for k, v in table.items()}
    assert list(table["id"]) == list(range(ROWS))
    assert "cannot decode the image" in table["error"][17]
    assert_rows_match(table, expected_rows(model, images), skip={17})


def test_predict_dataset_raise_names_the_row(local_ray, image_classifier):
    from mlir_coreml.ray import predict_dataset

    ds = ray.data.from_items([{"image": png_bytes(random_images(1)[0]), "id": 0}, {"image": b"bad", "id": 1}])
    with pytest.raises(Exception, match="row id=1: cannot decode the image"):
        predict_dataset(ds, image_classifier, batch_size=4, on_error="raise").take_all()


def test_cli_run_on_ray(local_ray, tmp_path, image_classifier):
    images = random_images(30, seed=6)
    folder = _image_folder(tmp_path, images, corrupt=3)
    out = tmp_path / "scores.parquet"
    assert main(["run", str(image_classifier), "--dataset", str(folder), "--output", str(out), "--ray",
                 "--batch-size", "8", "--concurrency", "2"]) == 0
    table = read_parquet(out)
    order = [int(p.rsplit("img", 1)[1][:3]) for p in table["path"]]
    expected = expected_rows(compile_model(image_classifier), images)
    assert sorted(order) == list(range(30))
    assert_rows_match(table, [expected[i] for i in order], skip={order.index(3)})
