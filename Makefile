# `make test` is the project's test command (scripts/test.sh); `make demo` runs the whole workflow
# on the local stack (moto, the local gateway and the fake Kubernetes API server); `make bench`
# measures the release build (README, "Performance"; `make bench BUILD=1` adds build times).
export CARGO_TARGET_DIR ?= $(HOME)/.cache/efs-fargate-workflow/target

.PHONY: test demo bench venv fmt lint clean-venv

test:
	bash scripts/test.sh

demo: venv
	cargo build -p local-stack -p efs-workflow --bins
	"$(CARGO_TARGET_DIR)/debug/local-demo"

# Per function: cold start, peak RSS after one invocation, zip size (tests/function-bench).
bench:
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
