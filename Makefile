# Baton - build, run and test.
#
#   make run     install missing Debian packages, build, start baton serve
#                (make run LISTEN=127.0.0.1:9090 DB=./other.db CONFIG=my.yaml)
#   make test    install missing packages, build, run every test (unit,
#                integration, both again under ASan+UBSan, fuzz smoke)
#   make         build build/baton
#   make fuzz    run each fuzz target for FUZZ_SECONDS (default 60)
#   make bench   run the intake benchmark (see bench/README.md)
#   make bench-handoff  a million pending assignments: start-up, memory, deadline
#                lateness, routed intake (bench/handoff.sh; BENCH_ASSIGNMENTS=100000
#                for a quicker run)
#   make bench-deliver  webhooks delivered per second to a local receiver, and the
#                p99 from intake to the webhook's arrival at 1,000 leads/s (bench/deliver.py)
#   make lint-openapi  lint docs/openapi.yaml with Redocly's CLI (pinned in tools/openapi)
#
# Variables: BUILD (output folder), SANITIZE=1 (ASan+UBSan build), CC;
# for make run: LISTEN (default 127.0.0.1:8080), DB (./baton.db), CONFIG
# (examples/baton.yaml), CLOCK (an RFC 3339 time: a manual clock that
# POST /v1/admin/clock moves, to watch SLA deadlines pass without waiting).

BUILD    ?= build
CC       ?= cc
PKGS     := libmicrohttpd jansson sqlite3 libfyaml libcrypto libpcre2-8 icu-i18n icu-uc libcurl xgboost
PYTHON   ?= /usr/bin/python3

# make run's daemon. Plain assignments: a value on the command line wins, a
# stray CONFIG or DB in the environment does not.
LISTEN   = 127.0.0.1:8080
DB       = ./baton.db
CONFIG   = examples/baton.yaml
CLOCK    =

CFLAGS_BASE := -std=c11 -D_GNU_SOURCE -Isrc -g -Wall -Wextra -Werror -Wshadow \
               -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter \
               $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# libcsv and liblinear have no pkg-config file.
LDLIBS      := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lcsv -llinear -lpthread -lm

ifeq ($(SANITIZE),1)
CFLAGS_OPT  := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDFLAGS     += -fsanitize=address,undefined
else
CFLAGS_OPT  := -O2
endif
CFLAGS ?=
CFLAGS += $(CFLAGS_BASE) $(CFLAGS_OPT)

SRC_ALL   := $(shell find src -name '*.c' | sort)
SRC_MAIN  := src/cli/main.c
SRC_LIB   := $(filter-out $(SRC_MAIN),$(SRC_ALL))
OBJ_LIB   := $(SRC_LIB:%.c=$(BUILD)/obj/%.o)
OBJ_MAIN  := $(SRC_MAIN:%.c=$(BUILD)/obj/%.o)
LIB       := $(BUILD)/libbaton.a

UNIT_SRC  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

BENCH_SRC := $(sort $(wildcard bench/*.c))
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

FUZZ_SRC  := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_RUNS ?= 20000

.PHONY: all run deps test unit integration fuzz fuzz-smoke bench bench-handoff bench-deliver benches clean \
        format lint-openapi

# Keep object files that pattern rules chain through (fuzz objects).
.SECONDARY:

all: $(BUILD)/baton

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(LIB): $(OBJ_LIB)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/baton: $(OBJ_MAIN) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIB) $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS) -lcmocka

$(BUILD)/bench/%: bench/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

deps:
	@scripts/install-deps.sh

run: deps
	@$(MAKE) --no-print-directory all
	$(BUILD)/baton serve --config '$(CONFIG)' --db '$(DB)' --listen '$(LISTEN)'$(if $(CLOCK), --manual-clock '$(CLOCK)')

unit: $(UNIT_BIN)
	@scripts/run-unit-tests.sh $(UNIT_BIN)

integration: $(BUILD)/baton
	BATON_BIN=$(abspath $(BUILD)/baton) $(PYTHON) -m pytest -q -p no:cacheprovider tests/integration

# The OpenAPI description: no errors, no warnings (tools/openapi/redocly.yaml
# says why a rule is off).
REDOCLY := build/tools/openapi/node_modules/.bin/redocly
lint-openapi:
	@scripts/install-node-tools.sh
	REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true $(REDOCLY) lint \
	    --config tools/openapi/redocly.yaml --max-problems 50 docs/openapi.yaml

# The whole suite: plain build, then the same under ASan+UBSan, then fuzz smoke.
test: deps
	@$(MAKE) --no-print-directory lint-openapi
	@$(MAKE) --no-print-directory all unit integration benches
	@$(MAKE) --no-print-directory BUILD=build/asan SANITIZE=1 all unit integration
	@$(MAKE) --no-print-directory fuzz-smoke
	@echo "make test: all suites passed"

benches: $(BENCH_BIN)

bench: $(BUILD)/baton $(BENCH_BIN)
	bench/run.sh

bench-handoff: $(BUILD)/baton $(BENCH_BIN)
	BUILD=$(BUILD) bench/handoff.sh

bench-deliver: $(BUILD)/baton
	$(PYTHON) bench/deliver.py --baton $(BUILD)/baton

# libFuzzer targets, built with clang; objects compiled separately.
FUZZ_BUILD := build/fuzz
FUZZ_CFLAGS := $(CFLAGS_BASE) -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined
FUZZ_OBJ := $(SRC_LIB:%.c=$(FUZZ_BUILD)/obj/%.o)
FUZZ_BIN := $(FUZZ_SRC:fuzz/%.c=$(FUZZ_BUILD)/%)

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

$(FUZZ_BUILD)/%: fuzz/%.c $(FUZZ_OBJ)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJ) $(LDLIBS)

fuzz-smoke: $(FUZZ_BIN)
	@scripts/fuzz.sh smoke $(FUZZ_SMOKE_RUNS) $(FUZZ_BIN)

fuzz: $(FUZZ_BIN)
	@scripts/fuzz.sh long $(FUZZ_SECONDS) $(FUZZ_BIN)

format:
	clang-format -i $(SRC_ALL) $(wildcard src/*/*.h) $(UNIT_SRC) $(FUZZ_SRC) $(BENCH_SRC)

clean:
	rm -rf build

# The API description is built into the binary (.incbin in openapi.c).
$(BUILD)/obj/src/server/openapi.o $(FUZZ_BUILD)/obj/src/server/openapi.o: docs/openapi.yaml
# So is the forms' script (.incbin in api_forms.c).
$(BUILD)/obj/src/server/api_forms.o $(FUZZ_BUILD)/obj/src/server/api_forms.o: src/server/assets/form_embed.js
# And the dashboard's page, script and style (.incbin in api_ui.c).
$(BUILD)/obj/src/server/api_ui.o $(FUZZ_BUILD)/obj/src/server/api_ui.o: $(wildcard src/server/assets/ui/*)

-include $(shell find $(BUILD) $(FUZZ_BUILD) -name '*.d' 2>/dev/null)
