"""Thread scaling of whole CNNs on a possibly shared machine: 1 vs 2 threads, interleaved.

    python benchmarks/kernels/bench_threads.py [--models resnet18,mobilenet_v2] [--runs 20]

Each model (the zoo's fp16 .mlmodel form by default, --fp32 for the fp32 one) is compiled
with threads=1 and threads=2 and the two are run alternately.  Per run it records wall time
and the process CPU time (all threads), and reports their medians:

- speedup = wall(1 thread) / wall(2 threads): what a user sees, and what the machine's other
  load cuts into;
- cores = CPU(2 threads) / wall(2 threads): how many cores the 2-thread run actually had on
  average (2.0 on an idle machine; less when other processes took the second core);
- work = CPU(2 threads) / CPU(1 thread): the extra CPU the split costs (1.0 ideal);
- projected = 2 / work: the speedup with both cores to ourselves, the CPU-time-aware figure;
- single-thread cores = CPU(1) / wall(1): a threads=1 run must use one core (~1.0, never 2).
The load average before and after says how busy the machine was.

    python benchmarks/kernels/bench_threads.py --threads-report [--models ...] [--runs 5]

instead predicts the two-thread speedup from CPU times, which a loaded machine does not
distort (a thread waiting for a core accrues no CPU time).  The model runs compiled with
threads=2, with the kernels' pool statistics on (kernels.h: mc_thread_stats), and the
calling thread's CPU time is split into *serial* time (Python between kernels, kernels that
ran on one thread, copies) and parallel regions.  For each region the pool records the CPU
time of every task; its *critical path* is the finish time of two threads claiming those
tasks in order, as the pool does when both threads have a core.  Per op kind (executor path,
one step at a time) and for the whole model through the default (generated module) path:

- work ms: 1-thread CPU estimate (serial + parallel work);
- par %: parallel work / that total;
- imbal: critical path / (work / 2), 1.00 for a perfect split;
- wait %: the caller's CPU spent waiting in regions / total (spinning for the last tasks);
- regions / small: parallel calls, and calls that ran on one thread;
- predicted = total / (serial + critical path), the speedup with two free cores.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)


def timed(fn, feeds):
    w0, c0 = time.perf_counter(), time.process_time()
    fn(feeds)
    return time.perf_counter() - w0, time.process_time() - c0


def stats_delta(before: dict, after: dict) -> dict:
    return {k: after[k] - before[k] for k in after}


class Split:
    """CPU seconds of one row of the report: serial and parallel parts, critical path."""

    def __init__(self):
        self.count = self.cpu = self.work = self.critical = self.even = self.wait = 0.0
        self.regions = self.small = 0

    def add(self, cpu: float, st: dict, count: int = 1):
        """cpu: the calling thread's CPU time over the span; st: the pool's stats over it."""
        self.count += count
        self.cpu += cpu
        self.work += st["work"]
        self.critical += st["critical"]
        self.even += st["even"]
        self.wait += st["caller"] - st["caller_tasks"]
        self.regions += st["regions"]
        self.small += st["serial_regions"]
        self.serial_in = getattr(self, "serial_in", 0.0) + cpu - st["caller"]

    def row(self, name: str, runs: int, total: float) -> str:
        serial = self.serial_in
        one = serial + self.work
        predicted = one / (serial + self.critical) if serial + self.critical > 0 else 1.0
        imbal = self.critical / self.even if self.even else float("nan")
        return (f"{name:<34}{self.count / runs:>6.0f}{one / runs * 1e3:>9.3f}{100 * one / total:>6.1f}"
                f"{100 * self.work / one if one else 0:>7.1f}{imbal:>7.2f}{100 * self.wait / one if one else 0:>7.1f}"
                f"{self.regions / runs:>8.0f}{self.small / runs:>6.0f}{predicted:>10.2f}")


REPORT_HEADER = (f"{'op kind':<34}{'count':>6}{'work ms':>9}{'%':>6}{'par %':>7}{'imbal':>7}{'wait %':>7}"
                 f"{'regions':>8}{'small':>6}{'predicted':>10}")


def step_key(step) -> str:
    attrs = step.op.attributes
    extra = [str(getattr(attrs[k], "data", attrs[k])) for k in ("algorithm", "kind") if k in attrs]
    return " ".join([step.op.op_name] + extra)


def threads_report(model_file: str, feeds: dict, runs: int) -> str:
    """The per-op and whole-model prediction (see the module docstring)."""
    from mlir_coreml.csrc import _kernels as K
    from mlir_coreml.runtime.predict import compile_model

    stepped = compile_model(model_file, threads=2, codegen=False)
    executor = stepped.executor
    args = stepped.signature.check_inputs(feeds)
    executor.run(args)
    rows: dict[str, Split] = {}
    loop = Split()
    K.thread_stats_enable(True)
    try:
        for _ in range(runs):
            env = dict(executor.constants)
            env.update(zip(executor.args, args))
            run0, st_run0 = time.thread_time(), K.thread_stats()
            steps_cpu, st_steps = 0.0, None
            for step in executor.steps:
                c0, st0 = time.thread_time(), K.thread_stats()
                executor.run_step(step, env)
                cpu, st = time.thread_time() - c0, stats_delta(st0, K.thread_stats())
                rows.setdefault(step_key(step), Split()).add(cpu, st)
                steps_cpu += cpu
                for value in step.release:
                    del env[value]
            outside = time.thread_time() - run0 - steps_cpu   # the loop itself and the stat reads
            loop.add(outside, {k: 0 for k in st_run0})
        whole = Split()
        default = compile_model(model_file, threads=2)
        default.predict(feeds)
        for _ in range(runs):
            c0, st0 = time.thread_time(), K.thread_stats()
            default.predict(feeds)
            whole.add(time.thread_time() - c0, stats_delta(st0, K.thread_stats()))
    finally:
        K.thread_stats_enable(False)
    total = sum(r.serial_in + r.work for r in rows.values())
    lines = [REPORT_HEADER]
    for key, r in sorted(rows.items(), key=lambda kv: -(kv[1].serial_in + kv[1].work)):
        lines.append(r.row(key, runs, total))
    all_steps = Split()
    for r in rows.values():
        all_steps.count += r.count
        all_steps.cpu += r.cpu
        all_steps.work += r.work
        all_steps.critical += r.critical
        all_steps.even += r.even
        all_steps.wait += r.wait
        all_steps.regions += r.regions
        all_steps.small += r.small
        all_steps.serial_in = getattr(all_steps, "serial_in", 0.0) + r.serial_in
    lines.append(all_steps.row("all steps (executor)", runs, total))
    whole.count = runs
    lines.append(whole.row(f"whole model ({type(default).__name__})", runs, total))
    return "\n".join(lines)


def main(argv=None) -> int:
    from mlir_coreml.runtime.predict import compile_model
    from tests.models import zoo

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="resnet18,mobilenet_v2")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--fp32", action="store_true")
    ap.add_argument("--threads-report", action="store_true",
                    help="predict the 2-thread speedup per op kind from CPU times (see above)")
    args = ap.parse_args(argv)
    form = "nn_fp32" if args.fp32 else "nn_fp16"
    if args.threads_report:
        for name in args.models.split(","):
            coreml = zoo.cached_build(name, form)
            inputs, _ = zoo.load_io(coreml)
            model_file = next(p for p in coreml.iterdir() if p.suffix in (".mlmodel", ".mlpackage"))
            feeds = {k: np.ascontiguousarray(v) for k, v in inputs.items()}
            print(f"== {name} ({form}), load average {os.getloadavg()[0]:.2f}")
            print(threads_report(str(model_file), feeds, args.runs), flush=True)
        return 0
    print(f"load average before: {os.getloadavg()[0]:.2f} (cores: {os.cpu_count()}); form {form}")
    print(f"{'model':<14}{'1t ms':>8}{'2t ms':>8}{'speedup':>8}{'cores':>7}{'work':>7}{'projected':>10}{'1t cores':>9}")
    for name in args.models.split(","):
        coreml = zoo.cached_build(name, form)
        inputs, _ = zoo.load_io(coreml)
        model_file = next(p for p in coreml.iterdir() if p.suffix in (".mlmodel", ".mlpackage"))
        feeds = {k: np.ascontiguousarray(v) for k, v in inputs.items()}
        models = {t: compile_model(str(model_file), threads=t) for t in (1, 2)}
        for m in models.values():
            m.predict(feeds)
        samples = {1: [], 2: []}
        for _ in range(args.runs):
            for t, m in models.items():
                time.sleep(0.002)
                samples[t].append(timed(m.predict, feeds))
        (w1, c1), (w2, c2) = (np.median(np.array(samples[t]), axis=0) for t in (1, 2))
        work = c2 / c1
        print(f"{name:<14}{w1 * 1e3:>8.2f}{w2 * 1e3:>8.2f}{w1 / w2:>8.2f}{c2 / w2:>7.2f}{work:>7.2f}"
              f"{2 / work:>10.2f}{c1 / w1:>9.2f}", flush=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
