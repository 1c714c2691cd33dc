# goc: a thin wrapper around CMake/CTest.
#
#   make demo      install missing Debian packages, build, run the headline comparison
#                  (examples/compare.py --demo: asyncio model vs Go model vs asyncio)
#   make test      install missing packages, then build + ctest five ways:
#                  build/ (plain), build-asan/ (ASan+UBSan), build-tsan/ (TSan),
#                  build-check/ (GOC_ASSERTS: invariants and lock ranks, plus
#                  every test again under 3 GOC_CHAOS seeds at 1 and 4 workers),
#                  build-fuzz/ (clang libFuzzer: the regression corpus, then
#                  FUZZ_TEST_SECONDS of each harness); each build runs the
#                  soak at 10^6 operations (ctest -L soak); the plain one
#                  also model-checks the park protocol (ctest -L model)
#   make soak      the soak at SOAK_OPS operations (default 10^8) at 1, 2 and
#                  8 workers (build/tests/soak/goc-soak)
#   make fuzz      each libFuzzer harness for FUZZ_SECONDS (default 60)
#   make deps      install missing Debian packages (apt-get, as root or via sudo)
#   make build     configure and build in build/
#   make bench     build and run build/bench/goc-bench (BENCH_ARGS=...)
#   make compare   the comparison examples in both models beside their asyncio
#                  and Node.js twins: wall times and event order
#                  (examples/compare.py)
#   make bench-compare  goc-bench against the Go, Python and Node.js peers
#                  (bench/compare.sh); JSON and PNG charts in
#                  build/bench/results (bench/plot.py)
#   make scaling   goc and Go over 1, 2, 4 ... workers up to the cores
#                  (bench/scaling.sh): JSON and speedup charts there too
#   make deps-bench  install python3-matplotlib (the charts; not for make test)
#   make switchcost  coroutine vs thread vs process switch, memory per idle
#                  task, beside asyncio (bench/switchcost.c + its Python twin)
#   make trace     trace examples/blocking_call at 2 workers into
#                  build/blocking_call.trace.json (GOC_TRACE) and say how to
#                  open it (ui.perfetto.dev, chrome://tracing)
#   make install   install build/ into PREFIX (default /usr/local)
#   make clean     remove the build directories
#
# Variables: JOBS (build jobs; default: number of CPUs), CTEST_JOBS (2),
# SOAK_OPS (make soak; 100000000), FUZZ_SECONDS (make fuzz; 60),
# FUZZ_TEST_SECONDS (make test's fuzz stage; 30),
# BUILD_TYPE (RelWithDebInfo), CMAKE_FLAGS (extra -D options), BENCH_ARGS,
# COMPARE_ARGS (bench-compare; e.g. --quick), SCALING_ARGS (scaling; e.g.
# '--max-workers 16 --quick'), EXAMPLES_ARGS (compare; e.g.
# '--only blocking_call -v'), SWITCHCOST_ARGS (e.g. --quick).
.POSIX:
.SUFFIXES:

CMAKE       = cmake
CTEST       = ctest
JOBS        =
CTEST_JOBS  = 2
BUILD_TYPE  = RelWithDebInfo
CMAKE_FLAGS =
BENCH_ARGS  = all
COMPARE_ARGS =
SCALING_ARGS =
EXAMPLES_ARGS =
SWITCHCOST_ARGS =
PYTHON      = python3
SOAK_OPS    = 100000000
FUZZ_SECONDS = 60
FUZZ_TEST_SECONDS = 30
# The sanitizer, checked and fuzz builds need only the library and tests.
LEAN        = -DGOC_BUILD_BENCH=OFF -DGOC_BUILD_EXAMPLES=OFF
PREFIX      = /usr/local

# gcc-aarch64-linux-gnu, libc6-dev-arm64-cross and qemu-user let the tests
# run the aarch64 context switch under emulation (tests/cross/).
# spin model-checks the park protocol (tests/model, in the plain stage).
DEBS = libuv1-dev libhwloc-dev libcmocka-dev cmake pkg-config gcc libc6-dev \
       clang libclang-rt-dev golang-go python3 nodejs wrk libunwind-dev \
       gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user spin
# bench/plot.py's PNG charts (bench-compare, scaling)
BENCH_DEBS = python3-matplotlib

# The build's -j: $(JOBS), or the number of CPUs.
NJOBS = j="$(JOBS)"; j="$${j:-$$(nproc 2>/dev/null || echo 2)}"

all: build

# INSTALL_MISSING: the recipe that installs the Debian packages in $$pkgs
# that are not installed yet (apt-get, as root or via sudo).
INSTALL_MISSING = \
	if ! command -v dpkg >/dev/null 2>&1; then \
	  echo "$@: not a Debian system; install these yourself: $$pkgs"; exit 0; \
	fi; \
	missing=""; \
	for p in $$pkgs; do \
	  dpkg -s "$$p" 2>/dev/null | grep -q '^Status: install ok installed' || \
	    missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then echo "$@: all present"; exit 0; fi; \
	echo "$@: installing$$missing"; \
	if [ "$$(id -u)" -eq 0 ]; then sudo=""; \
	elif command -v sudo >/dev/null 2>&1; then sudo="sudo"; \
	else echo "$@: need root (or sudo) to install$$missing" >&2; exit 1; fi; \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get update && \
	$$sudo env DEBIAN_FRONTEND=noninteractive \
	  apt-get install -y --no-install-recommends $$missing

deps:
	@pkgs="$(DEBS)"; $(INSTALL_MISSING)

# The charts of bench-compare and scaling only: make test does without.
deps-bench:
	@pkgs="$(BENCH_DEBS)"; $(INSTALL_MISSING)

