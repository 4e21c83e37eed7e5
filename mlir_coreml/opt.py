"""`opt`'s driver, as mlir-opt's: one IR file, or with `--split-input-file` one case per chunk
between `// -----` lines, each parsed, run through the pipeline and printed on its own; with
`--verify-diagnostics` the errors a chunk raises are checked against its
`// expected-error {{...}}` comments (`@+N` / `@-N` for a neighbouring line) instead of
ending the run.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from mlir_coreml.errors import MlirCoremlError

SPLIT_MARKER = re.compile(r"^// -----\s*$", re.MULTILINE)
EXPECTED = re.compile(r"//\s*expected-error(?:@([+-]\d+))?\s*\{\{(.*?)\}\}")
LINE_IN_WHERE = re.compile(r":(\d+):\d+$")


@dataclass
class OptOptions:
    pipeline: str = ""
    generic: bool = False
    verify: bool = True
    split_input_file: bool = False
    verify_diagnostics: bool = False
    pass_manager_options: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Chunk:
    text: str  # padded with the lines before it, so errors name lines of the whole file
    first_line: int


def split_chunks(text: str, split: bool) -> list[Chunk]:
    if not split:
        return [Chunk(text, 1)]
    chunks, start, line = [], 0, 1
    for marker in SPLIT_MARKER.finditer(text):
        piece = text[start:marker.start()]
        chunks.append(Chunk("\n" * (line - 1) + piece, line))
        line += piece.count("\n") + text[marker.start():marker.end()].count("\n")
        start = marker.end()
    chunks.append(Chunk("\n" * (line - 1) + text[start:], line))
    return chunks


def expected_errors(chunk: Chunk) -> list[tuple[int, str]]:
    """(line, message) of each `expected-error` comment of a chunk."""
    out = []
    for number, line in enumerate(chunk.text.split("\n"), start=1):
        for m in EXPECTED.finditer(line):
            out.append((number + int(m.group(1) or 0), m.group(2)))
    return out


def run_chunk(chunk: Chunk, filename: str, options: OptOptions) -> str:
    from mlir_coreml.ir.parser import parse_module
    from mlir_coreml.ir.printer import print_module
    from mlir_coreml.ir.verifier import verify
    from mlir_coreml.passes.manager import PassManager

    module = parse_module(chunk.text, filename=filename)
    pm = PassManager.from_pipeline(options.pipeline, verify_each=options.verify, **options.pass_manager_options)
    if not pm.passes:
        # An empty pipeline reproduces its input exactly (mlir-opt does the same modulo format).
        if options.verify:
            verify(module)
        if not options.generic:
            return chunk.text[chunk.first_line - 1:]
        return print_module(module, generic=True)
    pm.run(module)
    from mlir_coreml.ir.resource_section import split

    # Self-contained input stays self-contained: its weights go out with it.
    with_resources = split(chunk.text) < len(chunk.text)
    return print_module(module, generic=options.generic, resources=with_resources)


def check_diagnostics(chunk: Chunk, filename: str, options: OptOptions) -> tuple[str, list[str]]:
    """(printed output, mismatches) of a chunk run under --verify-diagnostics."""
    expected = expected_errors(chunk)
    try:
        out = run_chunk(chunk, filename, options)
    except MlirCoremlError as e:
        return "", diagnostic_mismatches(e, expected, filename, chunk)
    missing = [f"{filename}:{line}: expected error '{msg}' was not produced" for line, msg in expected]
    return out, missing


def diagnostic_mismatches(error: MlirCoremlError, expected, filename: str, chunk: Chunk) -> list[str]:
    text = str(error)
    m = LINE_IN_WHERE.search(error.where or "")
    line = int(m.group(1)) if m else None
    for want_line, msg in expected:
        if msg in text and (line is None or line == want_line):
            return []
    return [f"{filename}:{line or chunk.first_line}: unexpected error: {text}"]


def run_opt(text: str, filename: str, options: OptOptions) -> str:
    """The printed result of every chunk, joined by `// -----` as mlir-opt does."""
    outputs, problems = [], []
    for chunk in split_chunks(text, options.split_input_file):
        if options.verify_diagnostics:
            out, mismatches = check_diagnostics(chunk, filename, options)
            problems += mismatches
        else:
            out = run_chunk(chunk, filename, options)
        if out:
            outputs.append(out if out.endswith("\n") else out + "\n")
    if problems:
        raise MlirCoremlError(f"{len(problems)} diagnostic(s) did not match: " + "; ".join(problems), filename)
    return "// -----\n".join(outputs)
