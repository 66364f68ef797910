fuzz_read_facts
Pmilter::Session::Headers.new.header.each do |name, value|
  if name =~ /\A(subject|x-spam[\w-]*)\z/i && value =~ /\b(viagra|c[i1]al[i1]s|lottery)\b/i
    Pmilter.status = Pmilter::SMFIS_REJECT
  end
  if value =~ /=\?([\w-]+)\?([bq])\?(.*?)\?=/i
    $fuzz_charset = $1.downcase
  end
  value.gsub(/\s+/, " ").split(/[,;]\s*/)
end
