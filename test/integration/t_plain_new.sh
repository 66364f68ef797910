# Pmilter::Session.new and Headers.new skip Class#new's per-call Array and Hash
# (src/ruby/mrb_init.c) but must give what Class#new gives: a new object each
# time, arguments and a block ignored (mruby 3.1's default initialize), and a
# user's own initialize (a subclass, a reopened class) still runs.
new_site plain_new 'min_worker = 1' 'max_worker = 1'
handler eom 's = Pmilter::Session.new
h = Pmilter::Session::Headers.new
puts "new: #{s.class} #{h.class} from=#{s.envelope_from} distinct=#{!s.equal?(Pmilter::Session.new)}"
puts "new-args: #{Pmilter::Session.new(1, 2).class}"
puts "new-block: #{Pmilter::Session.new { 1 }.class}"
s.instance_variable_set(:@mine, 1)
puts "ivar: own=#{s.instance_variable_get(:@mine)} next=#{Pmilter::Session.new.instance_variable_get(:@mine).inspect}"
class PlainNewSub < Pmilter::Session
  def initialize(x = 2)
    @x = x
  end
  attr_reader :x
end
puts "subclass: #{PlainNewSub.new.x} #{PlainNewSub.new(5).x} #{PlainNewSub.new.envelope_from}"
class Pmilter::Session::Headers
  def initialize
    @made = true
  end
  attr_reader :made
end
puts "reopened: #{Pmilter::Session::Headers.new.made.inspect}"
puts "no-args: #{s.envelope_from_args.inspect} #{s.envelope_to_args.inspect}"'
start_pmilter "$CONF" || fail "plain new: start" "pmilter did not start"
mt "plain new: a message runs the eom handler" '
local conn, r = message({from = "<plain@x>", to = "<rcpt@y>"})
expect_reply("eom", r.eom, SMFIR_CONTINUE)
mt.disconnect(conn)'
out_has "plain new: Session.new and Headers.new give new objects of their class" \
    "new: Pmilter::Session Pmilter::Session::Headers from=<plain@x> distinct=true"
out_has "plain new: arguments are accepted and ignored, as mruby's Class#new does" "new-args: Pmilter::Session"
out_has "plain new: a block is accepted and ignored, as Class#new does" "new-block: Pmilter::Session"
out_has "plain new: an instance variable stays on its own object" "ivar: own=1 next=nil"
out_has "plain new: a subclass's initialize runs, with and without arguments" "subclass: 2 5 <plain@x>"
out_has "plain new: an initialize added to the class itself runs" "reopened: true"
out_has "plain new: MAIL FROM and RCPT TO without ESMTP arguments read as []" "no-args: [] []"
stop_clean "plain new"
