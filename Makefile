# Kepu Cloud — the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
# uv from PATH, or the module a `pip install uv` left behind.
UV ?= $(shell command -v uv 2>/dev/null || (python3 -m uv --version >/dev/null 2>&1 && echo python3 -m uv) || echo uv-missing)
PROTO_SRC := $(shell find proto/kepu -name '*.proto')
PROTO_STAMP := proto/gen/.stamp
# The portal (Vue single-page app): installed from its lock file, built when a source changed.
WEB := gateway/web
WEB_SRC := $(shell find $(WEB)/src $(WEB)/public -type f 2>/dev/null) $(WEB)/index.html $(WEB)/vite.config.ts $(WEB)/tsconfig.json
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: run test proto sync engines lint typecheck unit e2e bench bench-data clean web web-test

$(PROTO_STAMP): $(PROTO_SRC)
	@if [ "$(UV)" = "uv-missing" ]; then echo "uv is needed: pip install uv" >&2; exit 1; fi
	rm -rf proto/gen && mkdir -p proto/gen
	$(UV) run --frozen --only-group dev python -m grpc_tools.protoc -Iproto \
	  --python_out=proto/gen --pyi_out=proto/gen --grpc_python_out=proto/gen $(PROTO_SRC)
	touch $(PROTO_STAMP)

proto: $(PROTO_STAMP)

$(WEB)/node_modules/.stamp: $(WEB)/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "Node.js 20+ and npm are needed to build the portal: apt-get install nodejs npm" >&2; exit 1; }
	cd $(WEB) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(WEB)/dist/index.html: $(WEB)/node_modules/.stamp $(WEB_SRC)
	cd $(WEB) && npx vue-tsc --noEmit && npx vite build --logLevel warn
	touch $@

web: $(WEB)/dist/index.html

# Vitest: the portal's components and stores (no browser, no stack).
web-test: $(WEB)/node_modules/.stamp
	cd $(WEB) && npm test --silent

sync: proto
	$(UV) sync --all-packages --group dev

run: sync web
	@if [ "$${KEPU_IDP:-embedded}" != embedded ] || [ "$${KEPU_BROKER:-tansu}" != tansu ]; then \
	  $(UV) run python -m kepu_devstack engines; fi
	$(UV) run python -m kepu_devstack run

# Keycloak and Apache Kafka for the tests on the production engines, fetched by Maven into
# ~/.m2 and unpacked under ~/.cache/kepu-engines (needs Java 17+ and Maven).
engines: sync
	@command -v java >/dev/null 2>&1 || { echo "Java 17+ is needed for Keycloak and Kafka: apt-get install openjdk-17-jdk-headless (or set JAVA_HOME)" >&2; exit 1; }
	@command -v mvn >/dev/null 2>&1 || { echo "Maven is needed to fetch Keycloak and Kafka: apt-get install maven" >&2; exit 1; }
	$(UV) run python -m kepu_devstack engines

lint: sync
	$(UV) run ruff check services gateway infra tests
	$(UV) run ruff format --check services gateway infra tests

typecheck: sync
	$(UV) run mypy --no-incremental services/common/src services/identity/src services/talent/src services/reporting/src services/projects/src services/assessment/src gateway/src infra/devstack/src

# Pure rules only (marker `unit`, set by kepu_devstack.pytest_plugin): no PostgreSQL, broker or Keycloak;
# with the check that no package has an import cycle.
unit: sync
	$(UV) run pytest services gateway infra/devstack tests/test_import_cycles.py -q -m unit

e2e: sync
	$(UV) run pytest tests -q

# The benchmark scripts (not tests): every figure next to its target and, for the read path,
# its monolith; one table at the end and .var/bench/results.json. KEPU_BENCH_FACTOR (default 1)
# scales the national data set (45,000 tenants, 10^6 talents ...) of bench_scale.
bench: sync
	$(UV) run python infra/devstack/bench/bench_all.py

# The national benchmark data (kepu_devstack.bench_data) COPYed into the dev stack's databases
# (.var, what `make run` serves), at KEPU_BENCH_FACTOR (default 1).
bench-data: sync
	$(UV) run python -m kepu_devstack.bench_data

test: lint typecheck engines web web-test
	$(UV) run pytest services gateway infra/devstack tests -q

clean:
	rm -rf proto/gen .var
