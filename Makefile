# Stacks & Offers: build, test and publish the site.
# Every target that needs Python sets up .venv first (once per change of
# requirements.txt), so a fresh clone needs only python3 (3.11+) and make.

PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTHON := $(BIN)/python
STAMP := $(VENV)/.installed-requirements.txt

INPUTDIR := $(CURDIR)/content
OUTPUTDIR := $(CURDIR)/output
CONFFILE := $(CURDIR)/pelicanconf.py
PUBLISHCONF := $(CURDIR)/publishconf.py
PELICAN := $(BIN)/pelican
PELICANOPTS ?=
BUILDOPTS ?=

PORT ?= 8000
BIND ?= 127.0.0.1

SSH_HOST ?= localhost
SSH_PORT ?= 22
SSH_USER ?= $(USER)
SSH_TARGET_DIR ?= /var/www/stacks-and-offers
GITHUB_PAGES_BRANCH ?= gh-pages
GITHUB_PAGES_REMOTE ?=
GITHUB_PAGES_COMMIT_MESSAGE ?= Publish the site

TITLE ?=
ITEM ?=
REASON ?=
SOURCE ?=
FILE ?=
IMPORTOPTS ?=
NOTIFYOPTS ?=
DATA ?=
PREDICTIONS ?=
PYTEST_ARGS ?=
TEST_JOBS ?= 2
BENCH_N ?= 1000 5000
BENCH_RUNS ?= 3
BENCH_MAX_REPLIES ?= 40

.DEFAULT_GOAL := help

help: ## List every target
	@echo 'Stacks & Offers: Makefile targets'
	@echo
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
	  awk 'BEGIN {FS = ":.*## "}; {printf "  make %-16s %s\n", $$1, $$2}'
	@echo
	@echo 'Variables: PORT=$(PORT) BIND=$(BIND) SITEURL=... (publish) TITLE="..." (new-thread, new-post)'
	@echo '           SSH_HOST SSH_PORT SSH_USER SSH_TARGET_DIR (rsync_upload) PYTEST_ARGS TEST_JOBS=2 (test)'
	@echo '           BUILDOPTS=--no-search (html, publish: skip the search index)'
	@echo '           BUILDOPTS=--full (html, publish: build everything anew, reusing nothing from earlier builds)'
	@echo '           ITEM=slug#reply-id REASON="..." (takedown) NOTIFYOPTS=--dry-run (notify)'
	@echo '           SOURCE=... FILE=... IMPORTOPTS=--force|--dry-run (import) GITHUB_PAGES_REMOTE=... (github)'
	@echo '           DATA=... PREDICTIONS=... (topics-eval) BENCH_N BENCH_RUNS BENCH_MAX_REPLIES (bench)'
	@echo '           SEARCH_SHARD_SIZE=1000 (html, publish: pages per part of the search index)'

venv: $(STAMP) ## Create .venv and install the pinned dependencies (skipped when unchanged)

# Content, not time, decides: the stamp is a copy of the lock it installed.
$(STAMP): requirements.txt
	@if cmp -s requirements.txt $(STAMP) 2>/dev/null; then touch $(STAMP); else \
	  echo "Setting up $(VENV) from requirements.txt ..." && \
	  $(PY) -m venv $(VENV) && \
	  $(PYTHON) -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.txt && \
	  cp requirements.txt $(STAMP); fi

# axe-core and the Nu HTML Checker for the browser and validity tests, pinned in
# package-lock.json. Without npm the tests that need them are skipped, saying so.
NODE_STAMP := node_modules/.installed-package-lock.json

node-tools: ## Install axe-core and vnu.jar with `npm ci` (skipped when unchanged, or without npm)
	@if cmp -s package-lock.json $(NODE_STAMP) 2>/dev/null; then :; \
	elif command -v npm >/dev/null 2>&1; then \
	  npm ci --no-audit --no-fund --loglevel=error && cp package-lock.json $(NODE_STAMP); \
	else echo "npm not found: browser and HTML-validity tests will be skipped"; fi

html: venv ## Build the site with pelicanconf.py into output/ (reports problems, still builds)
	$(PYTHON) tools/build.py --settings $(CONFFILE) --output $(OUTPUTDIR) $(BUILDOPTS)

publish: venv ## Build the real site with publishconf.py; fails, leaving output/ as it was, on any problem
	$(PYTHON) tools/build.py --settings $(PUBLISHCONF) --output $(OUTPUTDIR) --strict $(BUILDOPTS)

clean: ## Remove output/, old builds and caches (keeps .venv)
	rm -rf $(OUTPUTDIR) .site-versions .pytest_cache __pycache__ cache
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +

regenerate: venv ## Rebuild into output/ whenever content changes: the edited page first, then the rest
	$(PYTHON) tools/devserver.py --no-serve -o $(OUTPUTDIR) -s $(CONFFILE)

serve: venv ## Serve output/ (the last make publish or make html) at http://127.0.0.1:8000/, working locally
	$(PYTHON) tools/serve.py -o $(OUTPUTDIR) -p $(PORT) -b $(BIND)

devserver: venv ## Serve, and rebuild on every save: the edited page first, then the rest (PORT=8000)
	$(PYTHON) tools/devserver.py -o $(OUTPUTDIR) -s $(CONFFILE) -p $(PORT) -b $(BIND)

