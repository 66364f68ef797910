# make tsan-test: the integration and load suites against a ThreadSanitizer build of pmilter
# (build/tsan), docs/testing.md "ThreadSanitizer". mruby and libmilter are linked from Debian's
# uninstrumented static libraries; test/tsan/suppressions.txt says which of their reports are
# suppressed and why. Any other report makes pmilter exit 66 and the suites fail.
TSAN_VARS = BUILD=build/tsan BIN=build/tsan/pmilter OPT="-O1" SAN="-fsanitize=thread -fno-omit-frame-pointer"
TSAN_SUITES ?= integration load
# Left out here, to keep .ci/run under 20 minutes (make test and make asan-test run them):
# t_docs runs the documentation's examples (single-threaded handler code, 45 checks; 116 s
# under TSan against 48 s without); t_cli (30 checks: command-line parsing), t_privileges
# (35: dropping root), t_fd_limit (11: the open-file limit) and t_regexp (29: Regexp in a
# handler) exercise no thread pmilter's other files do not. The integration floor is the
# suite's own less those 150 checks.
TSAN_SKIP_FILES ?= t_docs t_cli t_privileges t_fd_limit t_regexp
TSAN_INTEGRATION_FLOOR ?= $(shell echo $$(( $(INTEGRATION_CHECKS) - 150 )))

.PHONY: tsan-test tsan-build
tsan-build:
	@scripts/deps.sh
	@$(MAKE) --no-print-directory -j$(NPROC) $(TSAN_VARS) build/tsan/pmilter build/tsan/pmilter-client

tsan-test: tsan-build
	@PMILTER=build/tsan/pmilter BUILD=build/tsan SUITES="$(TSAN_SUITES)" \
	    SKIP_FILES="$(TSAN_SKIP_FILES)" CHECKS_integration=$(TSAN_INTEGRATION_FLOOR) \
	    TSAN_OPTIONS="halt_on_error=0 exitcode=66 second_deadlock_stack=1 suppressions=$(CURDIR)/test/tsan/suppressions.txt $(TSAN_OPTIONS)" \
	    test/run.sh
