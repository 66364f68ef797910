# test/spf: spf_suite runs src/auth/spf.c (no mruby, no DNS server) against the
# RFC 7208 test suite (test/spf/run.sh).
$(BUILD)/spf/spf_suite: test/spf/spf_suite.c $(BUILD)/auth/spf.o $(BUILD)/dns/dns.o $(BUILD)/core/alloc.o $(BUILD)/core/log.o
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN) -o $@ $^ -lunbound -lsystemd -lpthread

test-build:: $(BUILD)/spf/spf_suite
