#!/usr/bin/env bash
# The project's test command (`make test`): venv, fmt, clippy, cargo test, then the template and
# state machine linters when those files exist. Fails on the first failing phase.
# Env: CARGO_TARGET_DIR (default ~/.cache/efs-fargate-workflow/target, outside the clone so repeated
# runs and fresh CI clones reuse compiled dependencies).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/efs-fargate-workflow/target}"

start=$SECONDS
phase_start=$SECONDS
phase() {
    echo
    echo "==> [$((SECONDS - start))s] $*"
    phase_start=$SECONDS
}
done_phase() { echo "    ok ($((SECONDS - phase_start))s)"; }

phase "python venv (scripts/venv.sh)"
bash scripts/venv.sh
done_phase

phase "cargo fmt --all --check"
cargo fmt --all --check
done_phase

phase "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings
done_phase

phase "cargo test --workspace"
cargo test --workspace
done_phase

phase "statelint"
shopt -s nullglob
machines=(statemachine/*.asl.json)
shopt -u nullglob
if ((${#machines[@]})); then
    .venv/bin/statelint --ignore=FLOAT "${machines[@]}"
    done_phase
else
    echo "    skipped: no statemachine/*.asl.json yet"
fi

phase "cfn-lint"
if [[ -f template.yaml ]]; then
    .venv/bin/cfn-lint template.yaml
    done_phase
else
    echo "    skipped: no template.yaml yet"
fi

echo
echo "==> all checks passed in $((SECONDS - start))s"
