# User entry points: `make demo` and `make test` install what is missing, build, and run.
.PHONY: all deps configure build test test-unit test-slow demo bench clean

JOBS ?= $(shell nproc)
BUILD := build

all: build

deps:
	@scripts/install-deps.sh

configure: deps
	@cmake --preset release >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

# The whole suite: unit (GoogleTest), CLI, Python cross-checks; slow checks have their own target.
test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -LE slow

test-slow: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -L slow

demo: build
	@/usr/bin/python3 scripts/demo.py

bench: build
	@$(BUILD)/bin/blade_bench

clean:
	rm -rf $(BUILD) build-debug build-asan out
