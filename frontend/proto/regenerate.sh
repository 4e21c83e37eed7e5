#!/usr/bin/env bash
# Regenerate the *_pb2.py / *_pb2.pyi modules next to the .proto files in this folder.
#
# The .proto files import each other as "mlir_coreml/frontend/proto/<name>.proto" (the
# installed module path), so protoc emits package-absolute imports such as
# `from mlir_coreml.frontend.proto import feature_types_pb2` and registers descriptor file
# names that cannot collide with coremltools' ("Model.proto", ...). A scratch include
# root with a symlink mirrors that path onto this folder.
#
# Usage: frontend/proto/regenerate.sh            (uses $PYTHON, default: python3)
# Needs grpcio-tools. The generated modules call ValidateProtobufRuntimeVersion with the
# bundled protoc's version (libprotoc 35.1 -> gencode 7.35.1), which sets the minimum
# protobuf runtime: keep the `protobuf>=` pin in pyproject.toml in step when regenerating.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-python3}"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

mkdir -p "$scratch/mlir_coreml/frontend"
ln -s "$here" "$scratch/mlir_coreml/frontend/proto"
rm -f "$here"/*_pb2.py "$here"/*_pb2.pyi

cd "$scratch"
"$python" -m grpc_tools.protoc --version
"$python" -m grpc_tools.protoc -I . --python_out=. --pyi_out=. mlir_coreml/frontend/proto/*.proto
ls "$here"/*_pb2.py
