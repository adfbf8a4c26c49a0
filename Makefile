# One target per habit. `make help` lists them; `make pr` runs what CI runs.
SHELL := /bin/bash
.DEFAULT_GOAL := help
FORGE := node_modules/.bin/forge
CARGO ?= cargo
export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres

.PHONY: help deps dev vc-vectors test test-contracts test-rust test-web test-sdk sdk-build slither fmt lint gen check-gen check-deploy bench bench-indexer bench-api pr

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

deps: node_modules/.installed ## Install the pinned toolchain (Foundry, solc, OpenZeppelin, snarkjs; Vite, TypeScript, Preact, playwright-core, axe-core; openapi-typescript, openapi-fetch) from npm

dev: deps ## Run jejak locally: anvil, contracts, a demo platform, the node and a demo workload
	$(CARGO) run -p jejak-node --bin jejak -- dev

test: deps lint check-gen check-deploy slither test-contracts test-web test-sdk test-rust ## Everything CI runs: lint, generated files, the operations kit, static analysis, forge tests, the web app's and the TypeScript SDK's unit tests, cargo tests (SQLite and PostgreSQL, the browser tests in Chromium)

test-contracts: deps ## Foundry tests and the gas snapshot check
	$(FORGE) build
	$(FORGE) test
	$(FORGE) snapshot --check

slither: deps ## Static analysis of the contracts (slither from PyPI, in .venv-slither); fails on any untriaged finding
	scripts/slither

test-web: deps ## The web app's unit tests (both languages complete, chart, QR, reason sentences) under node --test
	node_modules/.bin/tsc -p web/tsconfig.test.json
	node --test web/test/i18n.test.js web/test/wallet.test.js

sdk-build: deps ## Build the TypeScript SDK (sdk/typescript) into its dist/ with tsc
	node_modules/.bin/tsc -p sdk/typescript/tsconfig.json

test-sdk: sdk-build ## The TypeScript SDK's unit tests under node --test (webhook signatures against the node's testdata/ vectors, receipt checker against RFC 6962, the client with a recorded fetch, proof requests)
	cd sdk/typescript && node --test test/checker.test.js test/client.test.js test/proofreq.test.js test/webhooks.test.js

test-rust: deps ## Every Rust test, on SQLite and on PostgreSQL at DATABASE_URL (the browser tests install Debian's chromium if missing)
	scripts/ensure-postgres
	scripts/ensure-chromium
	$(CARGO) nextest run --workspace --no-fail-fast
	$(CARGO) test --workspace --doc

fmt: ## Format Rust and Solidity
	$(CARGO) fmt --all
	$(FORGE) fmt

lint: deps ## cargo fmt --check, clippy -D warnings, forge fmt --check
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(FORGE) fmt --check

gen: deps ## Regenerate committed files: contract ABIs for the bindings, the OpenAPI document, the TypeScript SDK's types, the Groth16 verifier, the configuration reference, the built web app
	scripts/web-build
	$(CARGO) run -q -p jejak-prover --bin jejak-zk-gen
	python3 scripts/gen-bindings.py
	$(CARGO) run -q -p jejak-api --bin jejak-openapi -- --write
	scripts/sdk-gen
	$(CARGO) run -q -p jejak-node --bin jejak -- config reference > docs/configuration.md

check-gen: deps ## Fail when committed generated files differ from a fresh generation
	python3 scripts/gen-bindings.py --check
	scripts/web-build --check
	$(CARGO) run -q -p jejak-api --bin jejak-openapi -- --check
	scripts/sdk-gen --check
	$(CARGO) run -q -p jejak-prover --bin jejak-zk-gen -- --check
	$(CARGO) run -q -p jejak-node --bin jejak -- config reference | diff -u docs/configuration.md - \
	  || { echo "docs/configuration.md is stale: run make gen" >&2; exit 1; }

check-deploy: ## The operations kit: promtool check and unit tests of the alert rules, systemd-analyze verify of the unit
	scripts/check-deploy

vc-vectors: deps ## Remake testdata/vc-jcs-digitalbazaar.json with Digital Bazaar's JavaScript VC libraries (same bytes: fixed keys and times)
	node scripts/vc-jcs-vectors.mjs

bench: deps ## Benchmarks (see BENCHMARKS.md)
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(CARGO) build --release -p jejak-node --bin jejak
	$(CARGO) bench --workspace

bench-indexer: deps ## The indexer backfill benchmark alone (1,000,000 events; BENCH_EVENTS to change)
	$(CARGO) build --release -p jejak-node --bin jejak
	$(CARGO) bench -p jejak-tests --bench indexer_backfill

bench-api: deps ## The verification API under wrk (installs Debian's wrk if missing)
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(CARGO) bench -p jejak-tests --bench api_verify

pr: test ## What CI runs
