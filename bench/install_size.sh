#!/usr/bin/env bash
# Install sizes and start-up time of the lean and the job install (bench/RESULTS.md).
# Each variant goes into a fresh venv from this checkout; needs the package index.
# Usage: bench/install_size.sh [WORKDIR]   (default: a new temporary folder)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-$(mktemp -d)}"
python="${PYTHON:-python3}"
empty="$work/empty" && mkdir -p "$empty"
for variant in lean job; do
  venv="$work/$variant"
  spec="$repo"; [ "$variant" = job ] && spec="$repo[job]"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --upgrade pip
  started=$(date +%s)
  "$venv/bin/python" -m pip install -q "$spec"
  echo "== $variant: pip install $( [ "$variant" = job ] && echo "'.[job]'" || echo . ) took $(( $(date +%s) - started )) s"
  echo "size: $(du -sh "$venv" | cut -f1) (venv), $(du -sh "$venv"/lib/python3*/site-packages | cut -f1) (site-packages)"
  "$venv/bin/python" - "$venv" <<'PY'
import importlib.util, sys
heavy = ["qiskit", "qiskit_aer", "qiskit_ibm_runtime", "braket", "qiskit_qasm3_import"]
print("heavy packages present:", [m for m in heavy if importlib.util.find_spec(m)] or "none")
PY
  for args in "--version" "scan $empty --quiet"; do
    times=$(for run in 1 2 3 4 5 6 7; do
      started=$(date +%s%N)
      "$venv/bin/qgov" $args >/dev/null 2>&1 || true
      echo $(( ($(date +%s%N) - started) / 1000000 ))
    done | sort -n)
    echo "qgov $args: median $(echo "$times" | sed -n 4p) ms, min $(echo "$times" | head -n 1) ms (7 runs)"
  done
done