build:
	$(CMAKE) -S . -B build -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DGOC_SANITIZE=none $(CMAKE_FLAGS)
	@$(NJOBS); echo "$(CMAKE) --build build -j $$j"; $(CMAKE) --build build -j "$$j"

# deps before build even under make -j: build runs as a second step.
# The headline of the articles, in under a minute: the same programs on one
# worker (asyncio's model) and on all cores (Go's), next to asyncio itself.
demo: deps
	@$(MAKE) build
	$(PYTHON) examples/compare.py --build build --demo

# Each stage runs even when another failed; the target fails if any did.
test: deps
	@failed=""; \
	$(MAKE) test-plain || failed="$$failed plain"; \
	$(MAKE) test-asan  || failed="$$failed asan"; \
	$(MAKE) test-tsan  || failed="$$failed tsan"; \
	$(MAKE) test-check || failed="$$failed check"; \
	$(MAKE) test-fuzz  || failed="$$failed fuzz"; \
	if [ -n "$$failed" ]; then echo "make test: FAILED:$$failed" >&2; exit 1; fi; \
	echo "make test: plain, asan, tsan, check (asserts + chaos) and fuzz stages all passed"

test-plain: build
	$(CTEST) --test-dir build --output-on-failure -j $(CTEST_JOBS)

test-asan:
	$(CMAKE) -S . -B build-asan -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DGOC_SANITIZE=address $(LEAN) $(CMAKE_FLAGS)
	@$(NJOBS); echo "$(CMAKE) --build build-asan -j $$j"; $(CMAKE) --build build-asan -j "$$j"
	$(CTEST) --test-dir build-asan --output-on-failure -j $(CTEST_JOBS)

test-tsan:
	$(CMAKE) -S . -B build-tsan -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DGOC_SANITIZE=thread $(LEAN) $(CMAKE_FLAGS)
	@$(NJOBS); echo "$(CMAKE) --build build-tsan -j $$j"; $(CMAKE) --build build-tsan -j "$$j"
	$(CTEST) --test-dir build-tsan --output-on-failure -j $(CTEST_JOBS)

# GOC_ASSERTS on (sched/check.h), and every test again under GOC_CHAOS.
test-check:
	$(CMAKE) -S . -B build-check -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DGOC_SANITIZE=none \
	  -DGOC_ASSERTS=ON -DGOC_CHAOS_TESTS=ON $(LEAN) $(CMAKE_FLAGS)
	@$(NJOBS); echo "$(CMAKE) --build build-check -j $$j"; $(CMAKE) --build build-check -j "$$j"
	$(CTEST) --test-dir build-check --output-on-failure -j $(CTEST_JOBS)

# libFuzzer needs clang; the library is built with ASan+UBSan there.
fuzz-build:
	CC=clang $(CMAKE) -S . -B build-fuzz -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DGOC_SANITIZE=address \
	  -DGOC_FUZZ=ON $(LEAN) $(CMAKE_FLAGS)
	@$(NJOBS); echo "$(CMAKE) --build build-fuzz -j $$j"; $(CMAKE) --build build-fuzz -j "$$j"

test-fuzz: fuzz-build
	$(CTEST) --test-dir build-fuzz --output-on-failure -L fuzz
	sh tests/fuzz/fuzz.sh build-fuzz $(FUZZ_TEST_SECONDS)

fuzz: deps
	@$(MAKE) fuzz-build
	sh tests/fuzz/fuzz.sh build-fuzz $(FUZZ_SECONDS)

soak: deps
	@$(MAKE) build
	@for w in 1 2 8; do \
	  echo "SOAK_OPS=$(SOAK_OPS) build/tests/soak/goc-soak --workers $$w"; \
	  SOAK_OPS=$(SOAK_OPS) build/tests/soak/goc-soak --workers $$w || exit 1; \
	done

bench: build
	@if [ ! -x build/bench/goc-bench ]; then \
	  echo "bench: no build/bench/goc-bench (is bench/goc-bench.c there?)" >&2; exit 1; fi
	./build/bench/goc-bench $(BENCH_ARGS)

bench-compare: deps deps-bench
	@$(MAKE) build
	@if [ ! -f bench/compare.sh ]; then echo "bench-compare: no bench/compare.sh yet" >&2; exit 1; fi
	bash bench/compare.sh $(COMPARE_ARGS)

# scaling.sh builds what it runs itself (build-scaling/, the Go peer).
scaling: deps deps-bench
	bash bench/scaling.sh $(SCALING_ARGS)

# Each example with --workers 1, with all cores, and its asyncio and Node.js twins.
compare: deps
	@$(MAKE) build
	$(PYTHON) examples/compare.py --build build $(EXAMPLES_ARGS)

switchcost: deps
	@$(MAKE) build
	$(PYTHON) bench/peers/python/switchcost.py --goc build/bench/switchcost $(SWITCHCOST_ARGS)

# One worker blocked in usleep, the ticker moving to the other: the
# execution trace of the example's two phases.
trace: build
	GOC_TRACE=build/blocking_call.trace.json ./build/examples/blocking_call --workers 2
	@echo "trace: wrote build/blocking_call.trace.json; open it at https://ui.perfetto.dev"
	@echo "       (Open trace file) or in chrome://tracing (Load). Tracks: worker 0, worker 1;"
	@echo "       the blocker's 0.5 s slice on one worker, the ticker's runs on the other."

install: build
	$(CMAKE) --install build --prefix "$(PREFIX)"

clean:
	rm -rf build build-asan build-tsan build-check build-fuzz build-scaling

.PHONY: all deps deps-bench build demo test test-plain test-asan test-tsan test-check test-fuzz fuzz \
	fuzz-build soak bench compare bench-compare trace scaling \
        switchcost install clean
