# Unit tests: one binary per module, linked with the core objects.
UNIT_SRCS := $(wildcard test/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:test/unit/%.c=$(BUILD)/unit/%)

$(BUILD)/unit/%: test/unit/%.c test/unit/unit.h $(CORE_OBJS) | $(BUILD)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Isrc -o $@ $< $(CORE_OBJS) $(LDFLAGS) $(LDLIBS)

test-build:: $(UNIT_BINS)
