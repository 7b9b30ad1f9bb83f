#!/usr/bin/env bash
# Creates or updates the project-local Python venv at <repo>/.venv with the pinned test tools
# (moto server, boto3, cfn-lint, statelint) from scripts/requirements-test.txt.
# Idempotent and quick: when the stamp file matches the requirements and the interpreter, it
# returns at once. Env: PYTHON (default python3) is the interpreter the venv is built from.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$repo/.venv"
req="$repo/scripts/requirements-test.txt"
stamp="$venv/.requirements-test.stamp"
python="${PYTHON:-python3}"

py_version() { "$1" -c 'import sys; print(sys.version.split()[0])' 2>/dev/null || true; }

# What the venv must match: the requirements text plus the interpreter's version.
want="$(cat "$req"; echo "# python $(py_version "$python")")"

if [[ -x "$venv/bin/moto_server" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    exit 0
fi

# (Re)create the venv when it is missing, broken, or built by another Python version.
if [[ "$(py_version "$venv/bin/python")" != "$(py_version "$python")" ]]; then
    echo "venv.sh: creating $venv" >&2
    "$python" -m venv --clear "$venv"
fi

echo "venv.sh: installing $(basename "$req") into $venv" >&2
rm -f "$stamp"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
printf '%s\n' "$want" > "$stamp"
echo "venv.sh: done" >&2
