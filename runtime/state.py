"""Model state across predictions, as coremltools has it: `state = model.make_state()`, then
`model.predict(inputs, state=state)` reads and updates it; `state.read_state(name)` and
`state.write_state(name, array)` look at or set one state.

The compiled function takes each state as an extra input and returns its new value as an extra
output (passes/functionalize_state.py); predict feeds the buffers in and copies the new values back.
"""
from __future__ import annotations

import numpy as np

from mlir_coreml.errors import MlirCoremlError


class ModelState:
    """The state buffers of one model (name -> array), zero-filled when made."""

    def __init__(self, types: dict):
        self._arrays = {name: np.zeros(t.shape, dtype=t.element.numpy_dtype) for name, t in types.items()}

    def __repr__(self):
        return f"ModelState({', '.join(f'{k}: {v.dtype}{list(v.shape)}' for k, v in self._arrays.items())})"

    @property
    def names(self) -> list[str]:
        return list(self._arrays)

    def read_state(self, name: str) -> np.ndarray:
        return self._buffer(name).copy()

    def write_state(self, name: str, value) -> None:
        buffer = self._buffer(name)
        value = np.asarray(value)
        if value.shape != buffer.shape:
            raise MlirCoremlError(f"state '{name}' has shape {buffer.shape}; got an array of shape {value.shape}")
        np.copyto(buffer, value.astype(buffer.dtype))

    def _buffer(self, name: str) -> np.ndarray:
        if name not in self._arrays:
            raise MlirCoremlError(f"the model has no state '{name}' (its states: {', '.join(self._arrays)})")
        return self._arrays[name]


def state_names(fn) -> list[str]:
    from mlir_coreml.passes.functionalize_state import STATE_ARGUMENTS

    attr = fn.attributes.get(STATE_ARGUMENTS)
    return [a.value for a in attr.data] if attr is not None else []


def with_state(data: dict, state: ModelState, names: list[str]) -> dict:
    """The inputs of one prediction: the caller's and the state buffers."""
    if not isinstance(state, ModelState):
        raise MlirCoremlError(f"state must come from the model's make_state(), got {type(state).__name__}")
    clash = [n for n in names if n in data]
    if clash:
        raise MlirCoremlError(f"'{clash[0]}' is a state of the model; pass it with state=, not as an input")
    return {**data, **{n: state._buffer(n) for n in names}}


def make_state(signature, names: list[str]) -> ModelState:
    return ModelState({n: signature.inputs[n] for n in names})


def update_state(outputs: dict, state: ModelState, names: list[str], output_names: list[str]) -> dict:
    """Write the new state values (the function's last results) back; the other outputs."""
    extra = output_names[len(output_names) - len(names):]
    for name, key in zip(names, extra):
        state.write_state(name, outputs.pop(key))
    return outputs
