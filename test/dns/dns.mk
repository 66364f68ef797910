# test/dns: dnsq drives the C API of src/dns (no mruby) for test/dns/run.sh.
$(BUILD)/dns/dnsq: test/dns/dnsq.c $(BUILD)/dns/dns.o $(BUILD)/core/alloc.o $(BUILD)/core/log.o
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN) -o $@ $^ -lunbound -lpthread

test-build:: $(BUILD)/dns/dnsq