new-thread: venv ## Write a skeleton thread, as a draft: make new-thread TITLE="Do I tell the dean?"
	@test -n "$(TITLE)" || { echo 'Give the title: make new-thread TITLE="..."'; exit 2; }
	$(PYTHON) tools/new_thread.py --kind thread --title "$(TITLE)" --content $(INPUTDIR)

new-post: venv ## Write a skeleton blog post, as a draft: make new-post TITLE="What I learned from ten rejections"
	@test -n "$(TITLE)" || { echo 'Give the title: make new-post TITLE="..."'; exit 2; }
	$(PYTHON) tools/new_thread.py --kind post --title "$(TITLE)" --content $(INPUTDIR)

import: venv ## Import: make import SOURCE=wordpress|reddit|disqus|discourse|email|form FILE=path [IMPORTOPTS=--force]
	@test -n "$(SOURCE)" -a -n "$(FILE)" || { echo 'Give both: make import SOURCE=wordpress FILE=export.xml'; exit 2; }
	$(PYTHON) tools/import_content.py "$(SOURCE)" "$(FILE)" --content $(INPUTDIR) $(IMPORTOPTS)

pending: venv ## List readers' questions and replies awaiting moderation, and personal data in readers' text
	$(PYTHON) tools/pending.py --content $(INPUTDIR)

notify: venv ## E-mail readers who asked for it the replies published since the last run (NOTIFYOPTS=--dry-run)
	$(PYTHON) tools/notify.py --content $(INPUTDIR) --settings $(PUBLISHCONF) $(NOTIFYOPTS)

takedown: venv ## Withdraw at its author's request: make takedown ITEM=slug#reply-id (or ITEM=slug) REASON="..."
	@test -n "$(ITEM)" -a -n "$(REASON)" || { echo 'Give both: make takedown ITEM=below-current-pay#p1 REASON="asked by the author"'; exit 2; }
	$(PYTHON) tools/takedown.py "$(ITEM)" --reason "$(REASON)" --content $(INPUTDIR)

topics-report: venv ## Print every post's and thread's topics with their evidence; write topics-report.json
	$(PYTHON) tools/tagging.py report --settings $(CONFFILE) --json topics-report.json

topics-eval: venv ## Measure the tagger: make topics-eval DATA=items.jsonl [PREDICTIONS=out.jsonl]
	@test -n "$(DATA)" || { echo 'Give the data: make topics-eval DATA=items.jsonl [PREDICTIONS=out.jsonl]'; exit 2; }
	$(PYTHON) tools/tagging.py eval "$(DATA)" $(if $(PREDICTIONS),--predictions "$(PREDICTIONS)")

topics-train: venv ## Retrain the topic tagger's learned layer (content/topics-model.json) after editing content/topics.toml
	$(PYTHON) tools/train_topics.py --folds 5

share-image: venv ## Redraw the theme's share image (1200x630 PNG) from SITENAME and SITESUBTITLE, in headless Chromium
	$(PYTHON) tools/share_image.py --settings $(CONFFILE)

bench: venv ## Benchmark against vanilla Pelican (BENCH_N="1000 5000", BENCH_RUNS=3, BENCH_MAX_REPLIES=40); appends to bench/results.md
	BENCH_N="$(BENCH_N)" BENCH_RUNS="$(BENCH_RUNS)" BENCH_MAX_REPLIES="$(BENCH_MAX_REPLIES)" $(PYTHON) tools/bench.py

test: venv node-tools ## Run the test suite on TEST_JOBS=2 processes (TEST_JOBS=0: in this one), PYTEST_ARGS=...
	$(PYTHON) -m pytest -n $(TEST_JOBS) --dist loadfile $(PYTEST_ARGS)

lint: venv ## ruff check and ruff format --check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv ## Apply ruff's formatting and safe fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

lock: venv ## Re-pin requirements.txt (with hashes) from requirements.in
	$(PYTHON) -m pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras -o requirements.txt requirements.in

rsync_upload: publish ## Publish, then rsync output/ to SSH_USER@SSH_HOST:SSH_TARGET_DIR
	rsync -e "ssh -p $(SSH_PORT)" -P -rvzc --include tags --cvs-exclude --delete "$(OUTPUTDIR)"/ "$(SSH_USER)@$(SSH_HOST):$(SSH_TARGET_DIR)"

github: ## Publish, then push output/ to the gh-pages branch of the remote you name: make github GITHUB_PAGES_REMOTE=origin
	@test -n "$(GITHUB_PAGES_REMOTE)" || { echo 'Name the remote to push the site to: make github GITHUB_PAGES_REMOTE=origin (see docs/deploy.md)'; exit 2; }
	$(MAKE) publish
	$(BIN)/ghp-import -m "$(GITHUB_PAGES_COMMIT_MESSAGE)" -b $(GITHUB_PAGES_BRANCH) "$(OUTPUTDIR)" --no-jekyll
	git push "$(GITHUB_PAGES_REMOTE)" $(GITHUB_PAGES_BRANCH)

.PHONY: help venv node-tools html publish clean regenerate serve devserver new-thread new-post import pending notify takedown topics-report topics-eval topics-train \
	share-image bench test lint format lock rsync_upload github
