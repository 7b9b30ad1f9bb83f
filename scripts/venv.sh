#!/usr/bin/env bash
# Creates or updates a project-local Python venv from a pinned requirements file:
#   bash scripts/venv.sh          <repo>/.venv        from scripts/requirements-test.txt
#                                 (moto server, boto3, cfn-lint, statelint: the test suite)
#   bash scripts/venv.sh deploy   <repo>/.venv-deploy from scripts/requirements-deploy.txt
#                                 (aws-sam-cli, cargo-lambda with zig: `sam build`, `make bench`)
# Two venvs because aws-sam-cli pins boto3 below the version moto's tests are pinned to.
# Idempotent and quick: when the stamp file matches the requirements and the interpreter, it
# returns at once. Env: PYTHON (default python3) is the interpreter the venv is built from.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
case "${1:-test}" in
    test) venv="$repo/.venv" req="$repo/scripts/requirements-test.txt" probe=moto_server ;;
    deploy) venv="$repo/.venv-deploy" req="$repo/scripts/requirements-deploy.txt" probe=sam ;;
    *) echo "usage: $0 [test|deploy]" >&2; exit 2 ;;
esac
stamp="$venv/.requirements.stamp"
python="${PYTHON:-python3}"

py_version() { "$1" -c 'import sys; print(sys.version.split()[0])' 2>/dev/null || true; }

# What the venv must match: the requirements text plus the interpreter's version.
want="$(cat "$req"; echo "# python $(py_version "$python")")"

if [[ -x "$venv/bin/$probe" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
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
