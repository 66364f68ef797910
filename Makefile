# pmilter build. `make` builds ./pmilter; `make test` installs what is missing,
# builds and runs every suite; `make run` starts the bundled config in the foreground.

CC       ?= cc
CXX      ?= c++
OPT      ?= -O2
SAN      ?=
CFLAGS   += -std=c11 -D_GNU_SOURCE -Isrc $(OPT) -g -Wall -Wextra -Wshadow -Wformat=2 -Wno-unused-parameter $(SAN)
CXXFLAGS += -std=c++17 -Isrc $(OPT) -g -Wall -Wextra $(SAN)
# libmilter statically, so that --wrap can reach into it: sigwait (prompt shutdown, src/core/signals.c)
# mi_rd_cmd (input repair, src/milter/milter_input.c), accept (no spin on EMFILE,
# src/milter/milter_accept.c), and read, writev, poll and close (fewer system calls on the MTA connections,
# src/milter/mta_read.c, which also notes the listener's polls: the systemd watchdog's heartbeat).
LDLIBS   += -l:libmilter.a -lmruby -lonig -lpcre2-8 -lhs -lunbound -lhiredis -lmicrohttpd -lsystemd -lopendkim -lopendmarc -lcrypto $(shell pkg-config --libs gmime-3.0 2>/dev/null) -lzip -lm -lpthread -lstdc++
WRAP_FLAGS := -Wl,--wrap=sigwait -Wl,--wrap=mi_rd_cmd -Wl,--wrap=accept -Wl,--wrap=poll -Wl,--wrap=read -Wl,--wrap=close -Wl,--wrap=writev
LDFLAGS  += $(WRAP_FLAGS) $(SAN)

BUILD    ?= build/default
# The test targets build their tree on every CPU (CI's 20 minutes: ~80 s saved on 2 CPUs).
NPROC    := $(shell nproc 2>/dev/null || echo 2)
BIN      ?= pmilter
# src/<layer>/*.c, one object tree mirroring it (DESIGN.md has the layers).
SRCS_C   := $(wildcard src/*/*.c)
HDRS     := $(wildcard src/*/*.h)
OBJS     := $(SRCS_C:src/%.c=$(BUILD)/%.o) $(BUILD)/core/config_toml.o
CORE_OBJS := $(filter-out $(BUILD)/core/main.o,$(OBJS))

.PHONY: all deps run test asan-test unit integration clean bench
all: deps $(BIN)

deps:
	@scripts/deps.sh scripts/packages/core.txt scripts/packages/dns.txt scripts/packages/kv.txt scripts/packages/metrics.txt scripts/packages/mime.txt scripts/packages/logs.txt scripts/packages/auth.txt

$(BIN): $(OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: src/%.c $(HDRS) | $(BUILD)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/core/config_toml.o: src/core/config_toml.cc src/core/config_toml.h | $(BUILD)
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) -c -o $@ $<

$(BUILD):
	mkdir -p $@

run: all
	./pmilter -c pmilter.conf

# Fragments owned by sub-projects add their own targets and test suites.
-include $(wildcard */*.mk) $(wildcard test/*/*.mk)

# The fuzz suite's full run is under make asan-test (its libFuzzer targets are ASan builds in
# both runs); here it is a 5 s smoke run against the plain build.
test: deps
	@scripts/deps.sh
	@$(MAKE) --no-print-directory -j$(NPROC) test-build
	@FUZZ_SECONDS=5 CONFIG_FUZZ_SECONDS=3 SPF_FUZZ_SECONDS=3 MIME_FUZZ_SECONDS=3 test/run.sh

# Everything the suites need besides ./pmilter (unit test binaries, client tools).
test-build:: $(BIN)

ASAN_VARS = BUILD=build/asan BIN=build/asan/pmilter OPT=-O1 \
    SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
# The same suites with AddressSanitizer + UBSan, from a separate build tree. To keep
# .ci/run under 20 minutes: the fuzzers for 6 + 3 + 3 + 3 s (`make fuzz` runs them
# longer), and without t_docs (the documentation's examples, 45 checks: make test runs them).
# The integration suite's declared floor ("# checks: N" in its run.sh); the sanitizer runs
# that leave files out lower it by those files' checks (here and test/tsan/tsan.mk).
INTEGRATION_CHECKS = $(shell sed -n 's/^\# checks: *\([0-9]*\).*/\1/p' test/integration/run.sh)
ASAN_INTEGRATION_FLOOR = $(shell echo $$(( $(INTEGRATION_CHECKS) - 45 )))
asan-test:
	@scripts/deps.sh
	@$(MAKE) --no-print-directory -j$(NPROC) $(ASAN_VARS) test-build
	@PMILTER=build/asan/pmilter BUILD=build/asan ASAN_OPTIONS=detect_leaks=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    FUZZ_SECONDS=$${FUZZ_SECONDS:-6} CONFIG_FUZZ_SECONDS=$${CONFIG_FUZZ_SECONDS:-3} \
	    SPF_FUZZ_SECONDS=$${SPF_FUZZ_SECONDS:-3} MIME_FUZZ_SECONDS=$${MIME_FUZZ_SECONDS:-3} \
	    SKIP_FILES="t_docs" CHECKS_integration=$(ASAN_INTEGRATION_FLOOR) test/run.sh

clean:
	rm -rf build pmilter

# src/mime (GMime): only its objects see GLib's include flags. Expanded when
# used (=, not :=), so that on a fresh machine it is read after `deps` installed GMime.
GMIME_CFLAGS = $(shell pkg-config --cflags gmime-3.0 2>/dev/null)
$(BUILD)/mime/%.o: CFLAGS += $(GMIME_CFLAGS)
