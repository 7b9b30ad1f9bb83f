# `make test` is the project's test command; see scripts/test.sh.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/efs-fargate-workflow/target

.PHONY: test venv fmt lint clean-venv

test:
	bash scripts/test.sh

venv:
	bash scripts/venv.sh

fmt:
	cargo fmt --all

lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings

clean-venv:
	rm -rf .venv
