# User entry points: `make demo` and `make test` install what is missing, build, and run.
.PHONY: all deps configure build test test-unit test-slow test-sanitize format format-check demo bench fuzz clean

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
test: build format-check
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -LE slow
	@$(MAKE) --no-print-directory test-sanitize

# The unit and command-line tests again, built with AddressSanitizer + UndefinedBehaviorSanitizer.
test-sanitize: deps
	@cmake --preset asan >/dev/null
	@cmake --build build-asan -j $(JOBS)
	@cd build-asan && ctest --output-on-failure -j $(JOBS) -L "unit|cli"

# Every C++ file as .clang-format says (Debian's clang-format); `make format` rewrites them.
FORMATTED = $(shell find include src cli python tests bench fuzz examples -name '*.cc' -o -name '*.h' | sort)
format-check: deps
	@clang-format --dry-run --Werror $(FORMATTED)

format: deps
	@clang-format -i $(FORMATTED)

test-slow: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -L slow

# Fuzz the image readers and the model loader (clang, libFuzzer) for a fixed number of inputs.
fuzz: deps
	@scripts/fuzz.sh $(FUZZ_RUNS)

demo: build
	@/usr/bin/python3 scripts/demo.py

# Every kernel and solver at 3 sizes, 1 and 2 threads; then the peers side by side (1 thread).
bench: build
	@scripts/install-deps.sh bench
	@$(BUILD)/bin/blade_bench
	@/usr/bin/python3 bench/peers.py

clean:
	rm -rf $(BUILD) build-debug build-asan build-fuzz out
