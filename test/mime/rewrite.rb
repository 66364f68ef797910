# test/mime/t_rewrite.sh's eom handler: the last attachment goes (remove!,
# or replace! where remove! is refused); a message without one gets a note.
s = Pmilter::Session.new
all = s.mime.each_part.to_a
i = (0...all.size).to_a.reverse.find { |k| all[k].body && (all[k].attachment? || all[k].filename) }
if i
  begin
    all[i].remove!
    puts "action remove #{i}"
  rescue Pmilter::MIME::EditError => e
    all[i].replace!(text: "The attachment was removed.\n")
    puts "action replace #{i} (#{e.message})"
  end
else
  s.mime.append_text_note("-- checked by pmilter")
  puts "action note 0"
end
