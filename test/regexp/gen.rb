# Turns the corpus (corpus/*.rb) into one test program per side.
# Usage: ruby gen.rb mruby|cruby OUT corpus/*.rb
# A case starts with "#= name" and runs until the next one. Lines starting
# with "#cruby " are the documented CRuby equivalent of a case whose result
# differs on purpose (docs/regexp.md): CRuby runs those lines instead.
side, out, *files = ARGV
cases = []
files.sort.each do |f|
  File.readlines(f).each do |line|
    if line =~ /\A#= (.+)/
      cases << { name: "#{File.basename(f, '.rb')}/#{$1.strip}", code: [], cruby: [] }
    elsif line.start_with?("#cruby ")
      cases.last[:cruby] << line.sub("#cruby ", "")
    elsif cases.last && !line.start_with?("#")
      cases.last[:code] << line
    end
  end
end
prog = File.read(File.join(__dir__, "harness.rb"))
cases.each do |c|
  code = side == "cruby" && !c[:cruby].empty? ? c[:cruby] : c[:code]
  # Each case in a block of its own: mruby compiles a block separately, so
  # a long corpus never exceeds its 16-bit jump offsets in one body.
  prog << "puts '=== #{c[:name]}'\nproc do\nbegin\n#{code.join}rescue Exception => e\n  puts \"EXC \#{e.class}: \#{e.message}\"\nend\nend.call\n"
end
File.write(out, prog)
