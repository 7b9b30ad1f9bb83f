#!/usr/bin/env bash
# The project's test command (`make test`): venvs, fmt, clippy, cargo test, then the template and
# state machine linters (statelint, cfn-lint, sam validate --lint) when those files exist. Fails on the first failing phase.
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

# The venvs download and install while clippy compiles: network and disk against CPU. Their log
# is printed once they are needed (the tests use moto).
phase "python venvs in the background (scripts/venv.sh: test tools; deploy tools for sam validate)"
venv_log="$(mktemp)"
(bash scripts/venv.sh && bash scripts/venv.sh deploy) >"$venv_log" 2>&1 &
venvs=$!
trap 'kill "$venvs" 2>/dev/null || true' EXIT
echo "    started"

phase "cargo fmt --all --check"
cargo fmt --all --check
done_phase

phase "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings
done_phase

phase "python venvs (waiting for them)"
if ! wait "$venvs"; then
    cat "$venv_log"
    echo "scripts/venv.sh failed" >&2
    exit 1
fi
cat "$venv_log"
rm -f "$venv_log"
done_phase

# Three test threads on 2 cores: the end-to-end tests mostly wait (tests/local-stack/tests/workflow/support.rs).
phase "cargo test --workspace -- --test-threads=3"
cargo test --workspace -- --test-threads=3
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

# SAM's own check of the template (its cfn-lint run, without our rules). Offline: no credentials,
# no region and no telemetry needed, so none are set and the user's ~/.aws is not read.
phase "sam validate --lint"
if [[ -f template.yaml ]]; then
    env -u AWS_PROFILE -u AWS_REGION -u AWS_DEFAULT_REGION AWS_CONFIG_FILE=/dev/null \
        AWS_SHARED_CREDENTIALS_FILE=/dev/null SAM_CLI_TELEMETRY=0 \
        .venv-deploy/bin/sam validate --lint --template-file template.yaml
    done_phase
else
    echo "    skipped: no template.yaml yet"
fi

# --- state machines and template: project rules and engine smoke test ------------------------
# The cfn-lint phase above already runs the project's own rules (E9101: no wildcard IAM action;
# E9102: DefinitionSubstitutions match the ASL placeholders; E9103: changing IAM actions only on
# resources that carry our ownership tag or have our own names; E9104: service trust names its
# source account, EKS access-entry actions carry EKS's condition keys) through .cfnlintrc.yaml. These
# phases prove the rules bite, and run the ASL definitions in moto's Step Functions engine.

# Runs cfn-lint on a fixture that must fail with exactly the expected findings of one rule.
expect_cfn_lint_failure() {
    local fixture=$1 rule=$2 expected=$3 out found others
    if out=$(.venv/bin/cfn-lint "$fixture" 2>&1); then
        echo "$out"
        echo "    FAIL: cfn-lint accepted $fixture; rule $rule is not loaded (.cfnlintrc.yaml) or not working" >&2
        return 1
    fi
    found=$(grep -c "^$rule " <<<"$out" || true)
    others=$(grep -E '^[EWI][0-9]+ ' <<<"$out" | grep -v "^$rule " || true)
    if [[ $found -ne $expected || -n $others ]]; then
        echo "$out"
        echo "    FAIL: $fixture: expected $expected $rule findings and no others, got $found" >&2
        return 1
    fi
    echo "    $fixture: $found $rule findings, as expected"
}

phase "IAM lint: every policy of template.yaml against AWS's IAM definition data (scripts/iam_lint.py, parliament)"
if [[ -f template.yaml ]]; then
    .venv/bin/python scripts/iam_lint.py template.yaml --check-allowances
    if out=$(.venv/bin/python scripts/iam_lint.py scripts/cfn_rules/fixtures/iam_lint.yaml); then
        echo "$out"
        echo "    FAIL: scripts/iam_lint.py accepted its negative fixture" >&2
        exit 1
    fi
    for issue in UNKNOWN_ACTION RESOURCE_MISMATCH UNKNOWN_CONDITION_FOR_ACTION RESOURCE_STAR; do
        if ! grep -q ": $issue: " <<<"$out"; then
            echo "$out"
            echo "    FAIL: scripts/iam_lint.py did not report $issue in its negative fixture" >&2
            exit 1
        fi
    done
    echo "    negative fixture: unknown action, resource mismatch, unknown condition key, resource star reported"
    done_phase
else
    echo "    skipped: no template.yaml yet"
fi

phase "cfn-lint project rules bite (negative fixtures)"
if [[ -f template.yaml ]]; then
    expect_cfn_lint_failure scripts/cfn_rules/fixtures/wildcard.yaml E9101 9
    expect_cfn_lint_failure scripts/cfn_rules/fixtures/substitutions.yaml E9102 3
    expect_cfn_lint_failure scripts/cfn_rules/fixtures/owned_changes.yaml E9103 12
    expect_cfn_lint_failure scripts/cfn_rules/fixtures/conditions.yaml E9104 3
    done_phase
else
    echo "    skipped: no template.yaml yet"
fi

phase "state machines in moto's Step Functions engine (statemachine/smoke_test.py)"
if ((${#machines[@]})); then
    .venv/bin/python statemachine/smoke_test.py
    done_phase
else
    echo "    skipped: no statemachine/*.asl.json yet"
fi

echo
echo "==> all checks passed in $((SECONDS - start))s"
