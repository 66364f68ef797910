# test/kv's C unit test of the memory backend (src/kv), linked with the core objects.
$(BUILD)/kvtest/test_kv_mem: test/kv/test_kv_mem.c test/unit/unit.h $(CORE_OBJS) | $(BUILD)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Isrc -o $@ $< $(CORE_OBJS) $(LDFLAGS) $(LDLIBS)

test-build:: $(BUILD)/kvtest/test_kv_mem

# make bench-kv: bench/kv.sh, the rate-limit scenario on both backends against the seed.
.PHONY: bench-kv
bench-kv: bench-build
	@scripts/deps.sh scripts/packages/kv.txt
	@BUILD=$(BUILD) PMILTER=$(BIN) bench/kv.sh
