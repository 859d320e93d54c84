#!/usr/bin/env bash
# Installs the build tree into a scratch prefix, then configures, builds and
# runs the consumer project against it. Usage: run.sh BUILD_DIR
set -euo pipefail
build=$1
here=$(dirname "$(realpath "$0")")
prefix=$build/install-test
rm -rf "$prefix" "$build/consumer"
cmake --install "$build" --prefix "$prefix" >/dev/null
cmake -S "$here" -B "$build/consumer" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$build/consumer" >/dev/null
"$build/consumer/consumer"
