# Jericho: two commands do everything on a fresh machine.
#   make demo   # install into .venv, run the small Mirror recipe on CPU, print its results table
#   make test   # install into .venv, run the test suite
# File targets below let `make -j` (or a cluster wrapper) build data, checkpoints, scores, RESULTS.md.

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(abspath $(VENV))/bin
export PATH := $(BIN):$(PATH)

.PHONY: install demo test test-all bench results clean audio-tools browser
install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# torch first, pinned: the CPU build lies on disk here; an open range would pull CUDA wheels
	$(BIN)/pip install -q torch==2.13.0 || $(BIN)/pip install -q "torch>=2.1,<2.14"
	$(BIN)/pip install -q -e '.[test]'
	touch $@

# Programs outside the project whose audio, or whose reading of ours, the tests check: sox (audio made
# by another program), minimodem (keyed carrier), multimon-ng (DTMF), espeak-ng (spoken symbols).
# Best effort (needs root + apt); the tests that need one skip, and say so, without it.
AUDIO_TOOLS = sox minimodem multimon-ng espeak-ng
audio-tools:
	@for t in $(AUDIO_TOOLS); do command -v $$t >/dev/null 2>&1 || missing="$$missing $$t"; done; \
	  [ -z "$$missing" ] || { command -v apt-get >/dev/null 2>&1 && \
	  (apt-get install -y -qq $$missing || (apt-get update -qq && apt-get install -y -qq $$missing)) \
	  >/dev/null 2>&1; } || true

# Chromium and its driver make the results page's browser test real; best effort, as audio-tools
browser:
	@{ command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; } || \
	  { command -v apt-get >/dev/null 2>&1 && (apt-get install -y -qq chromium chromium-driver || \
	    (apt-get update -qq && apt-get install -y -qq chromium chromium-driver)) >/dev/null 2>&1; } || true

test: install audio-tools browser
	$(BIN)/python -m pytest -q -rs

test-all: install audio-tools browser
	$(BIN)/python -m pytest -q -rs -m ''

demo: install
	recipes/mirror/run.sh

bench: install
	$(BIN)/python benchmarks/bench.py | tee outputs/bench/bench_cpu.md

# Every RESULTS.md below its marker line is generated from the kept runs under outputs/<study>/
# (copy finished runs there with recipes/utils/keep_outputs.sh recipes/<study>/exp/<run>...):
# one per recipe, the top level's headline table over each task's default model, and the page.
STUDIES = mirror bracket mod multitask cores state_tracking transfer
# each task's default (recipes/<task>/conf/train_cpu.yaml), kept runs by name
HEADLINE = $(wildcard outputs/mirror/mirror_cpu_seed[0-9]/score_*/summary.json \
  outputs/bracket/bracket_cpu_w8_cont_int2_seed[0-9]/score_*/summary.json \
  outputs/mod/mod_cpu_robust_sc_6k_mix_seed[0-9]/score_*/summary.json \
  outputs/multitask/multitask_cpu_int2_full_seed[0-9]/score_*/summary.json)
results: install
	for s in $(STUDIES); do \
	  jericho report --book --update recipes/$$s/RESULTS.md outputs/$$s/*/score_*/summary.json || exit 1; done
	jericho report --book --update recipes/analysis/RESULTS.md \
	  outputs/analysis/*/probe_*/summary.json outputs/analysis/*/prune/*/summary.json
	@echo 'jericho report --book --headline --update RESULTS.md <each task default model>'
	@jericho report --book --headline --update RESULTS.md $(HEADLINE)
	# the page: each task's default model and the robust runs of each task (for the SNR plot), the examples
	@echo 'jericho report --html outputs/report <the same + the robust runs>'
	@jericho report --html outputs/report --by none --examples examples/audio/index.jsonl $(HEADLINE) \
	  $(wildcard outputs/*/*_cpu_robust*_seed[0-9]/score_*/summary.json)

# ---- real file targets over the Mirror recipe's stages (`make -j2 recipes/mirror/exp/mirror_cpu_seed0/RESULTS.md`);
# the commands live in the recipe (recipes/utils/recipe.sh), the Makefile only says what depends on what
M = recipes/mirror
E = $(M)/exp/mirror_cpu_seed0
MIRROR_SETS = test_iid test_ood_length test_ood_symbol robust_snr10
MIRROR_DATA = $(foreach s,$(MIRROR_SETS),$(M)/data/mirror/$(s)/manifest.jsonl)
MIRROR_SCORES = $(foreach s,$(MIRROR_SETS),$(E)/score_mirror_$(s)/summary.json)
$(M)/data/mirror/%/manifest.jsonl: | install
	$(M)/run.sh --stage 0 --stop-stage 0 --sets mirror/$*
$(E)/best.pt: | install
	$(M)/run.sh --stage 1 --stop-stage 1
$(MIRROR_SCORES) &: $(E)/best.pt $(MIRROR_DATA)
	$(M)/run.sh --stage 2 --stop-stage 3
$(E)/RESULTS.md: $(MIRROR_SCORES)
	$(M)/run.sh --stage 4 --stop-stage 4

clean:
	rm -rf $(M)/data $(M)/exp
