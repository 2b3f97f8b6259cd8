# The two commands of the README: `make run` and `make test`.
SHELL := /bin/bash
PYTEST_ARGS ?=

.PHONY: run test setup setup-test unit integration api security e2e resilience system deploy-check render lint demo bench clean asyncapi

run: setup
	@scripts/run.sh

test: setup-test
	.venv/bin/python -m pytest $(PYTEST_ARGS)

setup:
	@scripts/setup.sh run

setup-test:
	@scripts/setup.sh test

# One suite at a time (see README).
unit: setup-test
	.venv/bin/python -m pytest tests/unit tests/shared $(PYTEST_ARGS)
integration api e2e resilience security system: setup-test
	.venv/bin/python -m pytest tests/$@ $(PYTEST_ARGS)

deploy-check: setup-test
	.venv/bin/python -m pytest tests/deploy $(PYTEST_ARGS)

render: setup-test
	deploy/k8s/render.sh

# The AsyncAPI documents of the events, generated from the code (a test fails when they differ).
asyncapi: setup
	.venv/bin/python -m shared.cli asyncapi

lint: setup-test
	.venv/bin/ruff check .

# The whole journey narrated against the system `make run` started (run it in another terminal).
demo: setup
	@.venv/bin/python -m demo $(DEMO_ARGS)

clean:
	rm -rf data .pytest_cache .hypothesis

# Benchmarks (not part of `make test`): results in bench/results/latest.md
bench: setup-test
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null; } || { echo "install wrk: sudo apt-get install wrk"; exit 1; }
	.venv/bin/python -m bench.run $(BENCH_ARGS)
