"""`python -m mlir_coreml` / `mlir-coreml`: import, opt, lower, run, inspect, bench.

Every user-facing failure is an MlirCoremlError printed as one line on stderr with a
non-zero exit; `--debug` shows the traceback instead. Outputs are written atomically.
"""
from __future__ import annotations

import argparse
import contextlib
import functools
import gc
import os
import sys
import tempfile

from mlir_coreml.errors import MlirCoremlError

DEFAULT_MODEL = "default"  # the embedded demo model, built on first use
TIMING_HELP = "print where compiling the model took its time, per phase and pass, on stderr (like mlir-opt --mlir-timing)"


def _read_text(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    from mlir_coreml.ir.guard import read_text

    return read_text(path, "text")


def write_text_atomic(path: str | None, text: str) -> None:
    """Write to `path` (stdout when None or '-'), atomically: never a partial file."""
    if path in (None, "-"):
        sys.stdout.write(text)
        return
    from mlir_coreml.codegen.atomic import write_file

    write_file(path, text.encode("utf-8"))


def cmd_opt(args) -> int:
    from mlir_coreml.opt import OptOptions, run_opt

    if args.list_passes or args.list_pipelines:
        from mlir_coreml.passes.pipelines import list_pipelines
        from mlir_coreml.passes.registry import describe_passes

        sys.stdout.write(describe_passes() if args.list_passes else list_pipelines())
        return 0
    if args.file is None:
        raise MlirCoremlError("opt needs an IR file (or - for stdin)")

    options = OptOptions(
        pipeline=args.pipeline or "", generic=args.generic, verify=not args.no_verify,
        split_input_file=args.split_input_file, verify_diagnostics=args.verify_diagnostics,
        pass_manager_options=dict(print_ir_after_all=args.print_ir_after_all,
                                  print_ir_after_change=args.print_ir_after_change,
                                  print_ir_after_failure=args.print_ir_after_failure,
                                  time_passes=args.time_passes, stream=sys.stderr))
    text = _read_text(args.file)
    write_text_atomic(args.output, run_opt(text, args.file if args.file != "-" else "<stdin>", options))
    return 0


def cmd_import(args) -> int:
    import mlir_coreml
    from mlir_coreml.ir.printer import print_module

    module = mlir_coreml.load(resolve_model(args.model))
    write_text_atomic(args.output, print_module(module, generic=args.generic, resources=args.resources))
    return 0


def resolve_model(path: str) -> str:
    """`default` names the embedded demo model, written to a temporary file on first use."""
    if path != DEFAULT_MODEL or os.path.exists(path):
        return path
    from mlir_coreml.demo import write_demo_model

    return write_demo_model(os.path.join(tempfile.mkdtemp(prefix="mlir_coreml-"), "demo.mlmodel"))


@contextlib.contextmanager
def busy(desc: str, interval: float = 0.5):
    """A tqdm bar with the elapsed time while a step that reports no progress of its own runs
    (shown on a terminal only)."""
    import threading

    from tqdm import tqdm

    bar = tqdm(desc=desc, bar_format="{desc}: {elapsed}", leave=False, disable=None)
    stop = threading.Event()

    def tick():
        while not stop.wait(interval):
            bar.refresh()

    ticker = threading.Thread(target=tick, daemon=True)
    ticker.start()
    try:
        yield
    finally:
        stop.set()
        ticker.join()
        bar.close()


def cmd_lower(args) -> int:
    if args.print_pipeline:
        from mlir_coreml.codegen.lower import lower_pipeline

        print(lower_pipeline(resolve_model(args.model), args.pipeline, args.emit, args.coremlc_version))
        return 0
    # A one-shot compile allocates many objects and frees them at exit: the cyclic collector
    # would only re-scan them (~10% of the run); reference counting frees the garbage there is.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        from mlir_coreml.codegen.lower import lower_model
        from mlir_coreml.runtime.bundle_kernels import lower_with_kernels

        with busy(f"mlir_coreml: lowering {os.path.basename(args.model)}"):
            if args.kernels and args.emit == "mlmodelc":
                lower_with_kernels(resolve_model(args.model), args.output, args.pipeline, args.coremlc_version)
            else:
                lower_model(resolve_model(args.model), args.output, pipeline=args.pipeline, emit=args.emit,
                            coremlc_version=args.coremlc_version)
    finally:
        if was_enabled:
            gc.enable()
    return 0


def cmd_run(args) -> int:
    if args.print_pipeline:
        from mlir_coreml.passes.pipeline import format_pipeline
        from mlir_coreml.runtime.predict import staged_passes

        print(format_pipeline(sum(staged_passes(None, args.precision, args.compute_units), [])))
        return 0
    if (args.inputs is None) == (args.dataset is None):
        raise MlirCoremlError("run needs exactly one of --inputs IN.npz or --dataset PATH --output OUT.parquet")
    if args.dataset is not None:
        return cmd_run_dataset(args)
    if args.output:
        raise MlirCoremlError("--output goes with --dataset; with --inputs, write the outputs with --outputs OUT.npz")
    from mlir_coreml.runtime.predict import run_npz

    run_npz(args.model, args.inputs, args.outputs, threads=args.threads, reference=args.reference,
            trust_kernels=args.trust_kernels, precision=args.precision, report=args.report,
            compute_units=args.compute_units)
    return 0


def cmd_run_dataset(args) -> int:
    from mlir_coreml.runtime.tables import run_dataset

    if not args.output:
        raise MlirCoremlError("--dataset needs --output OUT.parquet")
    run_dataset(args.model, args.dataset, args.output, use_ray=args.ray is not None, ray_address=args.ray or None,
                batch_size=args.batch_size, concurrency=args.concurrency, on_error=args.on_error,
                threads=args.threads or 1)
    return 0


def cmd_inspect(args) -> int:
    from mlir_coreml.frontend.inspect import inspect_model

    sys.stdout.write(inspect_model(resolve_model(args.model), as_json=args.json))
    return 0


def cmd_view(args) -> int:
    from mlir_coreml.codegen.view import view_model

    profiler = None
    if args.profile:
        from mlir_coreml.runtime.bench import profile_ops

        profiler = lambda path, pipeline: profile_ops(path, threads=1, pipeline=pipeline)  # noqa: E731
    page = view_model(resolve_model(args.model), pipeline=args.pipeline, report=args.report,
                      before_after=args.before_after, profiler=profiler)
    write_text_atomic(args.output, page)
    return 0


def cmd_bench(args) -> int:
    from mlir_coreml.runtime.bench import bench_model, profile_model

    if args.profile:
        sys.stdout.write(profile_model(args.model, threads=args.threads, runs=min(args.runs, 20)))
        return 0
    sys.stdout.write(bench_model(args.model, threads=args.threads, compare=args.compare, runs=args.runs))
    return 0


def _help_with_passes(parser: argparse.ArgumentParser) -> str:
    """`opt --help` lists the passes as mlir-opt does (imported only when help is asked for)."""
    from mlir_coreml.passes.pipelines import list_pipelines
    from mlir_coreml.passes.registry import describe_passes

    return (argparse.ArgumentParser.format_help(parser) + "\npasses:\n" + describe_passes()
            + "\nnamed pipelines:\n" + list_pipelines())


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mlir-coreml", description=__doc__.splitlines()[0])
    p.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("import", help="read a Core ML model and print its IR")
    s.add_argument("model")
    s.add_argument("-o", "--output")
    s.add_argument("--generic", action="store_true", help="print every op in generic form")
    s.add_argument("--resources", action="store_true", help="append the weights as a hex resources section")
    s.set_defaults(func=cmd_import)

    s = sub.add_parser("opt", help="run a pass pipeline over an IR file (like mlir-opt)")
    s.add_argument("file", nargs="?", help="IR text file, or - for stdin")
    s.add_argument("--list-passes", action="store_true", help="list every pass with its options")
    s.add_argument("--list-pipelines", action="store_true", help="list the named pipelines")
    s.format_help = functools.partial(_help_with_passes, s)
    s.add_argument("-p", "--pipeline", default="", help="e.g. 'canonicalize,cse,fuse-conv-batchnorm'")
    s.add_argument("-o", "--output")
    s.add_argument("--generic", action="store_true")
    s.add_argument("--no-verify", action="store_true", help="do not verify after each pass")
    s.add_argument("--print-ir-after-all", action="store_true")
    s.add_argument("--print-ir-after-change", action="store_true")
    s.add_argument("--print-ir-after-failure", action="store_true")
    s.add_argument("--time-passes", action="store_true")
    s.add_argument("--split-input-file", action="store_true",
                   help="run each chunk between '// -----' lines as a file of its own")
    s.add_argument("--verify-diagnostics", action="store_true",
                   help="check errors against '// expected-error {{...}}' comments instead of failing")
    s.set_defaults(func=cmd_opt)

    s = sub.add_parser("lower", help="compile a model to a .mlmodelc bundle (like xcrun coremlc compile)")
    s.add_argument("model", nargs="?", default=DEFAULT_MODEL,
                   help="model file; 'default' uses the embedded demo model")
    s.add_argument("-o", "--output", required=True)
    s.add_argument("-p", "--pipeline", default=None)
    s.add_argument("--emit", choices=["mlmodelc", "mlmodel", "mlpackage"], default="mlmodelc")
    s.add_argument("--coremlc-version", choices=["2019-early", "2019", "2020", "2021", "2025"], default=None,
                   help="which coremlc era's bundle layout to reproduce (default: 2021 for NeuralNetwork "
                        "models, 2025 for ML Programs)")
    s.add_argument("--kernels", action="store_true",
                   help="also build the CPU runtime's generated kernels into the bundle (mlir_coreml/)")
    s.add_argument("--print-pipeline", action="store_true", help="print the pipeline lower runs, then stop")
    s.set_defaults(func=cmd_lower)

    s = sub.add_parser("run", help="predict with a model on inputs from an .npz file, or score a dataset")
    s.add_argument("model")
    s.add_argument("--inputs")
    s.add_argument("--outputs")
    s.add_argument("--dataset", help="a .parquet or .npz table, or a folder of images, scored in batches")
    s.add_argument("--output", help="the Parquet file --dataset writes")
    s.add_argument("--ray", nargs="?", const="", default=None, metavar="ADDRESS",
                   help="score on Ray Data (a cluster address, or a local instance when omitted)")
    s.add_argument("--batch-size", type=int, default=32)
    s.add_argument("--concurrency", type=int, default=1, help="Ray actors")
    s.add_argument("--on-error", choices=["skip", "raise"], default="skip",
                   help="rows that cannot be read: listed in the 'error' column, or stop the run")
    s.add_argument("--threads", type=int, default=None)
    s.add_argument("--reference", action="store_true", help="use the numpy reference interpreter")
    s.add_argument("--trust-kernels", action="store_true",
                   help="load native kernels shipped inside the model even if this machine did not build them")
    s.add_argument("--print-pipeline", action="store_true", help="print the pipeline compiling runs, then stop")
    s.add_argument("--precision", choices=["fp32", "fp16", "ane", "int8", "int4", "lut8", "lut6", "lut4", "lut2"],
                   default=None,
                   help="fp16 weights (fp16-weights), the Neural Engine's numerics (emulate-ane-numerics), or "
                        "int8/int4/lutN weights (quantize-weights)")
    s.add_argument("--compute-units", choices=["cpu", "all", "cpu_and_ne", "cpu_and_gpu"], default=None,
                   help="partition over these units (partition-devices); gpu/ane segments run with fp16 numerics")
    s.add_argument("--timing", action="store_true", help=TIMING_HELP)
    s.add_argument("--report", help="write the precision report (sizes, drift on --inputs; the partition "
                                    "decisions with --compute-units): .json or text")
    s.set_defaults(func=cmd_run)

    s = sub.add_parser("inspect", help="summarise a model: inputs, outputs, ops, parameters, FLOPs")
    s.add_argument("model")
    s.add_argument("--json", action="store_true", help="print the summary as JSON")
    s.set_defaults(func=cmd_inspect)

    s = sub.add_parser("view", help="draw the model's graph as one self-contained HTML file")
    s.add_argument("model")
    s.add_argument("-o", "--output", required=True, help="the .html file to write")
    s.add_argument("-p", "--pipeline", default=None, help="passes to apply before drawing")
    s.add_argument("--profile", action="store_true",
                   help="draw the compiled model with each op's measured time share as a heat scale")
    s.add_argument("--report", help="a partition report (JSON, see codegen/view/report.py): colour device segments")
    s.add_argument("--before-after", action="store_true", help="the module before and after the pipeline, side by side")
    s.set_defaults(func=cmd_view)

    s = sub.add_parser("bench", help="measure latency, optionally against onnxruntime/torch")
    s.add_argument("model")
    s.add_argument("--threads", type=int, default=1)
    s.add_argument("--compare", default="",
                   help="engines to time too: onnxruntime[=MODEL.onnx] (default: the .onnx beside MODEL), "
                        "torch=MODEL.pt")
    s.add_argument("--runs", type=int, default=50)
    s.add_argument("--profile", action="store_true", help="time each op of the schedule instead")
    s.add_argument("--timing", action="store_true", help=TIMING_HELP)
    s.set_defaults(func=cmd_bench)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "timing", False):
        from mlir_coreml.runtime.timing import TIMING_ENV

        os.environ[TIMING_ENV] = "1"  # every compile_model of the command reports (runtime/timing.py)
    try:
        return args.func(args)
    except MlirCoremlError as e:
        if args.debug:
            raise
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
