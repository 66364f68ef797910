#!/usr/bin/env python3
"""Checks a rewritten message against its original with Python's email
package (policy=default), independently of GMime:
  - the rewritten message parses with no defect (even when the original had
    some: then only that and the note are checked);
  - ACTION was done to part INDEX (depth-first, as Part#each_part counts):
      remove   its subtree is gone;
      replace  its subtree is one text/plain part whose text is NOTE;
      note     the first text/plain and text/html leaves of the message (not
               of a forwarded one) end with NOTE (HTML: before </body>), or
               a new text/plain part holds it;
  - every other leaf is the same: type, file name, SHA-256 of the decoded
    body, and its encoded payload byte for byte.
usage: rewrite_check.py ORIG.eml NEW.eml ACTION INDEX [NOTE]
Prints one "ok ..." line, or "bad ..." lines and exits 1."""
import hashlib, html, sys
from email import policy
from email.parser import BytesParser


def parse(path):
    """The message with CRLF line ends, as the MTA sent it to the milter."""
    raw = open(path, "rb").read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return BytesParser(policy=policy.default).parsebytes(raw)


def walk(msg, depth=0):
    """(part, depth) depth-first; a message/rfc822 part's message follows it."""
    yield msg, depth
    if msg.is_multipart():
        for sub in msg.get_payload():
            yield from walk(sub, depth + 1)


def defects(msg):
    return [f"{type(d).__name__}" for p, _ in walk(msg) for d in p.defects]


def leaf_facts(part):
    body = part.get_payload(decode=True) or b""
    return (part.get_content_type(), part.get_filename(), hashlib.sha256(body).hexdigest(),
            part.get_payload(decode=False))


def leaves(parts):
    return [p for p, _ in parts if not p.is_multipart()]


def text_of(part):
    charset = part.get_content_charset() or "utf-8"
    try:
        "".encode(charset)
    except LookupError:
        charset = "utf-8"  # as pmilter reads an unknown charset
    return part.get_payload(decode=True).decode(charset, "replace").replace("\r\n", "\n")


def main():
    orig_path, new_path, action, index = sys.argv[1:5]
    note = sys.argv[5] if len(sys.argv) > 5 else ""
    index = int(index)
    orig, new = parse(orig_path), parse(new_path)
    bad = []
    if defects(new):
        bad.append(f"the rewritten message has defects: {defects(new)}")
    if defects(orig):
        # Malformed: GMime and Python read the original differently (docs/mime.md),
        # so parts are not compared; the rebuilt message must be clean and hold the note.
        texts = [text_of(p) for p in leaves(list(walk(new))) if p.get_content_maintype() == "text"]
        if action != "remove" and not any(note.strip() in t for t in texts):
            bad.append("the note is nowhere")
        for b in bad:
            print("bad", b)
        if not bad:
            print(f"ok {action} {index}: malformed original ({defects(orig)[0]}) rebuilt without defects")
        return 1 if bad else 0
    parts = list(walk(orig))
    before = leaves(parts)
    after = leaves(list(walk(new)))
    if action in ("remove", "replace"):
        depth = parts[index][1]
        end = index + 1
        while end < len(parts) and parts[end][1] > depth:
            end += 1
        gone = {id(p) for p, _ in parts[index:end]}
        kept = [p for p in before if id(p) not in gone]
        if action == "replace":
            # the new part stands where the first leaf of the subtree was
            at = len([p for p in leaves(parts[:index])])
            if at >= len(after) or after[at].get_content_type() != "text/plain" or text_of(after[at]) != note:
                bad.append(f"part {index} is not the notice: {after[at].get_content_type() if at < len(after) else None}")
            else:
                after = after[:at] + after[at + 1:]
        if len(kept) != len(after):
            bad.append(f"{len(after)} other leaves, want {len(kept)}")
        pairs = zip(kept, after)
    else:  # note
        changed = 0
        if len(after) == len(before) + 1 and text_of(after[-1]).rstrip("\n") == note:
            after, changed = after[:-1], 1
        pairs = []
        for old, now in zip(before, after):
            if leaf_facts(old) != leaf_facts(now) and old.get_content_type() in ("text/plain", "text/html"):
                t = text_of(now)
                want = html.escape(note, quote=False) if old.get_content_type() == "text/html" else note
                if want in t and t.replace(want, "") != text_of(old):
                    changed += 1
                    continue
            pairs.append((old, now))
        if len(before) != len(after):
            bad.append(f"{len(after)} leaves, want {len(before)}")
        if changed == 0:
            bad.append("the note is nowhere")
    for old, now in pairs:
        if leaf_facts(old) != leaf_facts(now):
            o, n = leaf_facts(old), leaf_facts(now)
            bad.append(f"a kept part changed: {o[:3]} -> {n[:3]}" + (" (encoded bytes differ)" if o[:3] == n[:3] else ""))
    if bad:
        for b in bad:
            print("bad", b)
        return 1
    print(f"ok {action} {index}: {len(after)} other parts unchanged, no defects")
    return 0


if __name__ == "__main__":
    sys.exit(main())
