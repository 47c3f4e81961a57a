#!/usr/bin/env bash
# mypy over the datavask.* packages. The folders sit at the top level and install under one name
# through setuptools' package-dir, which mypy cannot follow, so it reads them through a tree of
# symlinks laid out as the wheel lays them out (build/typecheck/datavask/{flows,cleansing,...}).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
tree=build/typecheck
rm -rf "$tree" && mkdir -p "$tree/datavask"
cp datavask/*.py datavask/py.typed "$tree/datavask/"
for dir in flows cleansing connectors data; do ln -s "$root/$dir" "$tree/datavask/$dir"; done
cd "$tree"
exec "$root/.venv/bin/mypy" --config-file "$root/pyproject.toml" datavask/cleansing datavask/connectors "$@"
