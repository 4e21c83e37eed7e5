"""Where the real Apple-compiled sample bundles live: a copy of ../shared/samples/espresso
(MIT-licensed data; provenance in tests/data/espresso_samples/SOURCES.md), kept in the
repository so the tests run anywhere."""
import os
from pathlib import Path

SAMPLES = Path(__file__).resolve().parent / "data" / "espresso_samples"
SOURCE_MODELS = sorted(SAMPLES.glob("*/source/*.mlmodel"))
BUNDLES = sorted(SAMPLES.glob("*/*.mlmodelc"))

# Samples that may not be copied into the repository (e.g. LetterClass: its compiled bundle comes from
# a repository without a licence): read from the shared sample folder next to the checkout, or from
# $MLIR_COREML_SHARED_SAMPLES; tests using them skip when it is absent.
_ROOT = Path(__file__).resolve().parent.parent
SHARED_SAMPLES = Path(os.environ.get("MLIR_COREML_SHARED_SAMPLES") or next(
    (parent / "shared" / "samples" / "espresso" for parent in _ROOT.parents
     if (parent / "shared" / "samples" / "espresso").is_dir()), _ROOT / "shared-samples-not-found"))
SHARED_ONLY = ["Veeit__wwdc-2019-dyslexia_is_a_problem__LetterClass_image-2019"]


def sample_dir(name: str) -> Path:
    """The folder of sample `name`: the repository's copy, else the shared one."""
    local = SAMPLES / name
    return local if local.is_dir() else SHARED_SAMPLES / name
