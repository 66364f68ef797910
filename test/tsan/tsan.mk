# make tsan-test: the integration and load suites against a ThreadSanitizer build of pmilter
# (build/tsan), docs/testing.md "ThreadSanitizer". mruby and libmilter are linked from Debian's
# uninstrumented static libraries; test/tsan/suppressions.txt says which of their reports are
# suppressed and why. Any other report makes pmilter exit 66 and the suites fail.
TSAN_VARS = BUILD=build/tsan BIN=build/tsan/pmilter OPT="-O1" SAN="-fsanitize=thread -fno-omit-frame-pointer"
TSAN_SUITES ?= integration load
# t_docs runs the documentation's examples (single-threaded handler code, 45 checks) and took
# 116 s under TSan against 48 s without: make test and make asan-test run it; here it is left out
# to keep .ci/run under 20 minutes, and the integration floor is the suite's own less those 45.
TSAN_SKIP_FILES ?= t_docs
TSAN_INTEGRATION_FLOOR ?= $(shell echo $$(( $$(sed -n 's/^\# checks: *\([0-9]*\).*/\1/p' test/integration/run.sh) - 45 )))

.PHONY: tsan-test tsan-build
tsan-build:
	@scripts/deps.sh
	@$(MAKE) --no-print-directory -j$(NPROC) $(TSAN_VARS) build/tsan/pmilter build/tsan/pmilter-client

tsan-test: tsan-build
	@PMILTER=build/tsan/pmilter BUILD=build/tsan SUITES="$(TSAN_SUITES)" \
	    SKIP_FILES="$(TSAN_SKIP_FILES)" CHECKS_integration=$(TSAN_INTEGRATION_FLOOR) \
	    TSAN_OPTIONS="halt_on_error=0 exitcode=66 second_deadlock_stack=1 suppressions=$(CURDIR)/test/tsan/suppressions.txt $(TSAN_OPTIONS)" \
	    test/run.sh
