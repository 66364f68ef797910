# UTF-8 subjects. Cases with "#cruby" lines differ on purpose (byte offsets,
# docs/regexp.md): CRuby runs the #cruby lines, which compute the same value
# in bytes, and both must agree.
#= japanese subject match
p "件名: 会議のお知らせ" =~ /会議/
#cruby s = "件名: 会議のお知らせ"; p s[0, s.index(/会議/)].bytesize
#= japanese capture
m = /件名: (.+)/.match("件名: 会議のお知らせ")
p m[1], m.pre_match, m.post_match
#= japanese begin end bytes
m = /会議/.match("件名: 会議のお知らせ")
p m.begin(0), m.end(0), m.offset(0)
#cruby m = /会議/.match("件名: 会議のお知らせ")
#cruby p m.pre_match.bytesize, m.pre_match.bytesize + m[0].bytesize, [m.pre_match.bytesize, m.pre_match.bytesize + m[0].bytesize]
#= begin end slice invariant
s = "Тема: Привет, мир! 日本"
m = /мир/.match(s)
p s[m.begin(0)...m.end(0)] == m[0]
#cruby p true
#= cyrillic case insensitive
p "ПРИВЕТ мир".match?(/привет/i), "Спам".match?(/СПАМ/i)
#= cyrillic gsub
p "Скидка 50% только сегодня".gsub(/скидка/i, "[X]")
#= cyrillic scan words with property
p "Купите дешево сейчас".scan(/\p{Cyrillic}+/)
#= hiragana katakana han properties
s = "ひらがなカタカナ漢字abc"
p s.scan(/\p{Hiragana}+/), s.scan(/\p{Katakana}+/), s.scan(/\p{Han}+/)
#= letter property
p "naïve café 日本".scan(/\p{L}+/)
#= word is ascii only
p "héllo wörld".scan(/\w+/)
#= digit is ascii only
p "١٢٣ 123".scan(/\d+/)
#= space is ascii only
p "a\u3000b c".split(/\s/)
#= posix alpha is unicode
p "café".scan(/[[:alpha:]]+/)
#= word boundary ascii
p "é" =~ /\bé/, "aé" =~ /a\b/
#= latin case insensitive
p "ÉCOLE" =~ /école/i, "Straße" =~ /STRASSE/i, "ǅ" =~ /ǆ/i
#= german sharp s folding
p "STRASSE".match?(/straße/i)
#= greek case
p "ΣΟΦΊΑ".match?(/σοφία/i)
#= dot matches one character
p "日本語"[/./], "日本語".scan(/./).size
#= gsub empty matches multibyte
p "日本".gsub(//, "|")
#= scan empty matches multibyte
p "añb".scan(//).size
#= split empty pattern multibyte
p "añb日".split(//)
#= split multibyte separator
p "一、二、三".split(/、/)
#= index multibyte
p "日本語テキスト".index(/テ/)
#cruby p "日本語".bytesize
#= rindex multibyte
p "あいあい".rindex(/あ/)
#cruby p "あい".bytesize
#= partition multibyte
p "名前：山田".partition(/：/)
#= subject encoded japanese decoded compare
s = "【重要】アカウント確認"
p s.match?(/\A【重要】/), s.sub(/\A【.*?】/, "")
#= mixed script detection
p "Pаypal".match?(/\p{Latin}/) && "Pаypal".match?(/\p{Cyrillic}/)
#= emoji scan
p "Win 💰💰 now 🎉".scan(/[\u{1F300}-\u{1FAFF}]/).size
#= non ascii named capture value
m = /(?<name>\p{Han}+)さん/.match("こんにちは、山田さん")
p m[:name], m.named_captures
#= match pos inside multibyte char is moved
p "日本".match(/本/, 1)[0]
#cruby p "日本".match(/本/, 1)[0]
#= invalid utf8 subject still matches ascii
s = "abc \xff\xfe def"
p s =~ /def/, s.scan(/\w+/)
#cruby s = "abc \xff\xfe def".b
#cruby p s =~ /def/, s.scan(/\w+/)
#= upcase property class
p "AbCdÉ".scan(/\p{Lu}/)
