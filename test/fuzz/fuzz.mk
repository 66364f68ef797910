# Fuzzing (docs/fuzzing.md).
#   $(BUILD)/milterfuzz       frame-level fuzzer: a hostile MTA against a running pmilter (test/fuzz/run.sh)
#   build/fuzz/config_fuzz    libFuzzer target for the config loader, built with clang from its own
#                             object tree (fuzzer + ASan + UBSan instrumentation on every core object)
#   build/fuzz/mime_fuzz      libFuzzer target for src/mime (parse, walk, edit, rebuild, parse again)
#   make fuzz                 60 s of frame fuzzing against the ASan build, plus the config fuzzer
FUZZ_DIR     := build/fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS  := -std=c11 -D_GNU_SOURCE -O1 -g -Wall -Wno-unused-parameter -fsanitize=fuzzer-no-link $(FUZZ_SAN)
FUZZ_CXXFLAGS := -std=c++17 -O1 -g -fsanitize=fuzzer-no-link $(FUZZ_SAN)
FUZZ_OBJS    := $(patsubst $(BUILD)/%,$(FUZZ_DIR)/%,$(CORE_OBJS))

$(BUILD)/milterfuzz: test/fuzz/milterfuzz.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< -lpthread $(SAN)

$(FUZZ_DIR)/%.o: src/%.c $(HDRS)
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -Isrc -c -o $@ $<

$(FUZZ_DIR)/core/config_toml.o: src/core/config_toml.cc src/core/config_toml.h
	@mkdir -p $(@D)
	clang++ $(FUZZ_CXXFLAGS) -Isrc -c -o $@ $<

$(FUZZ_DIR)/config_fuzz.o: test/fuzz/config_fuzz.c src/core/config.h
	@scripts/deps.sh scripts/packages/fuzz.txt
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -Isrc -c -o $@ $<

# Linked by clang++ so that UBSan's C++ runtime (vptr checks in toml++) comes along.
$(FUZZ_DIR)/config_fuzz: $(FUZZ_DIR)/config_fuzz.o $(FUZZ_OBJS)
	clang++ -fsanitize=fuzzer $(FUZZ_SAN) $(WRAP_FLAGS) -o $@ $^ -l:libmilter.a -lmruby -lonig -lpcre2-8 -lhs -lunbound -lhiredis -lmicrohttpd -lsystemd -lopendkim -lopendmarc -lcrypto $(shell pkg-config --libs gmime-3.0 2>/dev/null) -lzip -lm -lpthread

MIME_FUZZ_OBJS := $(FUZZ_DIR)/mime/mime.o $(FUZZ_DIR)/mime/mime_edit.o $(FUZZ_DIR)/mime/mime_urls.o
$(FUZZ_DIR)/mime_fuzz.o: test/fuzz/mime_fuzz.c src/mime/mime.h
	@scripts/deps.sh scripts/packages/fuzz.txt
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -Isrc -c -o $@ $<

$(FUZZ_DIR)/mime_fuzz: $(FUZZ_DIR)/mime_fuzz.o $(MIME_FUZZ_OBJS)
	clang -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $^ $(shell pkg-config --libs gmime-3.0 2>/dev/null) -lpthread

test-build:: $(BUILD)/milterfuzz $(FUZZ_DIR)/config_fuzz $(FUZZ_DIR)/mime_fuzz

.PHONY: fuzz
fuzz:
	@scripts/deps.sh scripts/packages/fuzz.txt
	@$(MAKE) --no-print-directory $(ASAN_VARS) build/asan/pmilter build/asan/milterfuzz build/asan/pmilter-client $(FUZZ_DIR)/config_fuzz $(FUZZ_DIR)/mime_fuzz
	@PMILTER=build/asan/pmilter BUILD=build/asan FUZZ_SECONDS=$${FUZZ_SECONDS:-60} CONFIG_FUZZ_SECONDS=$${CONFIG_FUZZ_SECONDS:-60} \
	    test/fuzz/run.sh
$(FUZZ_DIR)/mime/%.o: FUZZ_CFLAGS += $(shell pkg-config --cflags gmime-3.0 2>/dev/null)
