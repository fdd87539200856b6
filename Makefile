# The two commands of the README: `make serve` and `make test`. Both create or reuse
# .venv themselves.
.PHONY: serve test lint venv

venv:
	@bash .ci/venv.sh

serve: venv
	.venv/bin/apollonia serve $(ARGS)

test: venv
	.venv/bin/ruff check graph resolvers server workers tests bench
	.venv/bin/ruff format --check graph resolvers server workers tests bench
	.venv/bin/mypy
	.venv/bin/python -m pytest -q $(ARGS)

lint: venv
	.venv/bin/ruff check graph resolvers server workers tests bench
	.venv/bin/ruff format --check graph resolvers server workers tests bench
	.venv/bin/mypy

# The evaluation set of bench/accuracy.py (README: "How accurate is it?"): Debian's
# fluidsynth and soundfont (installed if missing), music21 and mir_eval, then ~180
# rendered scores in data/eval/ (outside git) and bench/eval_data/truth.csv.
.PHONY: eval-data accuracy
eval-data: venv
	bash bench/eval_data/deps.sh
	.venv/bin/python -m pip install --quiet -e '.[dev,eval]'
	nice .venv/bin/python -m bench.eval_data.build $(ARGS)

accuracy: venv
	nice .venv/bin/python -m bench.accuracy $(ARGS)
