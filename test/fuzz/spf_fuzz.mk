# build/fuzz/spf_fuzz: libFuzzer target for src/auth/spf.c (test/fuzz/spf_fuzz.c), run by
# test/fuzz/run.sh over test/fuzz/corpus/spf for SPF_FUZZ_SECONDS (default 10).
$(FUZZ_DIR)/spf_fuzz.o: test/fuzz/spf_fuzz.c src/auth/spf.h
	@scripts/deps.sh scripts/packages/fuzz.txt
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -Isrc -c -o $@ $<

$(FUZZ_DIR)/spf_fuzz: $(FUZZ_DIR)/spf_fuzz.o $(FUZZ_DIR)/auth/spf.o $(FUZZ_DIR)/dns/dns.o $(FUZZ_DIR)/core/alloc.o $(FUZZ_DIR)/core/log.o
	clang -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $^ -lunbound -lsystemd -lpthread

test-build:: $(FUZZ_DIR)/spf_fuzz
fuzz: $(FUZZ_DIR)/spf_fuzz
