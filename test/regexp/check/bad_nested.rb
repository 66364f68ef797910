# A bad literal inside a method inside a class, used from a block.
class Handler
  def call(s)
    [1].each do
      s =~ /[a-/i
    end
  end
end
