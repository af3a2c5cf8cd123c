# edged: build, test, sanitizers, fuzzing.
#
#   make              programs into bin/ (-O2 -g, warnings are errors)
#   make test         unit (Criterion) + fuzz corpus replay + integration tests
#   make SAN=1 test   the same with AddressSanitizer + UBSan, built in build/san/
#   make SAN=thread unit   the unit tests under ThreadSanitizer, built in build/tsan/
#                     (a data race fails the test: TSAN_OPTIONS below)
#   make deps         install the Debian packages in deps.txt (idempotent)
#   make soak         mixed load with faults for SOAK_MINUTES (10), not in CI
#   make fuzz         libFuzzer targets (clang) into build/fuzz/; make fuzz-run
#   make clean
#
# Object files carry -MMD dependencies, so a header change rebuilds what
# includes it.  Each mode has its own build directory.

SAN ?= 0
CC ?= cc
CFLAGS ?= -O2 -g
PKG_CONFIG ?= pkg-config

ifeq ($(SAN),1)
BUILD := build/san
BIN := build/san/bin
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# ASan gives every local its own padded slot: frame sizes are checked by
# the other builds, not this one
SANWARN := -Wno-frame-larger-than
else ifeq ($(SAN),thread)
BUILD := build/tsan
BIN := build/tsan/bin
SANFLAGS := -fsanitize=thread -fno-omit-frame-pointer
SANWARN :=
# a report fails the process that made it (Criterion then fails the test)
export TSAN_OPTIONS ?= halt_on_error=1 exitcode=66 second_deadlock_stack=1
else
BUILD := build/release
BIN := bin
SANFLAGS :=
SANWARN :=
endif

PKGS := gnutls inih libcjson libmicrohttpd hiredis
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wwrite-strings -Wformat=2 -Wvla -Wno-format-truncation -Wframe-larger-than=16384
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
CRIT_CFLAGS := $(shell $(PKG_CONFIG) --cflags criterion 2>/dev/null)
CRIT_LIBS := $(shell $(PKG_CONFIG) --libs criterion 2>/dev/null)
ifeq ($(SAN),thread)
# Criterion cannot start under TSan (tests/unit/crshim/criterion/criterion.h
# says why): the same tests build against that shim and its runner
UNIT_CFLAGS := -Itests/unit/crshim
UNIT_LIBS := -lm
UNIT_MAIN := $(BUILD)/tests/crshim_runner.o
else
UNIT_CFLAGS := $(CRIT_CFLAGS)
UNIT_LIBS := $(CRIT_LIBS)
UNIT_MAIN :=
endif

ALL_CFLAGS := -std=gnu11 $(CFLAGS) $(WARN) $(SANWARN) $(SANFLAGS) -Ilib -Iorigind -Iedged $(PKG_CFLAGS) -MMD -MP -pthread
ALL_LDFLAGS := $(LDFLAGS) $(SANFLAGS)

