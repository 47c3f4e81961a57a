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

python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q "$wheel" 2>&1 | grep -v '^WARNING: Location' || true
mkdir -p "$work/elsewhere"
cd "$work/elsewhere"
"$work/venv/bin/datavask" --version
sample=$("$work/venv/bin/python" -c 'from importlib.resources import files; print(files("datavask.data") / "sample" / "customers.csv")')
DATAVASK_HOME="$work/home" DATAVASK_ORCHESTRATION=none \
  "$work/venv/bin/datavask" cleanse "$sample" --out "$work/elsewhere/run"
test -s "$work/elsewhere/run/records.parquet"
test -s "$work/elsewhere/run/report.html"
echo "wheel_smoke: the wheel installs and cleanses the sample outside the checkout"
