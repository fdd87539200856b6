# The two commands of the README: `make serve` and `make test`. Both create or reuse
# .venv themselves.
.PHONY: serve test lint venv

venv:
	@bash .ci/venv.sh

serve: venv
	.venv/bin/apollonia serve $(ARGS)

test: venv
	.venv/bin/ruff check music events taskqueue graph resolvers server workers tests bench
	.venv/bin/ruff format --check music events taskqueue graph resolvers server workers tests bench
	.venv/bin/mypy
	.venv/bin/lint-imports
	.venv/bin/python -m pytest -q $(ARGS)

lint: venv
	.venv/bin/ruff check music events taskqueue graph resolvers server workers tests bench
	.venv/bin/ruff format --check music events taskqueue graph resolvers server workers tests bench
	.venv/bin/mypy
