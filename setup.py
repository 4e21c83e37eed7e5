"""Build script: maps the top-level folders onto the `mlir_coreml` package and
compiles the Cython/C kernels in csrc/ (runtime CPU-feature dispatch lives in the C code,
so one build serves AVX-512, AVX2+F16C and plain x86-64/ARM machines)."""
import sys

import numpy
from Cython.Build import cythonize
from setuptools import Extension, find_packages, setup

# The directory tree is the architecture: each top-level folder is a subpackage.
SUBPACKAGES = {"ir": "ir", "passes": "passes", "codegen": "codegen", "runtime": "runtime", "frontend": "frontend",
               "csrc": "csrc"}


def package_map():
    package_dir = {"mlir_coreml": "mlir_coreml"}
    packages = ["mlir_coreml"]
    for name, folder in SUBPACKAGES.items():
        package_dir[f"mlir_coreml.{name}"] = folder
        packages.append(f"mlir_coreml.{name}")
        packages += [f"mlir_coreml.{name}.{sub}" for sub in find_packages(folder)]
    return package_dir, packages


# One entry per extension module: Cython wrapper + the C kernels it calls.
EXTENSIONS = {
    "_fp16": ["csrc/_fp16.pyx", "csrc/fp16.c"],
    "_kernels": ["csrc/_kernels.pyx", "csrc/dispatch.c", "csrc/isa_check.c", "csrc/gemm.c", "csrc/gemv.c", "csrc/conv.c",
                 "csrc/winograd.c", "csrc/dwpw.c", "csrc/attention.c", "csrc/copy.c", "csrc/pool.c", "csrc/resize.c",
                 "csrc/norm.c", "csrc/fp16.c", "csrc/kernel_table.c", "csrc/dequant.c", "csrc/blocked.c",
                 "csrc/blocked_dw.c", "csrc/gemm_rows.c"],
    "_trees": ["csrc/_trees.pyx", "csrc/trees.c"],
}
# Threaded extensions: _kernels runs its tasks on its own pthread pool (csrc/dispatch.c) and
# takes only the default thread count from OpenMP (OMP_NUM_THREADS / CPU count), so it needs
# -pthread plus -fopenmp (gcc/clang flags; MSVC would need /openmp and a Win32 pool).
OPENMP = {"_kernels"}


def openmp_args(name):
    return ["-fopenmp", "-pthread"] if name in OPENMP and sys.platform != "win32" else []


def extensions():
    compile_args = [] if sys.platform == "win32" else ["-O3", "-fno-strict-aliasing"]
    exts = [
        Extension(
            f"mlir_coreml.csrc.{name}",
            sources,
            include_dirs=["csrc", numpy.get_include()],
            extra_compile_args=compile_args + openmp_args(name),
            extra_link_args=openmp_args(name),
            define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        )
        for name, sources in EXTENSIONS.items()
    ]
    return cythonize(exts, language_level=3,
                     compiler_directives={"boundscheck": False, "wraparound": False, "cdivision": True})


package_dir, packages = package_map()
setup(
    package_dir=package_dir,
    packages=packages,
    package_data={"mlir_coreml.ir": ["*.lark"],
                  "mlir_coreml.frontend": ["**/*.lark", "**/*.proto"], "mlir_coreml.csrc": ["*.pxd", "*.pxi", "*.h"],
                  "mlir_coreml": ["data/*"]},
    ext_modules=extensions(),
    zip_safe=False,
)
