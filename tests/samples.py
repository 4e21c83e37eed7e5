"""Where the real Apple-compiled sample bundles live: a copy of ../shared/samples/espresso
(MIT-licensed data; provenance in tests/data/espresso_samples/SOURCES.md), kept in the
repository so the tests run anywhere."""
from pathlib import Path

SAMPLES = Path(__file__).resolve().parent / "data" / "espresso_samples"
SOURCE_MODELS = sorted(SAMPLES.glob("*/source/*.mlmodel"))
BUNDLES = sorted(SAMPLES.glob("*/*.mlmodelc"))
