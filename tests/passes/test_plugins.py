"""Extension: a third-party package adds a dialect and a pass through the
`mlir_coreml.plugins` entry-point group, and the CLI runs the pass by name. The whole
plugin — op, pattern and pass — is one file of fewer than 40 lines."""
import os
import subprocess
import sys
import textwrap

PLUGIN = textwrap.dedent('''
    """A plugin: the `acme` dialect and the `acme-strip-identity` pass."""
    from dataclasses import dataclass

    from mlir_coreml.ir.core import Operation
    from mlir_coreml.ir.opdef import AnyTensor, Pure, op_def, operand, result
    from mlir_coreml.passes.base import ModulePass
    from mlir_coreml.ir.rewriter import RewritePattern, apply_patterns_greedily


    @op_def("acme.identity")
    class IdentityOp(Operation):
        input = operand(AnyTensor)
        output = result(AnyTensor)
        traits = frozenset({Pure})


    class StripIdentity(RewritePattern):
        def match_and_rewrite(self, op: IdentityOp, rewriter) -> bool:
            rewriter.replace_op(op, [op.input])
            return True


    @dataclass(frozen=True)
    class AcmeStripIdentity(ModulePass):
        name = "acme-strip-identity"

        def run(self, module, ctx):
            apply_patterns_greedily(module, [StripIdentity()])
''')

IR = """module {
  func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
    %y = acme.identity %x : tensor<4xf32>
    func.return %y : tensor<4xf32>
  }
}
"""


def install_plugin(tmp_path):
    (tmp_path / "acme_plugin.py").write_text(PLUGIN)
    info = tmp_path / "acme_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[mlir_coreml.plugins]\ndialect:acme = acme_plugin\n"
                                           "pass:acme-strip-identity = acme_plugin:AcmeStripIdentity\n")
    return dict(os.environ, PYTHONPATH=str(tmp_path) + os.pathsep + os.environ.get("PYTHONPATH", ""))


def test_plugin_is_one_short_file():
    assert len(PLUGIN.strip().splitlines()) < 40


def test_cli_runs_a_plugin_pass_by_name(tmp_path):
    env = install_plugin(tmp_path)
    src = tmp_path / "in.mlir"
    src.write_text(IR)
    proc = subprocess.run([sys.executable, "-m", "mlir_coreml", "opt", str(src), "-p", "acme-strip-identity"],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "acme.identity" not in proc.stdout and "func.return %x : tensor<4xf32>" in proc.stdout


def test_plugin_dialect_ops_are_registered_and_verified(tmp_path):
    env = install_plugin(tmp_path)
    src = tmp_path / "bad.mlir"
    src.write_text(IR.replace("acme.identity %x : tensor<4xf32>",
                              'acme.identity %x {extra = 1} : (tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>)')
                   .replace("%y =", "%y, %z ="))
    proc = subprocess.run([sys.executable, "-m", "mlir_coreml", "opt", str(src)],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 1 and "'acme.identity' op has 2 results" in proc.stderr
    assert "Traceback" not in proc.stderr
