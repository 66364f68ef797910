# Headers#add / #[]= check their two arguments in C without mrb_get_args
# (src/ruby/mrb_headers.c two_cstrs): the same errors a handler saw before,
# and a good call still adds the header and returns the value String.
CLIENT=$REPO/${BUILD:-build/default}/pmilter-client
new_site headers_args
handler eom 'h = Pmilter::Session::Headers.new
[["X-One"], ["X-A", 1], [:sym, "v"], ["X-B\0c", "v"], ["X-C", "v\0w"], ["X-D", nil], ["X-F", "ok", 3], ["X-G", "ok"]].each do |args|
  begin
    puts "add#{args.size}: ok #{h.add(*args).inspect}"
  rescue => e
    puts "add#{args.size}: #{e.class}: #{e.message}"
  end
end
v = "same"
puts "[]= returns its value: #{(h["X-I"] = v).equal?(v)}"'
start_pmilter "$CONF" || fail "headers_args: start" "$(cat "$PM_ERR")"
printf 'From: a@x\nTo: b@y\nSubject: s\n\nbody\n' >"$D/m.eml"
got=$("$CLIENT" -s "unix:$SOCK" "$D/m.eml" 2>&1)
out_has "headers_args: one argument" "add1: ArgumentError: wrong number of arguments (given 1, expected 2)"
out_has "headers_args: three arguments" "add3: ArgumentError: wrong number of arguments (given 3, expected 2)"
out_has "headers_args: an Integer value" "add2: TypeError: Integer cannot be converted to String"
out_has "headers_args: a Symbol name" "add2: TypeError: Symbol cannot be converted to String"
out_has "headers_args: a nil value" "add2: TypeError: nil cannot be converted to String"
[ "$(tr -d '\r' <"$PM_OUT" | grep -c '^add2: ArgumentError: string contains null byte$')" = 2 ] &&
    pass "headers_args: a NUL in name or value" || fail "headers_args: a NUL in name or value" "$(cat "$PM_OUT")"
out_has "headers_args: a good call returns the value" 'add2: ok "ok"'
out_has "headers_args: []= returns the value String itself" "[]= returns its value: true"
if grep -q 'add header: X-G: ok' <<<"$got" && grep -q 'add header: X-I: same' <<<"$got" && [ "$(grep -c 'add header' <<<"$got")" = 2 ]; then
    pass "headers_args: only the good calls reach the MTA"
else fail "headers_args: only the good calls reach the MTA" "$got"; fi
stop_clean "headers_args"
