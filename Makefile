# Shortcuts for developers; README's commands are the scripts themselves.
.PHONY: setup run test test-sqlite

setup:
	scripts/setup.sh

run:
	scripts/run-demo

test:
	scripts/run-tests

test-sqlite: setup
	.venv/bin/python -m pytest -q
