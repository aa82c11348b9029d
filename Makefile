# Two entry points: `make demo` and `make test`. Both build the environment first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
OUT    := out

.PHONY: demo test lint env graphviz browser bench bench-load fhir-examples serve clean

$(BIN)/spinekb: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	@touch $@

# The `dot` program behind graphviz is a Debian package, not a PyPI one.
graphviz:
	@command -v dot >/dev/null 2>&1 || { \
	  echo "installing graphviz (dot)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq graphviz >/dev/null; }

env: $(BIN)/spinekb graphviz

# The browser tests (tests/browser) drive Debian's chromium through chromium-driver (Selenium);
# without them those tests skip with a message saying so.
browser:
	@command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 || { \
	  echo "installing chromium and chromium-driver (browser tests)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null \
	  || echo "could not install chromium: the browser tests will be skipped"; }

demo: env
	@mkdir -p $(OUT)
	$(BIN)/spinekb evaluate examples/cases
	$(BIN)/spinekb evaluate examples/cases --format jsonl > $(OUT)/decisions.jsonl
	$(BIN)/spinekb explain examples/cases/denied-no-trial.json --study 72148 > $(OUT)/denied-no-trial.txt
	$(BIN)/spinekb explain examples/cases/denied-no-trial.json --study 72148 --format svg -o $(OUT)/denied-no-trial.svg
	$(BIN)/spinekb explain examples/cases/denied-no-trial.json --study 72148 --format png -o $(OUT)/denied-no-trial.png
	@echo "decisions: $(OUT)/decisions.jsonl"
	@echo "why not (text): $(OUT)/denied-no-trial.txt"
	@echo "explanation graph: $(OUT)/denied-no-trial.svg and $(OUT)/denied-no-trial.png"

test: env browser
	$(BIN)/python -m pytest

# Issue 9. tests/explain/golden/: every example's explanation (text and JSON), regenerated; prints
# the diff. `make test` fails while the stored files differ from what explain says.
.PHONY: golden
golden: $(BIN)/spinekb
	$(BIN)/python tools/golden.py

# docs/guideline-findings.md: what `spinekb check` finds in the guideline text itself.
.PHONY: findings
findings: $(BIN)/spinekb
	$(BIN)/spinekb findings -o docs/guideline-findings.md

# ruff (defects: pyflakes, pycodestyle, bugbear) and mypy, configured in pyproject.toml
# mypy reads the package as installed: spinekb.<folder> for each top-level folder (a symlink tree,
# because the editable install maps folders through an import hook mypy cannot follow).
lint: env
	$(BIN)/ruff check .
	@rm -rf build/typecheck && mkdir -p build/typecheck/spinekb
	@for d in bridge explain cli kb; do ln -s ../../../$$d build/typecheck/spinekb/$$d; done
	cd build/typecheck && MYPYPATH=. ../../$(BIN)/mypy --config-file ../../pyproject.toml -p spinekb

bench: env
	$(BIN)/python bench/run.py

# the HTTP service under load: POST /evaluate and CDS Hooks order-sign, 2,000 requests each
bench-load: env
	$(BIN)/python bench/load.py --endpoint evaluate --requests 2000
	$(BIN)/python bench/load.py --endpoint hook --requests 2000

# examples/fhir: every example case as a FHIR R4 Bundle (a test holds the folder to this)
fhir-examples: $(BIN)/spinekb
	rm -f examples/fhir/*.json
	$(BIN)/spinekb fhir export examples/cases -o examples/fhir

serve: env
	$(BIN)/spinekb serve

# Issue 8. fuzz: the long hypothesis budget of tests/fuzz (`make test` runs a small one, ~20 s);
# it prints how many inputs were tried. FUZZ_SCALE=10 multiplies the budget.
# mutation: every numeric threshold of kb/*.lp moved by +-1 and every comparison flipped on its
# boundary, each against every YAML test of tests/kb; prints the kill rate and each survivor.
.PHONY: fuzz mutation
FUZZ_SCALE ?= 1
fuzz: env
	SPINEKB_FUZZ=long SPINEKB_FUZZ_SCALE=$(FUZZ_SCALE) $(BIN)/python -m pytest tests/fuzz -q -p no:cacheprovider

mutation: env
	$(BIN)/python tools/mutation.py

clean:
	rm -rf $(VENV) $(OUT) *.egg-info

# Pages for analysts and guideline authors (README: "For analysts and guideline authors")
.PHONY: report book witnesses
report: env
	@mkdir -p $(OUT)
	$(BIN)/spinekb evaluate examples/cases --format jsonl > $(OUT)/decisions.jsonl
	$(BIN)/spinekb report $(OUT)/decisions.jsonl -o $(OUT)/report.html

witnesses: env
	$(BIN)/spinekb check --witnesses $(OUT)/witnesses > /dev/null || true

book: env
	$(BIN)/spinekb book -o $(OUT)/site $$( [ -f $(OUT)/witnesses/index.json ] && echo --witnesses $(OUT)/witnesses )
