# The rules of bench/ruleset.sh: N body rules (SCORE body PATTERN, as rules.txt).
# The first 20 are the body rules of rules.txt (8 of them use \b, which RuleSet
# leaves to their Regexp); the rest are generated spam phrases and URLs, ASCII
# patterns that Ruby and PCRE2 read the same way. Usage: ruleset_rules.py RULES.txt N
import sys
base = [l.rstrip("\n") for l in open(sys.argv[1]) if l.split(" ")[1:2] == ["body"]]
n = int(sys.argv[2])
first = ("cheap discount free instant exclusive guaranteed secret amazing premium bonus "
         "miracle hot urgent special lowest").split()
second = ("pills meds loans casino watches crypto bitcoin investment diet pharmacy replica jackpot "
          "mortgage dating").split()
tlds = "top|xyz|click|loan|win|bid"
extra = []
for i, a in enumerate(first):
    for j, b in enumerate(second):
        if (i + j) % 4 == 0:
            extra.append("1 body https?://[a-z0-9.-]*%s-?%s[a-z0-9.-]*\\.(?:%s)/" % (a, b, tlds))
        else:
            extra.append("1 body (?i)%s\\s+%s" % (a.replace("-", "\\-"), b))
rules = (base + extra)[:n]
assert len(rules) == n, "not enough rules"
print("\n".join(rules))
