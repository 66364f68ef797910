# make bench-mime (bench/mime.sh): an eom handler walking s.mime, and one rewriting it.
.PHONY: bench-mime
bench-mime: bench-build
	@scripts/deps.sh scripts/packages/mime.txt
	@BUILD=$(BUILD) PMILTER=$(BIN) bench/mime.sh
