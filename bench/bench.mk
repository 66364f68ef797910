# `make bench`: pmilter against a bare libmilter milter (bench/baseline.c), interleaved in
# one run, results in bench/results/LATEST.md (bench/run.sh, then bench/idle.sh); then the
# DNS, KV and MIME scenarios (make bench-dns, make bench-kv, make bench-mime: test/dns/dns.mk,
# test/kv/kv.mk, test/mime/mime.mk).
# `make bench-seed` runs the first part alone.
# `make soak`: N messages (SOAK_N, default 1000000) through pmilter, RSS sampled (bench/soak.sh).
.PHONY: soak bench-build bench-seed

$(BUILD)/bench-baseline: bench/baseline.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< -l:libmilter.a -lpthread

$(BUILD)/bench-idlehold: bench/idlehold.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $<

BENCH_DEPS = scripts/packages/core.txt scripts/packages/client.txt scripts/packages/bench.txt

bench-build:
	@scripts/deps.sh $(BENCH_DEPS)
	@$(MAKE) --no-print-directory $(BIN) pmilter-client $(BUILD)/bench-baseline $(BUILD)/bench-idlehold

bench-seed: bench-build
	@BUILD=$(BUILD) PMILTER=$(BIN) bench/run.sh

bench: bench-seed
	@$(MAKE) --no-print-directory bench-dns bench-kv bench-mime

soak: bench-build
	@BUILD=$(BUILD) PMILTER=$(BIN) bench/soak.sh $(SOAK_N)
