# `make test` is the project's test command (scripts/test.sh); `make demo` runs the whole workflow
# on the local stack (moto, the local gateway and the fake Kubernetes API server); `make bench`
# measures the release build (README, "Performance"; `make bench BUILD=1` adds build times).
export CARGO_TARGET_DIR ?= $(HOME)/.cache/efs-fargate-workflow/target

.PHONY: test demo bench bench-workflow bench-functions venv fmt lint clean-venv

test:
	bash scripts/test.sh

demo: venv
	cargo build -p local-stack -p efs-workflow --bins
	"$(CARGO_TARGET_DIR)/debug/local-demo"

# `make bench` prints the performance figures (README, Performance); not part of `make test`.
bench: bench-workflow bench-functions

# Provisioning replayed under AWS's latency model, then 50 and 100 runs at once on as many clusters;
# BENCH_ARGS e.g. `--cases median --time-scale 0.2 --scale 10`.
bench-workflow: venv
	cargo build -p workflow-bench
	"$(CARGO_TARGET_DIR)/debug/workflow-bench" $(BENCH_ARGS)

# Per function: cold start, peak RSS after one invocation, zip size (tests/function-bench);
# BUILD=1 adds cold and warm release build times.
bench-functions:
	bash scripts/venv.sh deploy
	BUILD="$(BUILD)" cargo run --quiet -p function-bench

venv:
	bash scripts/venv.sh

fmt:
	cargo fmt --all

lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings

clean-venv:
	rm -rf .venv .venv-deploy
