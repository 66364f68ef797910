# test/metrics' C unit test of the registry (src/metrics), linked with the core objects.
$(BUILD)/metricstest/test_metrics: test/metrics/test_metrics.c test/unit/unit.h $(CORE_OBJS) | $(BUILD)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Isrc -o $@ $< $(CORE_OBJS) $(LDFLAGS) $(LDLIBS)

test-build:: $(BUILD)/metricstest/test_metrics
