"""Runs the `// RUN:` lines of every IR test file under tests/filecheck (lit-style).

Substitutions: `%s` the test file, `mlir-coreml` our CLI, `filecheck` the FileCheck port,
`not` inverts a command's exit status. A failing test shows the command and its output.
"""
import os
import shlex
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = sorted(os.path.join(dp, f) for dp, _, files in os.walk(os.path.join(HERE, "filecheck"))
               for f in files if f.endswith(".mlir"))


def run_lines(path):
    lines, pending = [], ""
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line.startswith("// RUN:"):
                continue
            body = line[len("// RUN:"):].strip()
            if body.endswith("\\"):
                pending += body[:-1] + " "
                continue
            lines.append(pending + body)
            pending = ""
    return lines


def substitute(command, path):
    py = shlex.quote(sys.executable)
    tools = {
        "mlir-coreml": f"{py} -m mlir_coreml",
        "filecheck": f"{py} -m filecheck",
        "not": f"{py} {shlex.quote(os.path.join(HERE, 'tools', 'not.py'))}",
    }
    out = []
    for segment in command.split("|"):
        words = segment.strip().split(" ")
        words = [tools.get(w, w) if i == 0 or words[i - 1] == "not" else w for i, w in enumerate(words)]
        out.append(" ".join(words))
    return " | ".join(out).replace("%s", shlex.quote(path))


@pytest.mark.parametrize("path", CASES, ids=[os.path.relpath(c, HERE) for c in CASES])
def test_ir_file(path):
    commands = run_lines(path)
    assert commands, f"{path} has no RUN line"
    for command in commands:
        shell = substitute(command, path)
        proc = subprocess.run(["bash", "-o", "pipefail", "-c", shell], capture_output=True, text=True,
                              cwd=os.path.dirname(path))
        assert proc.returncode == 0, f"RUN: {command}\n$ {shell}\n{proc.stdout}\n{proc.stderr}"
