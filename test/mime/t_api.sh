# Session#mime's edges: where it may be called, what it keeps, its limits and
# what an uncaught LimitError does; decode_header, subject, attachments.
C=test/mime/corpus
# eom_code CODE: the site's eom handler becomes CODE (s is the Session).
eom_code() { printf 's = Pmilter::Session.new\n%s\n' "$1" >"$D/handler/eom.rb"; }

mime_site api
eom_code 'puts "sizes #{s.mime.parts.map { |p| p.size }.inspect}"
puts "attachments #{s.mime.attachments.map { |p| p.filename }.inspect}"
puts "texts #{s.mime.text_parts.map { |p| p.content_type }.inspect}"
puts "subject #{s.subject}"
puts "decoded #{Pmilter::MIME.decode_header("=?ISO-8859-1?Q?caf=E9?= =?UTF-8?B?w7w=?=")}"
puts "same #{s.mime.content_type == s.mime.content_type} depth #{s.mime.depth} params #{s.mime.params["boundary"]}"
puts "all #{s.mime.each_part.to_a.size} headers #{s.mime.headers.map { |h| h[0] }.include?("Subject")}"'
start_pmilter "$CONF" || { fail "mime api: start" "pmilter did not start"; return; }
play $C/12-mixed-exe.eml
# the handler names no Session#body: naming mime alone keeps headers and body
out_has "mime api: s.mime alone keeps headers and body (sizes of the parts)" "sizes [10, 142]"
out_has "mime api: attachments are the leaves with a file name" 'attachments ["setup.exe"]'
out_has "mime api: text_parts" 'texts ["text/plain"]'
out_has "mime api: params" "same true depth 0 params mix2"
out_has "mime api: each_part without a block, headers of the root" "all 3 headers true"
out_has "mime api: decode_header (RFC 2047, two charsets)" "decoded caféü"
play $C/24-rfc2047-name-iso-2022-jp.eml
out_has "mime api: subject decoded from ISO-2022-JP" "subject 件名"
play $C/17-rfc822-forward.eml
out_has "mime api: attachments inside a forwarded message" 'attachments ["inner.exe"]'
out_has "mime api: text_parts include the forwarded message's" 'texts ["text/plain", "text/plain"]'
stop_pmilter
check_sanitizer_clean "mime api: no sanitizer report"

# Outside eom: PhaseError.
mime_site phase
printf 's = Pmilter::Session.new\nbegin\n  s.mime\nrescue Pmilter::PhaseError => e\n  puts "phase #{e.message}"\nend\n' >"$D/handler/eoh.rb"
sed -i '/^\[handler.session\]/a mruby_eoh_handler = "handler/eoh.rb"' "$CONF"
eom_code '$kept = s.mime'
start_pmilter "$CONF" || { fail "mime phase: start" "pmilter did not start"; return; }
play $C/01-plain-ascii.eml
out_has "mime: Session#mime outside eom raises PhaseError" "phase Pmilter::Session#mime is only allowed in the eom phase (called in eoh)"
stop_pmilter

# Limits: each raises LimitError, logged; uncaught it is a handler error (tempfail).
for lim in "max_parts = 10|44-tiny-parts-1000|more than 10 parts" \
           "max_decoded_size = 1000|43-big-base64|more than 1000 decoded bytes" \
           "max_depth = 5|46-deep-10|nesting deeper than 5 levels"; do
    IFS='|' read -r line mail why <<<"$lim"
    mime_site limit '[mime]' "$line"
    eom_code 's.mime.each_part { |p| p.size }
puts "walked"'
    start_pmilter "$CONF" || { fail "mime limit: start" "pmilter did not start"; continue; }
    play $C/$mail.eml
    if [ "$PLAY_STATUS" = 2 ] && ! grep -q walked "$NEW"; then pass "mime limit $line: uncaught LimitError tempfails the message"
    else fail "mime limit $line" "client status $PLAY_STATUS (want 2), output: $(head -2 "$NEW")"; fi
    log_has "mime limit $line: logged with its reason" "Session#mime: $why"
    play $C/01-plain-ascii.eml
    if [ "$PLAY_STATUS" = 0 ] && grep -q walked "$NEW"; then pass "mime limit $line: the next message is parsed afresh"
    else fail "mime limit $line: next message" "status $PLAY_STATUS, output: $(head -2 "$NEW")"; fi
    stop_pmilter
    check_sanitizer_clean "mime limit $line: no sanitizer report"
done

# Bad [mime] keys are refused with the key named.
printf '[server]\nlisten = "%s/x.sock"\n[mime]\nmax_depth = 0\n' "$T" >"$T/bad.conf"
out=$("$PMILTER" -t -c "$T/bad.conf" 2>&1); st=$?
if [ "$st" != 0 ] && grep -q "max_depth" <<<"$out"; then pass "mime config: max_depth = 0 refused, key named"
else fail "mime config: max_depth = 0" "status $st: $out"; fi

# Pmilter::MIME.urls: http/https URLs of text and HTML, character references decoded.
mime_site urls
eom_code 'urls = s.mime.text_parts.flat_map { |p| Pmilter::MIME.urls(p.text) }
puts "urls #{urls.inspect}"
puts "plain #{Pmilter::MIME.urls("see https://a.example/x?y=1&amp;z=2, or (http://b.example/p). not xhttp://c.example nor ftp://d.example; HTTPS://E.example/&#x41;").inspect}"'
start_pmilter "$CONF" || { fail "mime urls: start" "pmilter did not start"; return; }
play $C/08-html-only.eml
out_has "mime urls: the href of an HTML part, &amp; decoded" 'urls ["https://example.com/a?b=1&c=2"]'
out_has "mime urls: trailing punctuation dropped, only http/https, any case" 'plain ["https://a.example/x?y=1&z=2", "http://b.example/p", "HTTPS://E.example/A"]'
stop_pmilter
check_sanitizer_clean "mime urls: no sanitizer report"

# Parsed at most once per message: three s.mime calls, one parse logged, per message.
mime_site once
sed -i 's/log_level = "info"/log_level = "debug"/' "$CONF"
eom_code '3.times { s.mime.each_part { |p| p.size } }
puts "walked 3 times"'
start_pmilter "$CONF" || { fail "mime once: start" "pmilter did not start"; return; }
play $C/10-alternative.eml
play $C/12-mixed-exe.eml
stop_pmilter
n=$(grep -c 'Session#mime: 3 parts parsed' "$PM_ERR")
[ "$n" = 2 ] && pass "mime once: one parse per message, however many s.mime calls" ||
    fail "mime once: one parse per message" "$n parse lines for 2 messages: $(grep 'Session#mime' "$PM_ERR" | head -3 | tr '\n' ' ')"
