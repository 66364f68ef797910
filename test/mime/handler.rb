# test/mime's eom handler: one line per part of s.mime, depth-first, with
# the facts test/mime/facts.py computes with Python's email package. Byte
# fields are hex so that any byte survives the log: filename, body, text.
s = Pmilter::Session.new
hex = lambda { |v| v.nil? ? "-" : v.unpack("H*")[0] }
begin
  s.mime.each_part do |p|
    leaf = p.parts.empty? && !p.content_type.start_with?("multipart/") && p.content_type != "message/rfc822"
    puts ["PART", p.depth, p.content_type, hex.call(p.filename),
          p.disposition || "-", leaf ? p.size : "-", leaf ? hex.call(p.body) : "-",
          leaf && p.content_type.start_with?("text/") ? hex.call(p.text) : "-"].join("|")
  end
  puts "DONE"
rescue Pmilter::MIME::LimitError => e
  puts "LIMIT|#{e.message}"
end
