# No Regexp operation raises on any subject bytes (issue 11 A3). CRuby raises
# on broken UTF-8, so it cannot judge these; docs/regexp.md says what they do.
PATTERNS = [/[\W]/, /[^\W\d]+/, /[\w\W]/, /\W+/i, /\p{L}+/, /[^\p{Han}]/, /\p{Cyrillic}{2,}/, /\u3042|a/,
            /[\u{3040}-\u{30ff}]/, /\P{ASCII}/, /[[:^alpha:]]/, /(?<w>\w+)\b/, /\X/, /./m, //, /\R/, /[\x{100}-\x{10FFFF}]/]
BYTES = (0..255).map(&:chr).join
SUBJECTS = [BYTES, BYTES.reverse, "caf\xE9 \xC3", "\xE3\x81\x82\xE3\x81", "\xF0\x9F\x98", "ok \xFF\xFE\x00 end"]

check("every operation on every byte value, no exception") do
  errors = []
  PATTERNS.each do |re|
    SUBJECTS.each do |s|
      begin
        s =~ re; re.match(s); re.match?(s); s.scan(re); s.gsub(re, "<\\0>"); s.sub(re) { $&.to_s }
        s.split(re); s.index(re); s.rindex(re); s[re]; s.partition(re); s.rpartition(re); s.start_with?(re)
        s.gsub(re) { |x| $~.pre_match.size.to_s }
      rescue Exception => e
        errors << "#{re.inspect}: #{e.class}: #{e.message}"
      end
    end
  end
  [errors.empty?, errors.uniq.first(3).join("; ")]
end

check("a pattern Latin-1 cannot express reads an 8-bit subject's ASCII as usual") do
  s = "caf\xE9 \xE3\x81\x82 na\xEFve"
  [s.scan(/\p{L}+/) == ["caf", "\xE3\x81\x82", "na", "ve"] && s =~ /\u3042/ && s.sub(/\p{Hiragana}/, "A") == "caf\xE9 A na\xEFve",
   s.scan(/\p{L}+/).inspect]
end

check("offsets on an 8-bit subject are byte offsets into it") do
  s = "\xE9t\xE9 \xE3\x81\x82!"
  m = s.match(/\p{Hiragana}/)
  [m.begin(0) == 4 && m.end(0) == 7 && m.pre_match == "\xE9t\xE9 " && m.post_match == "!",
   [m.begin(0), m.end(0)].inspect]
end
