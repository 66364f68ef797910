# The corpus of the rules benches (bench/rules.sh, bench/ruleset.sh): 12 messages,
# 4 of them spam, 8 KiB bodies of plain English text. Usage: corpus.py DIR
import random, sys
rnd = random.Random(18)
words = ("the report meeting project schedule budget please review attached update team customer order invoice "
         "delivery weekly quarter numbers results draft agenda office tomorrow morning thanks regards question "
         "about with from this that will have been would could should their there where when which").split()
def para(n):
    return " ".join(rnd.choice(words) for _ in range(n)).capitalize() + ".\n"
def body(spam):
    text = ""
    while len(text) < 8192:
        text += para(rnd.randint(8, 20))
        if rnd.random() < 0.1:
            text += "See https://intranet.example.com/docs/%d for details.\n" % rnd.randint(1, 999)
        if spam and rnd.random() < 0.08:
            text += rnd.choice(["Buy VIAGRA and cialis with no prescription!\n", "CLICK HERE NOW to claim $1,000,000.00\n",
                                "Dear friend, a wire transfer of millions of dollars awaits you.\n",
                                "Verify your account at http://203.0.113.7/login now.\n",
                                "Limited time offer, 100% guaranteed, act now!\n"])
    return text[:8192]
for i in range(12):
    spam = i % 3 == 2
    hdr = [
        "Received: from mx%d.example.net (mx%d.example.net [%s]) by mail.example.com" % (i, i, "192.168.1.%d" % i if spam else "198.51.100.%d" % i),
        "Received: from client.example.net by mx.example.net with ESMTP",
        "From: %s" % ('"Winner 2024" <promo@deals.top>' if spam else '"Alice Example" <alice@example.com>'),
        "To: bob@example.com",
        "Subject: %s" % ("You are a WINNER of the lottery prize" if spam else "Weekly project update %d" % i),
        "Date: Mon, 30 Nov 2026 10:%02d:00 +0000" % i,
        "Message-ID: <%d.%s@%s>" % (i, "abc", "localhost" if spam else "mail.example.com"),
        "MIME-Version: 1.0",
        'Content-Type: text/plain; charset="utf-8"',
        "X-Mailer: %s" % ("Bulk Mailer 3.0" if spam else "Thunderbird 115"),
    ]
    open("%s/m%02d.eml" % (sys.argv[1], i), "w").write("\n".join(hdr) + "\n\n" + body(spam))
