#!/bin/bash
# Regexp suite (src/regexp): differential tests against CRuby, plus the
# cases CRuby cannot judge (match limit, load-time literal check, threads).
# One line per case: "PASS: name" or "FAIL: name: why".
# Environment: SAN=1 builds with -fsanitize=address,undefined (also when BUILD
# names the asan tree, as `make asan-test` does); CC; BUILD (output under $BUILD/regexp).
set -u
cd "$(dirname "$0")/../.." || exit 1
here=test/regexp

# Debian packages this suite needs (CI starts from a clean machine).
missing=""
for pkg in build-essential libmruby-dev libonig-dev ruby; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
    echo "regexp: installing$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing >/dev/null || exit 1
fi

# SAN=1 (or the asan-test build tree) builds and runs everything sanitized.
san=0
case "${SAN:-}:${BUILD:-}" in 1:* | *sanitize*:* | *:*asan*) san=1 ;; esac
out=${BUILD:-build/default}/regexp
[ $san = 1 ] && out=$out-san
mkdir -p "$out"
flags="-std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wformat=2 -Werror -g -O1"
if [ $san = 1 ]; then
    flags="$flags -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
    export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fi
runner=$out/runner
if ! ${CC:-cc} $flags -o "$runner" -Isrc $here/runner.c src/regexp/*.c -lmruby -lonig -lm -lpthread; then
    echo "FAIL: regexp build"
    exit 1
fi
echo "PASS: regexp build (warning-free, sanitizers: $san)"

# 1. Differential corpus: the same cases under CRuby and under the runner.
ruby $here/gen.rb cruby "$out/cruby.rb" $here/corpus/*.rb
ruby $here/gen.rb mruby "$out/mruby.rb" $here/corpus/*.rb
ruby "$out/cruby.rb" >"$out/expected.txt" 2>&1
timeout 300 "$runner" "$out/mruby.rb" >"$out/actual.txt" 2>"$out/stderr.txt"
rc=$?
ruby $here/compare.rb "$out/expected.txt" "$out/actual.txt"
if [ $rc -ne 0 ] || [ -s "$out/stderr.txt" ]; then
    echo "FAIL: corpus runner: exit $rc: $(head -c 2000 "$out/stderr.txt" | tr '\n' ' ')"
fi

# 1b. The same corpus inside a running pmilter: the generated script is the
# eom handler, one message played by pmilter-client runs it, and the
# handler's stdout is compared with CRuby's output.
pm=${PMILTER:-./pmilter}
client=${BUILD:-build/default}/pmilter-client
if [ -x "$pm" ] && [ -x "$client" ]; then
    site=$(mktemp -d /tmp/pmilter-regexp.XXXXXX)
    cp "$out/mruby.rb" "$site/eom.rb"
    printf '[server]\nlisten = "%s/pm.sock"\n[handler.session]\nmruby_eom_handler = "eom.rb"\n' "$site" >"$site/pmilter.conf"
    printf 'From: <a@example.com>\nTo: <b@example.com>\nSubject: regexp corpus\n\nbody\n' >"$site/m.eml"
    "$pm" -c "$site/pmilter.conf" >"$site/stdout" 2>"$site/stderr" &
    pm_pid=$!
    for _ in $(seq 200); do [ -S "$site/pm.sock" ] && break; sleep 0.05; done
    "$client" -s "unix:$site/pm.sock" "$site/m.eml" --timeout 300 >"$site/client.out" 2>&1
    crc=$?
    kill -TERM $pm_pid; wait $pm_pid
    [ $crc -eq 0 ] && echo "PASS: corpus handler ran in pmilter" ||
        echo "FAIL: corpus handler ran in pmilter: client exit $crc: $(head -c 500 "$site/client.out" "$site/stderr" | tr '\n' ' ')"
    ruby $here/compare.rb "$out/expected.txt" "$site/stdout" "in pmilter: "
    rm -rf "$site"
else
    echo "FAIL: corpus in pmilter: $pm or $client not built (make test-build)"
fi

# 2. Cases with a documented expectation and no CRuby counterpart.
for f in $here/own/limits.rb; do
    timeout 120 "$runner" "$f" 2>"$out/own.stderr" || echo "FAIL: $(basename "$f"): exit $?: $(head -c 2000 "$out/own.stderr" | tr '\n' ' ')"
done

# 3. Load-time check of literals (pm_regexp_check_irep) names file and line.
got=$("$runner" --check $here/check/bad_literal.rb)
case "$got" in
"-1 $here/check/bad_literal.rb:7: end pattern with unmatched parenthesis: /(foo/") echo "PASS: check_irep finds bad literal at line 7" ;;
*) echo "FAIL: check_irep finds bad literal at line 7: got '$got'" ;;
esac
got=$("$runner" --check $here/check/bad_nested.rb)
case "$got" in
"-1 $here/check/bad_nested.rb:5: "*"/[a-/i") echo "PASS: check_irep looks inside methods and blocks" ;;
*) echo "FAIL: check_irep looks inside methods and blocks: got '$got'" ;;
esac
got=$("$runner" --check $here/check/good.rb)
[ "$got" = "0" ] && echo "PASS: check_irep accepts good literals" || echo "FAIL: check_irep accepts good literals: got '$got'"

# 4. Several VMs in several threads at once (one VM per thread).
got=$(timeout 120 "$runner" --threads 4 $here/own/threads.rb 2>&1)
[ "$got" = "0 of 4 threads failed" ] && echo "PASS: 4 threads, one VM each" || echo "FAIL: 4 threads, one VM each: $got"
exit 0
