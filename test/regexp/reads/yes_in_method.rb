# reads: $& in a method another script may call after its own =~
def matched_text
  $&
end
