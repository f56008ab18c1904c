# The two commands a new machine needs (see README.md):
#   make demo   a local cluster (real controllers, Argo Rollouts) + Prometheus: `kubectl vroute status` and a live canary
#   make test   formatting, lints, unit tests and the integration suite against a real control plane
.PHONY: setup test demo

CARGO ?= cargo

setup:
	@bash tests/setup.sh

test: setup
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets --locked -- -D warnings
ifeq ($(VROUTE_SKIP_INTEGRATION),1)
	@echo "VROUTE_SKIP_INTEGRATION=1: SKIPPING the integration suite (real control plane and Prometheus)"
	$(CARGO) test --locked --lib --bins
else
	$(CARGO) test --locked
endif

demo: setup
	$(CARGO) build --locked --bins
	$(CARGO) run --locked --example demo
