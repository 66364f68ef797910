#!/bin/bash
# Regexp suite (src/regexp): differential tests against CRuby, plus the
# cases CRuby cannot judge (match limit, load-time literal check, threads).
# One line per case: "PASS: name" or "FAIL: name: why".
# Environment: SAN=1 builds with -fsanitize=address,undefined (also when BUILD
# names the asan tree, as `make asan-test` does); CC; BUILD (output under $BUILD/regexp).
# checks: 1227  (the least number of PASS/FAIL lines; test/run.sh enforces it; the suite checks its exact count at the end)
set -u
cd "$(dirname "$0")/../.." || exit 1
here=test/regexp

# Debian packages this suite needs (CI starts from a clean machine).
missing=""
for pkg in build-essential libmruby-dev libonig-dev libpcre2-dev ruby; do
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
# Every check prints one PASS/FAIL line through these; the suite exits
# non-zero if any failed or if fewer checks ran than it declares (the end).
failed=0 reported=0
pass() { echo "PASS: $1"; reported=$((reported + 1)); }
fail() { echo "FAIL: $1: $2"; reported=$((reported + 1)); failed=$((failed + 1)); }
# relay FILE: pass on the PASS/FAIL lines a sub-step wrote, counted.
relay() {
    local line
    while IFS= read -r line; do
        case "$line" in
        PASS:*) echo "$line"; reported=$((reported + 1)) ;;
        FAIL:*) echo "$line"; reported=$((reported + 1)); failed=$((failed + 1)) ;;
        esac
    done <"$1"
}
# clean_stderr FILE: no sanitizer report and no crash message in it.
clean_stderr() { ! grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: UndefinedBehaviorSanitizer|Segmentation|Aborted' "$1"; }

runner=$out/runner
if ! ${CC:-cc} $flags -o "$runner" -Isrc $here/runner.c src/regexp/*.c -lmruby -lonig -lpcre2-8 -lhs -lstdc++ -lm -lpthread; then
    fail "regexp build" "compiler failed"
    exit 1
fi
pass "regexp build (warning-free, sanitizers: $san)"

# The corpus size, counted from the corpus itself: each side must report
# exactly these cases ("#= name" lines, see gen.rb).
cases=$(cat $here/corpus/*.rb | grep -c '^#= ')

# 1. Differential corpus: the same cases under CRuby and under the runner.
rm -f "$out/cruby.rb" "$out/mruby.rb" "$out/expected.txt" "$out/actual.txt"
if ! ruby $here/gen.rb cruby "$out/cruby.rb" $here/corpus/*.rb 2>"$out/gen.stderr" ||
    ! ruby $here/gen.rb mruby "$out/mruby.rb" $here/corpus/*.rb 2>>"$out/gen.stderr"; then
    fail "corpus generator" "$(head -c 500 "$out/gen.stderr" | tr '\n' ' ')"
fi
ruby "$out/cruby.rb" >"$out/expected.txt" 2>"$out/cruby.stderr"
rc=$?
[ $rc -eq 0 ] && pass "CRuby ran the corpus" || fail "CRuby ran the corpus" "exit $rc: $(head -c 500 "$out/cruby.stderr" | tr '\n' ' ')"
timeout 300 "$runner" "$out/mruby.rb" >"$out/actual.txt" 2>"$out/stderr.txt"
rc=$?
if [ $rc -eq 0 ] && [ ! -s "$out/stderr.txt" ]; then pass "corpus runner: exit 0, empty stderr"
else fail "corpus runner" "exit $rc: $(head -c 2000 "$out/stderr.txt" | tr '\n' ' ')"; fi
ruby $here/compare.rb "$out/expected.txt" "$out/actual.txt" "" "$cases" >"$out/compare.txt" 2>&1 ||
    grep -q '^FAIL: ' "$out/compare.txt" || fail "compare" "$(head -c 500 "$out/compare.txt")"
relay "$out/compare.txt"

# 1a. The same corpus with every pattern forced onto Oniguruma (the test
# mode of src/regexp/re_pcre.c): step 1 ran each pattern PCRE2 can express
# on PCRE2, so every case has now run on both engines.
PMILTER_REGEXP_ENGINE=oniguruma timeout 300 "$runner" "$out/mruby.rb" >"$out/actual-onig.txt" 2>"$out/stderr-onig.txt"
rc=$?
if [ $rc -eq 0 ] && [ ! -s "$out/stderr-onig.txt" ]; then pass "corpus runner on Oniguruma only: exit 0, empty stderr"
else fail "corpus runner on Oniguruma only" "exit $rc: $(head -c 2000 "$out/stderr-onig.txt" | tr '\n' ' ')"; fi
ruby $here/compare.rb "$out/expected.txt" "$out/actual-onig.txt" "oniguruma: " "$cases" >"$out/compare-onig.txt" 2>&1 ||
    grep -q '^FAIL: ' "$out/compare-onig.txt" || fail "compare on Oniguruma" "$(head -c 500 "$out/compare-onig.txt")"
relay "$out/compare-onig.txt"

# 1b. The same corpus inside a running pmilter: the generated script is the
# eom handler, one message played by pmilter-client runs it, and the
# handler's stdout is compared with CRuby's output. pmilter must exit 0 on
# SIGTERM with no sanitizer report (LeakSanitizer too, under asan).
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
    kill -TERM $pm_pid
    wait $pm_pid
    prc=$?
    [ $crc -eq 0 ] && pass "corpus handler ran in pmilter" ||
        fail "corpus handler ran in pmilter" "client exit $crc: $(head -c 500 "$site/client.out" "$site/stderr" | tr '\n' ' ')"
    if [ $prc -eq 0 ] && clean_stderr "$site/stderr"; then pass "pmilter with the corpus handler: exit 0 on SIGTERM, no sanitizer report"
    else fail "pmilter with the corpus handler" "exit $prc: $(grep -m3 -E 'ERROR|runtime error|SUMMARY' "$site/stderr" | tr '\n' ' ')"; fi
    ruby $here/compare.rb "$out/expected.txt" "$site/stdout" "in pmilter: " "$cases" >"$out/compare-pm.txt" 2>&1 ||
        grep -q '^FAIL: ' "$out/compare-pm.txt" || fail "compare in pmilter" "$(head -c 500 "$out/compare-pm.txt")"
    relay "$out/compare-pm.txt"
    rm -rf "$site"
else
    fail "corpus in pmilter" "$pm or $client not built (make test-build)"
fi

# 1c. Pmilter::RuleSet inside a running pmilter: a handler file that builds
# its set at the top (run at every callback; the VM's set is reused) and
# prints what the set matched, for two messages.
if [ -x "$pm" ] && [ -x "$client" ]; then
    site=$(mktemp -d /tmp/pmilter-ruleset.XXXXXX)
    cat >"$site/eom.rb" <<'RB'
RULES = Pmilter::RuleSet.new({spam: /viagra/i, ip_url: %r{http://\d+\.\d+\.\d+\.\d+/}, "win" => /\bwin\b/, latin: /caf./})
puts "ruleset: #{RULES.match(Pmilter::Session.new.body.to_s).inspect} #{RULES.fallback_names.inspect} #{RULES.object_id}"
RB
    printf '[server]\nlisten = "%s/pm.sock"\nmin_worker = 1\nmax_worker = 1\n[handler.session]\nmruby_eom_handler = "eom.rb"\n' "$site" >"$site/pmilter.conf"
    printf 'From: <a@example.com>\nTo: <b@example.com>\nSubject: s\n\nBuy VIAGRA at http://192.0.2.1/ and win\n' >"$site/m1.eml"
    printf 'From: <a@example.com>\nTo: <b@example.com>\nSubject: s\n\nnothing but caf\xe9 here\n' >"$site/m2.eml"
    "$pm" -c "$site/pmilter.conf" >"$site/stdout" 2>"$site/stderr" &
    pm_pid=$!
    for _ in $(seq 200); do [ -S "$site/pm.sock" ] && break; sleep 0.05; done
    for m in m1 m1 m2; do "$client" -s "unix:$site/pm.sock" "$site/$m.eml" --timeout 60 >>"$site/client.out" 2>&1; done
    kill -TERM $pm_pid
    wait $pm_pid
    prc=$?
    got=$(grep '^ruleset: ' "$site/stdout" | sed 's/ [0-9]*$//' | tr '\n' '|')
    ids=$(grep '^ruleset: ' "$site/stdout" | awk '{print $NF}' | sort -u | wc -l)
    want='ruleset: [:spam, :ip_url, "win"] ["win"]|ruleset: [:spam, :ip_url, "win"] ["win"]|ruleset: [:latin] ["win"]|'
    [ "$got" = "$want" ] && [ "$ids" = 1 ] && pass "RuleSet in pmilter: matches for two messages, one set per VM across callbacks" ||
        fail "RuleSet in pmilter" "got '$got' ($ids set ids), want '$want': $(head -c 500 "$site/stderr" "$site/client.out" | tr '\n' ' ')"
    if [ $prc -eq 0 ] && clean_stderr "$site/stderr"; then pass "pmilter with a RuleSet handler: exit 0 on SIGTERM, no sanitizer report"
    else fail "pmilter with a RuleSet handler" "exit $prc: $(grep -m3 -E 'ERROR|runtime error|SUMMARY' "$site/stderr" | tr '\n' ' ')"; fi
    rm -rf "$site"
fi

# 2. Cases with a documented expectation and no CRuby counterpart: each
# check() prints a line; the file must also exit 0 with a clean stderr.
# Each file runs on both engines (the limits too); engines.rb and alloc.rb
# only in the default mode (they check PCRE2's engine choice and hot path).
own_checks=0
for engine in default oniguruma; do
    for f in $here/own/*.rb; do
        [ "$(basename "$f")" = threads.rb ] && continue
        case $engine:$(basename "$f") in oniguruma:engines.rb | oniguruma:alloc.rb) continue ;; esac
        n=$(grep -c '^check(' "$f")
        own_checks=$((own_checks + n))
        args=()
        [ "$(basename "$f")" = memory.rb ] && args=(--charge-limit 2000000)
        label=""
        [ $engine = oniguruma ] && label="oniguruma: "
        cat $here/check.rb "$f" >"$out/own.rb" # check() for the file; mruby has no require
        PMILTER_REGEXP_ENGINE=$engine timeout 120 "$runner" "${args[@]}" "$out/own.rb" 2>"$out/own.stderr" |
            sed "s/^\(PASS\|FAIL\): /\1: $label/" >"$out/own.out"
        rc=${PIPESTATUS[0]}
        relay "$out/own.out"
        got=$(grep -cE '^(PASS|FAIL): ' "$out/own.out")
        if [ $rc -ne 0 ] || [ "$got" -ne "$n" ] || ! clean_stderr "$out/own.stderr"; then
            fail "$label$(basename "$f")" "exit $rc, $got of $n checks reported: $(head -c 1000 "$out/own.stderr" | tr '\n' ' ')"
        fi
    done
done

# 2b. Fuzz the Ruby->PCRE2 translation: random patterns (fuzz.rb, seed
# FUZZ_SEED, FUZZ_COUNT of them), each run by CRuby and by the runner; a
# pattern on PCRE2 must give CRuby's answers (fuzz_judge.rb), one line.
fz=$out/fuzz
rm -rf "$fz" && mkdir -p "$fz"
if ruby $here/fuzz.rb "${FUZZ_SEED:-1}" "${FUZZ_COUNT:-300}" "$fz" 2>"$fz/gen.stderr"; then
    for f in "$fz"/fuzz*.rb; do
        b=${f%.rb}
        ruby $here/gen.rb cruby "$b.cruby" "$f" && ruby $here/gen.rb mruby "$b.mruby" "$f"
        ruby "$b.cruby" >"$b.expected" 2>/dev/null
        timeout 120 "$runner" "$b.mruby" >"$b.actual" 2>>"$fz/stderr"
        ruby $here/compare.rb "$b.expected" "$b.actual" "" "$(grep -c '^#= ' "$f")" >"$b.compare"
    done
    timeout 60 "$runner" "$fz/engines.rb" >"$fz/engines.txt" 2>>"$fz/stderr"
    ruby $here/fuzz_judge.rb "fuzz seed ${FUZZ_SEED:-1}" "$fz/engines.txt" "$fz"/fuzz*.compare >"$fz/judge.txt"
    relay "$fz/judge.txt"
    [ -s "$fz/judge.txt" ] || fail "fuzz judge" "no verdict"
    clean_stderr "$fz/stderr" || fail "fuzz runner" "$(head -c 500 "$fz/stderr" | tr '\n' ' ')"
else
    fail "fuzz generator" "$(head -c 500 "$fz/gen.stderr" | tr '\n' ' ')"
fi

# 3. Load-time check of literals (pm_regexp_check_irep) names file and line.
got=$("$runner" --check $here/check/bad_literal.rb)
case "$got" in
"-1 $here/check/bad_literal.rb:7: end pattern with unmatched parenthesis: /(foo/") pass "check_irep finds bad literal at line 7" ;;
*) fail "check_irep finds bad literal at line 7" "got '$got'" ;;
esac
got=$("$runner" --check $here/check/bad_nested.rb)
case "$got" in
"-1 $here/check/bad_nested.rb:5: "*"/[a-/i") pass "check_irep looks inside methods and blocks" ;;
*) fail "check_irep looks inside methods and blocks" "got '$got'" ;;
esac
got=$("$runner" --check $here/check/good.rb)
[ "$got" = "0" ] && pass "check_irep accepts good literals" || fail "check_irep accepts good literals" "got '$got'"

# 4. Several VMs in several threads at once (one VM per thread); threads.rb
# raises on any wrong result, and the runner counts the threads that raised.
got=$(timeout 120 "$runner" --threads 4 $here/own/threads.rb 2>&1)
[ "$got" = "0 of 4 threads failed" ] && pass "4 threads, one VM each" || fail "4 threads, one VM each" "$got"

# 5. The last-match scan (re_reads.c): each reads/*.rb says by its name
# whether it reads the last-match state (yes_*: $~, $1, eval, send with a
# computed name...); the runner must agree, and must also say "reads" once
# an unknown opcode or a cut-short SEND is appended to the file's code
# ("R U T" = "x 1 1"). The generated files have over 256 symbols and pool
# strings, so their instructions carry OP_EXT2 prefixes (mruby caps
# registers below 256, so EXT1/EXT3 are rarer).
gen=$out/reads
rm -rf "$gen" && mkdir -p "$gen"
ruby -e '
  body = (0...150).map { |i| "v#{i} = #{i}" } + (0...300).map { |i| "v#{i % 150}.m#{i}(\"s#{i}\")" }
  File.write(ARGV[0] + "/no_ext_prefixes.rb", (body + ["p v149.send(:to_s, v148)", "p :upcase.to_proc, v1 =~ /x/"]).join("\n") + "\n")
  File.write(ARGV[0] + "/yes_ext_send_computed.rb", (body + ["p v149.send(v148)"]).join("\n") + "\n")
  File.write(ARGV[0] + "/yes_ext_nth.rb", (body + ["v1 =~ /x/", "p $1"]).join("\n") + "\n")
' "$gen"
reads_checks=0
for f in $here/reads/*.rb "$gen"/*.rb; do
    name=$(basename "$f" .rb)
    reads_checks=$((reads_checks + 1))
    case $name in yes_*) want="1 1 1" ;; *) want="0 1 1" ;; esac
    got=$("$runner" --reads "$f" 2>&1)
    [ "$got" = "$want" ] && pass "last-match scan: $name" ||
        fail "last-match scan: $name" "got '$got', want '$want' ($(head -1 "$f"))"
done

# What this suite declares it runs: 3 x corpus (runner on both engines,
# pmilter) + the own/ checks (on both engines) + 13 fixed lines (build,
# CRuby, runner x2, pmilter x2, RuleSet in pmilter x2, check_irep x3, threads, fuzz); an own/ file
# adds a line only when it fails; plus one line per last-match scan file.
want=$((3 * cases + own_checks + reads_checks + 13))
if [ $reported -lt $want ]; then
    fail "regexp suite ran every check" "$reported reported, $want declared (corpus $cases cases, own $own_checks)"
fi
[ $failed -eq 0 ]
