# Shortcuts for developers; README's commands are the scripts themselves.
.PHONY: setup run test test-sqlite test-fast check fix

setup:
	scripts/setup.sh

run:
	scripts/run-demo

test:
	scripts/run-tests

test-sqlite: setup
	.venv/bin/python -m pytest -q

# SQLite, without the slow SoftHSM and browser tests: the quick loop while editing.
test-fast: setup
	env -u CERTSVC_TEST_DATABASE_URL .venv/bin/python -m pytest -q -p no:cacheprovider -n auto -m "not pkcs11 and not browser"

# Lint, formatting and types, as CI checks them before the tests.
check: setup
	scripts/check

# Let ruff fix and format what it can, then check.
fix: setup
	scripts/check --fix
