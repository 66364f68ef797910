# test/dns: dnsq drives the C API of src/dns (no mruby) for test/dns/run.sh.
$(BUILD)/dns/dnsq: test/dns/dnsq.c $(BUILD)/dns/dns.o $(BUILD)/core/alloc.o $(BUILD)/core/log.o
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN) -o $@ $^ -lunbound -lsystemd -lpthread

test-build:: $(BUILD)/dns/dnsq

# make bench-dns (bench/dns.sh): libunbound against libc, and a DNSBL handler's throughput.
$(BUILD)/dns/dns_compare: bench/dns_compare.c $(BUILD)/dns/dns.o $(BUILD)/core/alloc.o $(BUILD)/core/log.o
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN) -o $@ $^ -lunbound -lresolv -lsystemd -lpthread

.PHONY: bench-dns
bench-dns: bench-build $(BUILD)/dns/dns_compare
	@scripts/deps.sh scripts/packages/dns.txt
	@BUILD=$(BUILD) PMILTER=$(BIN) bench/dns.sh
