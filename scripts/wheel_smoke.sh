#!/usr/bin/env bash
# The wheel works anywhere: build it, install it into a fresh virtualenv outside the checkout, and
# cleanse the bundled sample from a directory that is not the checkout (no server, no credentials).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$(mktemp -d /tmp/datavask-wheel-XXXXXX)
trap 'rm -rf "$work"' EXIT

"$root/.venv/bin/python" -m pip wheel -q --no-deps -w "$work/dist" . 2>&1 | grep -v '^WARNING: Location' || true
wheel=$(ls "$work"/dist/datavask-*.whl)
tops=$("$root/.venv/bin/python" - "$wheel" <<'PY'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
print(" ".join(sorted({n.split("/")[0] for n in names if not n.split("/")[0].endswith((".dist-info", ".data"))})))
PY
)
[ "$tops" = "datavask" ] || { echo "wheel_smoke: the wheel's top-level names are '$tops', not datavask" >&2; exit 1; }

# A fresh venv holds the wheel; its libraries are the test environment's, reached through a .pth
# file (a second full environment is ~650 MB, more than a CI machine's disk has held). That every
# library the package imports is declared is tests/test_packaging.py's to check; `pip check` here
# checks that the declared ones are satisfied.
python3 -m venv "$work/venv"
libs=$("$root/.venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
site=$("$work/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "$libs" > "$site/zz_test_environment_libraries.pth"
"$work/venv/bin/python" -m pip install -q --no-deps --no-cache-dir "$wheel" 2>&1 | grep -v '^WARNING: Location' || true
"$work/venv/bin/python" -m pip check 2>&1 | grep -v '^WARNING: Location' | grep -i datavask && { echo "wheel_smoke: a declared dependency is not satisfied" >&2; exit 1; } || true
mkdir -p "$work/elsewhere"
cd "$work/elsewhere"
"$work/venv/bin/python" - <<'PY'
import sys
from importlib import metadata
from pathlib import Path

import datavask

here = Path(sys.prefix).resolve()
assert here in Path(datavask.__file__).resolve().parents, f"datavask imported from {datavask.__file__}"
print(f"wheel_smoke: datavask {metadata.version('datavask')} from {Path(datavask.__file__).parent}")
PY
"$work/venv/bin/datavask" --version
sample=$("$work/venv/bin/python" -c 'from importlib.resources import files; print(files("datavask.data") / "sample" / "customers.csv")')
DATAVASK_HOME="$work/home" DATAVASK_ORCHESTRATION=none \
  "$work/venv/bin/datavask" cleanse "$sample" --out "$work/elsewhere/run"
test -s "$work/elsewhere/run/records.parquet"
test -s "$work/elsewhere/run/report.html"
echo "wheel_smoke: the wheel installs and cleanses the sample outside the checkout"
