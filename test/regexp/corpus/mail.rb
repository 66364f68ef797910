# Patterns typical of mail filter handlers.
#= address in angle brackets
p "From: \"Doe, John\" <john.doe@example.com>"[/<([^>]+)>/, 1]
#= address local and domain
m = /\A(?<local>[^@\s]+)@(?<domain>[^@\s]+)\z/.match("Jane.Roe+news@Sub.Example.ORG")
p m[:local], m[:domain].downcase
#= address validation list
%w[a@b.co bad@ @x.y ok.name+tag@host-1.example.net two@@x.y].each do |a|
  p [a, a.match?(/\A[\w.+-]+@[\w-]+(\.[\w-]+)+\z/)]
end
#= domain of recipient case insensitive
p "USER@EXAMPLE.COM" =~ /@example\.com\z/i
#= bounce address verp
p "bounce-123-user=dest.org@lists.example.com".match(/\Abounce-(\d+)-([^=]+)=([^@]+)@/).captures
#= all addresses in a header
p "To: a@x.org, \"B\" <b@y.net>, c@z.com".scan(/[\w.+-]+@[\w.-]+\w/)
#= received header from by
h = "Received: from mail.example.com (mail.example.com [192.0.2.10])\n\tby mx.local (Postfix) with ESMTPS id 4XyZ1\n\tfor <u@local>; Mon, 1 Jan 2024 10:00:00 +0000"
p h[/from (\S+)/, 1], h[/by (\S+)/, 1], h[/id (\w+)/, 1], h[/\[([\d.]+)\]/, 1]
#= received ip addresses
h = "from a (a [10.0.0.1]) by b (b [192.168.1.20]) and [2001:db8::1]"
p h.scan(/\[(\d{1,3}(?:\.\d{1,3}){3})\]/).flatten
#= ipv4 octets check
ip = "203.0.113.254"
m = /\A(\d+)\.(\d+)\.(\d+)\.(\d+)\z/.match(ip)
p m.captures.map(&:to_i).all? { |o| o <= 255 }
#= received unfold continuation lines
p "a\r\n\tb\r\n c".gsub(/\r?\n[ \t]+/, " ")
#= header name and value
m = /\A([!-9;-~]+):[ \t]*(.*)\z/m.match("X-Spam-Score: 5.2\r\n (high)")
p m[1], m[2]
#= header split lines
hdrs = "From: a\nTo: b\nSubject: c\n"
p hdrs.split(/\n/).map { |l| l.split(/:\s*/, 2) }
#= spam score threshold
p "X-Spam-Status: Yes, score=7.3 required=5.0"[/score=(-?\d+(?:\.\d+)?)/, 1].to_f > 5
#= subject tag prefix
p "[SPAM] Buy now".sub(/\A\[SPAM\]\s*/, ""), "Buy now".sub(/\A(?!\[SPAM\])/, "[SPAM] ")
#= subject re fwd strip
p "Re: RE: Fwd: FW: Meeting".gsub(/\A(?:(?:re|fwd?)\s*:\s*)+/i, "")
#= subject encoded word detect
s = "=?UTF-8?B?5pel5pys6Kqe?= and =?iso-8859-1?Q?caf=E9?="
p s.scan(/=\?([^?]+)\?([BQ])\?([^?]*)\?=/i)
#= quoted printable soft breaks
p "caf=\r\n=C3=A9 ok=3D".gsub(/=\r?\n/, "").gsub(/=([0-9A-F]{2})/) { $1.hex.chr }.bytes.size
#= mime boundary extraction
ct = "Content-Type: multipart/mixed; boundary=\"----=_Part_123_456.789\""
p ct[/boundary="?([^";]+)"?/i, 1]
#= mime boundary unquoted
p "multipart/alternative; boundary=abc123; charset=x"[/boundary="?([^";]+)"?/i, 1]
#= mime split body on boundary
b = "----=_Part_1"
body = "pre\n--#{b}\nA\n--#{b}\nB\n--#{b}--\n"
p body.split(/^--#{Regexp.escape(b)}(?:--)?\s*$/)
#= content type charset
p "text/plain; charset=\"UTF-8\"; format=flowed"[/charset="?([\w-]+)"?/i, 1]
#= attachment filename extension blocklist
%w[invoice.pdf setup.EXE photo.jpg.scr archive.zip].each { |f| p [f, f.match?(/\.(exe|scr|bat|js|vbs)\z/i)] }
#= url extraction
t = "See https://example.com/a?b=1&c=2, or http://x.y/z. Also www.foo.org/path!"
p t.scan(%r{https?://[^\s<>"',]+[^\s<>"',.!?]})
#= url hosts
t = "<a href=\"http://evil.example.net/login\">https://bank.example.com</a>"
p t.scan(%r{https?://([^/\s"<>]+)}).flatten
#= url host mismatch phishing
t = "<a href=\"http://evil.example.net/x\">https://bank.example.com</a>"
m = t.match(%r{href="https?://([^/"]+)[^"]*">\s*https?://([^/<]+)})
p m[1] != m[2]
#= html tag strip
p "<p>Hello <b>World</b></p><br/>".gsub(/<[^>]+>/, "")
#= message id format
p "<20240101.abc123@mail.example.com>".match?(/\A<[^<>@\s]+@[^<>@\s]+>\z/)
#= dkim signature tags
sig = "v=1; a=rsa-sha256; d=example.com; s=sel1; h=from:to:subject; bh=abc=; b=xyz"
p sig.scan(/(\w+)=([^;]*)/).to_h["d"], sig[/\bs=([^;]+)/, 1]
#= authentication results spf
p "mx.example; spf=pass smtp.mailfrom=a.org; dkim=fail header.d=b.org".scan(/(spf|dkim|dmarc)=(\w+)/)
#= list unsubscribe urls
p "<mailto:u@l.org?subject=unsub>, <https://l.org/u/123>".scan(/<([^>]+)>/).flatten
#= date header parse
m = /(\d{1,2}) (\w{3}) (\d{4}) (\d\d):(\d\d):(\d\d) ([+-]\d{4})/.match("Date: Tue, 5 Mar 2024 09:08:07 -0500")
p m.captures
#= phone numbers
p "Call 555-123-4567 or (555) 987 6543 now".scan(/\(?\d{3}\)?[ -]?\d{3}[ -]\d{4}/)
#= credit card like digits masked
p "card 4111 1111 1111 1111 exp".gsub(/\b(?:\d{4}[ -]?){3}(\d{4})\b/, 'XXXX-\1')
#= repeated exclamation spam
p "FREE!!!! NOW!!".scan(/!{2,}/).size, "FREE!!!! NOW!!".gsub(/!+/, "!")
#= all caps words
p "BUY CHEAP pills NOW today".scan(/\b[A-Z]{2,}\b/)
#= envelope from bare angle
p "<>" =~ /\A<>\z/, "<a@b>"[/\A<(.*)>\z/, 1]
#= helo looks like ip literal
p "[192.0.2.1]".match?(/\A\[\d+(\.\d+){3}\]\z/), "mail.example.com".match?(/\A\[/)
#= dynamic ip rdns pattern
p "host-192-0-2-1.dyn.isp.net".match?(/\d+[-.]\d+[-.]\d+[-.]\d+.*(dyn|pool|dsl|cable)/i)
#= header crlf normalise
p "a\r\nb\rc\n".gsub(/\r\n?/, "\n")
#= base64 line check
p "SGVsbG8gV29ybGQ=".match?(/\A[A-Za-z0-9+\/]+={0,2}\z/)
#= sender rewrite sub
p "user@old.example.com".sub(/@old\.example\.com\z/, "@new.example.com")
#= plus addressing strip
p "user+tag+more@example.com".sub(/\+[^@]*(?=@)/, "")
#= gsub with hash for char escaping
p "a<b>&\"c\"".gsub(/[<>&"]/, "<" => "&lt;", ">" => "&gt;", "&" => "&amp;", "\"" => "&quot;")
#= case statement routing
%w[postmaster@x abuse@y user@z].each do |a|
  r = case a
      when /\Apostmaster@/ then :pm
      when /\Aabuse@/ then :abuse
      else :user
      end
  p r
end
#= word boundary keyword
p "Get a free iPhone".match?(/\bfree\b/i), "carefree".match?(/\bfree\b/i)
#= body line count with regexp
p "l1\nl2\n\nl4".scan(/^/).size, "l1\nl2\n\nl4".scan(/^$/).size
