# cython: language_level=3
"""fp16 <-> fp32 conversion for numpy arrays (F16C when available, portable otherwise)."""
import numpy as np
cimport numpy as cnp
from libc.stdint cimport uint16_t

cdef extern from "fp16.h":
    void mc_half_to_float(const uint16_t *src, float *dst, size_t n) nogil
    void mc_float_to_half(const float *src, uint16_t *dst, size_t n) nogil
    void mc_half_to_float_portable(const uint16_t *src, float *dst, size_t n) nogil
    void mc_float_to_half_portable(const float *src, uint16_t *dst, size_t n) nogil
    int mc_fp16_has_f16c()

cnp.import_array()


def has_f16c():
    """True when this machine converts with F16C instructions."""
    return bool(mc_fp16_has_f16c())


def half_to_float(a, bint portable=False):
    """float16 array (any shape) -> new float32 array of the same shape."""
    cdef cnp.ndarray src = np.ascontiguousarray(a, dtype=np.float16)
    cdef cnp.ndarray dst = np.empty(np.shape(a), dtype=np.float32)
    cdef size_t n = src.size
    cdef const uint16_t *s = <const uint16_t *>cnp.PyArray_DATA(src)
    cdef float *d = <float *>cnp.PyArray_DATA(dst)
    with nogil:
        if portable:
            mc_half_to_float_portable(s, d, n)
        else:
            mc_half_to_float(s, d, n)
    return dst


def float_to_half(a, bint portable=False):
    """float32 array (any shape) -> new float16 array, round-to-nearest-even."""
    cdef cnp.ndarray src = np.ascontiguousarray(a, dtype=np.float32)
    cdef cnp.ndarray dst = np.empty(np.shape(a), dtype=np.float16)
    cdef size_t n = src.size
    cdef const float *s = <const float *>cnp.PyArray_DATA(src)
    cdef uint16_t *d = <uint16_t *>cnp.PyArray_DATA(dst)
    with nogil:
        if portable:
            mc_float_to_half_portable(s, d, n)
        else:
            mc_float_to_half(s, d, n)
    return dst
