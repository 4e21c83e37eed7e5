"""`lower --kernels`: an espresso bundle that carries the CPU runtime's generated module, so
loading it later needs no C compiler (codegen writes the bundle; the runtime builds the module)."""
from __future__ import annotations

from pathlib import Path

from mlir_coreml.errors import MlirCoremlError


def lower_with_kernels(model_path, output, pipeline: str | None = None, coremlc_version: str = "2021") -> None:
    """`lower_model`, plus the generated module for the bundle in its `mlir_coreml/` folder, so
    `compile_model(output)` needs no C compiler. The bundle is complete (kernels included)
    before it appears at `output`."""
    import shutil
    import tempfile

    from mlir_coreml.codegen.atomic import write_directory
    from mlir_coreml.codegen.lower import lower_model
    from mlir_coreml.runtime.predict import artefact_dir, compile_model

    def fill(staging: Path) -> None:
        scratch = Path(tempfile.mkdtemp(dir=staging.parent, prefix=f".{staging.name}.bundle-"))
        try:
            bundle = scratch / "model.mlmodelc"  # the reader knows a bundle by its suffix; `output` may lack it
            lower_model(model_path, bundle, pipeline, "mlmodelc", coremlc_version)
            if not compile_model(bundle, codegen=True).export_kernels(artefact_dir(bundle)):
                raise MlirCoremlError("cannot build the generated kernels for this model (control flow, or "
                                      "no working C compiler: see the warning above)", str(output))
            for item in bundle.iterdir():
                shutil.move(str(item), staging / item.name)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    write_directory(output, fill, kind="a .mlmodelc bundle")
