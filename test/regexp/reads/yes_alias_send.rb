# reads: alias of send
class Object
  alias call_it send
end
