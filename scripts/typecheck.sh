#!/usr/bin/env bash
# mypy over the datavask.* packages and bench/. The folders sit at the top level and install under one name
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
"$root/.venv/bin/mypy" --config-file "$root/pyproject.toml" \
    datavask/cleansing datavask/connectors datavask/flows datavask/data "$@"
# the benchmarks are no package of datavask's: checked from the checkout (they import datavask.* as installed)
cd "$root"
exec "$root/.venv/bin/mypy" --config-file "$root/pyproject.toml" bench "$@"