LIB_SRC := $(wildcard lib/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIBEDGE := $(BUILD)/libedge.a

ORIGIND_SRC := $(wildcard origind/*.c)
ORIGIND_OBJ := $(ORIGIND_SRC:%.c=$(BUILD)/%.o)

EDGED_SRC := $(wildcard edged/*.c)
EDGED_OBJ := $(EDGED_SRC:%.c=$(BUILD)/%.o)

PROGRAMS := $(BIN)/edgecert $(BIN)/edgecheck $(BIN)/origind $(BIN)/edged
TEST_TOOLS := $(BUILD)/tests/freeport
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=%)
REPLAY_BIN := $(FUZZ_NAMES:%=$(BUILD)/tests/replay_%)

.SECONDARY:
.PHONY: all test unit integration fuzz-replay deps clean fuzz fuzz-run check-deps bench demo compose-test soak
all: $(PROGRAMS)

check-deps:
	@$(PKG_CONFIG) --exists $(PKGS) || { \
	  echo "missing build dependencies ($(PKGS)); run 'make deps' first" >&2; exit 1; }

$(BUILD)/%.o: %.c | check-deps
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIBEDGE): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BIN)/edgecert: $(BUILD)/tools/edgecert.o $(LIBEDGE)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BIN)/edgecheck: $(BUILD)/tools/edgecheck.o $(LIBEDGE)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -pthread

$(BIN)/origind: $(ORIGIND_OBJ) $(LIBEDGE)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -pthread

$(BIN)/edged: $(EDGED_OBJ) $(LIBEDGE)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -pthread

# ---- tests ----------------------------------------------------------------

$(BUILD)/tests/%.o: tests/unit/%.c | check-deps
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes $(UNIT_CFLAGS) -c -o $@ $<

$(BUILD)/tests/crshim_runner.o: tests/unit/crshim/runner.c | check-deps
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(UNIT_CFLAGS) -c -o $@ $<

$(BUILD)/tests/test_%: $(BUILD)/tests/test_%.o $(UNIT_MAIN) $(LIBEDGE)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(UNIT_LIBS)

$(BUILD)/tests/freeport: tests/integration/freeport.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $<

# Fuzz targets also build as plain programs that replay the committed
# corpus, so every `make test` runs them (under ASan/UBSan with SAN=1).
$(BUILD)/tests/fuzz_%.o: tests/fuzz/fuzz_%.c | check-deps
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/tests/replay_%: $(BUILD)/tests/fuzz_%.o $(BUILD)/tests/fuzz/replay.o $(LIBEDGE)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

test: unit fuzz-replay integration

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t --jobs 2; done

fuzz-replay: $(REPLAY_BIN)
	@set -e; for n in $(FUZZ_NAMES); do \
	  $(BUILD)/tests/replay_$$n tests/fuzz/corpus/$$n; done

integration: $(PROGRAMS) $(TEST_TOOLS)
	@EDGED_SAN=$(SAN) EDGED_BIN=$(abspath $(BIN)) EDGED_TESTBIN=$(abspath $(BUILD)/tests) \
	  tests/integration/run.sh

# ---- fuzzing with libFuzzer (clang) ---------------------------------------

FUZZ_CC ?= clang
FUZZ_FLAGS := -std=gnu11 -O1 -g -fsanitize=fuzzer,address,undefined -Ilib $(PKG_CFLAGS)
FUZZ_BIN := $(FUZZ_NAMES:%=build/fuzz/fuzz_%)
FUZZ_TIME ?= 60

fuzz: $(FUZZ_BIN)

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(LIB_SRC) $(wildcard lib/*.h)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(LIB_SRC) $(PKG_LIBS)

# targets that include an origind module whole (origind is not in libedge.a)
build/fuzz/fuzz_org_path: origind/org_path.c origind/org_path.h

fuzz-run: $(FUZZ_BIN)
	@set -e; for n in $(FUZZ_NAMES); do \
	  mkdir -p build/fuzz/corpus_$$n; \
	  build/fuzz/fuzz_$$n -max_total_time=$(FUZZ_TIME) -artifact_prefix=build/fuzz/ \
	    -dict=tests/fuzz/$$n.dict build/fuzz/corpus_$$n tests/fuzz/corpus/$$n; \
	done

# ---- housekeeping ---------------------------------------------------------

deps:
	@scripts/deps.sh

# ---- the demo: the whole stack on this machine (scripts/demo.sh) -----------
demo:
	@scripts/deps.sh
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh

# ---- the compose demo, for real: build, up, edgecheck in the stack, down -----
# (scripts/compose-test.sh: a local Docker engine, docker-compose; no host build)
compose-test:
	@scripts/compose-test.sh

# ---- soak: a bounded mixed load with faults (scripts/soak.sh); not in CI ------
# SOAK_MINUTES (default 10), SOAK_INTERVAL, SOAK_WORKERS, SOAK_FAULT_EVERY,
# SOAK_DIR: see scripts/soak.sh
soak: $(PROGRAMS) $(TEST_TOOLS)
	@scripts/soak.sh "$(abspath $(BIN))" "$(abspath $(BUILD)/tests)"

# ---- benchmark against nginx (and other peers) ------------------------------
# The yardstick harness (nginx proxy_cache, Varnish, Traffic Server beside
# edged, interleaved rounds, medians and ratios) lives outside the repo;
# BENCH_DIR points at it.  BENCH_ARGS go to it as environment, e.g.
#   make bench BENCH_ARGS='PEERS=nginx ROUNDS=3 WORKLOADS="W1 W4 W5"'
BENCH_DIR ?= ../shared/bench
BENCH_ARGS ?= PEERS=nginx ROUNDS=3 DURATION=10 WARMUP=3
bench: $(PROGRAMS)
	@scripts/bench.sh "$(BENCH_DIR)" "$(abspath $(BIN))" $(BENCH_ARGS)

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)
