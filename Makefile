# The two commands of the README: `make serve` and `make test`. Both create or reuse
# .venv themselves.
.PHONY: serve test test-neo4j lint venv

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

# The whole suite on Neo4j 5.26 and Redis from docker-compose.yml, API and workers alike,
# with no FalkorDB started (needs Docker; NEO4J_PASSWORD in the environment or .env).
test-neo4j: venv
	docker compose up -d --wait neo4j redis
	NEO4J_URI=bolt://127.0.0.1:7687 NEO4J_USER=neo4j REDIS_URL=redis://127.0.0.1:6379/15 \
		$(MAKE) test

# The evaluation set of bench/accuracy.py (README: "How accurate is it?"): Debian's
# fluidsynth and soundfont (installed if missing), music21 and mir_eval, then ~160
# rendered scores in data/eval/ (outside git) and bench/eval_data/truth.csv. One pass
# over the corpus finds 80 major excerpts but only ~30 minor ones; a second pass, minor
# only and with a larger share per source, tops the minor half up; the two tables are
# merged (the second pass's rows win: it rendered those files last). A render that
# times out (fluidsynth on a loaded machine) skips its piece, so the set can differ.
.PHONY: eval-data accuracy
eval-data: venv
	bash bench/eval_data/deps.sh
	.venv/bin/python -m pip install --quiet -e '.[dev,eval]'
	nice .venv/bin/python -m bench.eval_data.build --truth data/eval/truth-first.csv $(ARGS)
	nice .venv/bin/python -m bench.eval_data.build --modes minor --per-mode 85 \
		--per-source 120 --truth data/eval/truth-minor.csv $(ARGS)
	.venv/bin/python -m bench.eval_data.build --merge data/eval/truth-first.csv \
		data/eval/truth-minor.csv --truth bench/eval_data/truth.csv
	$(MAKE) eval-train

# Extra training pieces for the tempo model (bench/train_models.py), never reported on:
# drawn with other seeds from corpus files that no piece of truth.csv comes from, into
# data/eval-train/ and bench/eval_data/truth-train.csv (~180 pieces; the classical
# corpus is nearly used up by the set, so they are chorales and folk tunes).
TRAIN = nice .venv/bin/python -m bench.eval_data.build --split train --out data/eval-train \
	--exclude bench/eval_data/truth.csv
.PHONY: eval-train
eval-train: venv
	$(TRAIN) --seed 13 --truth data/eval-train/truth-first.csv $(ARGS)
	$(TRAIN) data/eval-train/truth-first.csv --seed 14 --per-mode 60 --per-source 120 \
		--sources haydn,mozart,beethoven,schubert,schumann_robert,chopin,handel,corelli,joplin \
		--truth data/eval-train/truth-classical.csv $(ARGS)
	$(TRAIN) data/eval-train/truth-first.csv --seed 16 --per-mode 50 --per-source 100 \
		--sources ryansMammoth --truth data/eval-train/truth-ryans.csv $(ARGS)
	$(TRAIN) data/eval-train/truth-first.csv --seed 17 --per-mode 25 --per-source 50 \
		--sources bach --truth data/eval-train/truth-bach.csv $(ARGS)
	.venv/bin/python -m bench.eval_data.build --merge data/eval-train/truth-first.csv \
		data/eval-train/truth-classical.csv data/eval-train/truth-ryans.csv \
		data/eval-train/truth-bach.csv --truth bench/eval_data/truth-train.csv

accuracy: venv
	nice .venv/bin/python -m bench.accuracy $(ARGS)
