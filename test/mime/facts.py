#!/usr/bin/env python3
"""test/mime's independent parser: the facts of every part of a message,
depth-first, by Python's email package (policy=default), one line each:
depth|content type|filename|disposition|decoded size|SHA-256|first 60 chars.
  facts.py python MAIL.eml      facts of the message
  facts.py handler < LINES      the same facts from test/mime/handler.rb's PART lines"""
import email, email.policy, hashlib, sys

def line(depth, ctype, filename, disp, body, text):
    size = "-" if body is None else str(len(body))
    sha = "-" if body is None else hashlib.sha256(body).hexdigest()
    return "|".join([str(depth), ctype, filename if filename is not None else "-", disp or "-",
                     size, sha, "-" if text is None else repr(text[:60])])

def text_of(part, body):
    # what email.contentmanager's get_text_content does, without raising
    charset = part.get_param("charset", "ASCII")
    try:
        return body.decode(charset, "replace")
    except LookupError:
        return body.decode("utf-8", "replace")

def walk(part, depth, out):
    ctype = part.get_content_type()
    container = part.is_multipart()
    filename = None if container else part.get_filename()
    body = None if container else (part.get_payload(decode=True) or b"")
    text = text_of(part, body) if body is not None and part.get_content_maintype() == "text" else None
    out.append(line(depth, ctype, filename, part.get_content_disposition(), body, text))
    if container:
        for child in part.get_payload():
            walk(child, depth + 1, out)

def from_python(path):
    with open(path, "rb") as f:
        data = f.read()
    # as the MTA hands it to pmilter: CRLF line ends (SMTP)
    data = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    msg = email.message_from_bytes(data, policy=email.policy.default)
    out = []
    walk(msg, 0, out)
    return out

def unhex(v):
    return None if v == "-" else bytes.fromhex(v)

def from_handler(lines):
    out = []
    for l in lines:
        f = l.rstrip("\n").split("|")
        if f[0] != "PART":
            continue
        _, depth, ctype, filename, disp, size, body, text = f
        name = unhex(filename)
        t = unhex(text)
        out.append(line(int(depth), ctype, None if name is None else name.decode("utf-8", "replace"),
                        None if disp == "-" else disp, unhex(body),
                        None if t is None else t.decode("utf-8", "replace")))
    return out

if __name__ == "__main__":
    if sys.argv[1] == "python":
        print("\n".join(from_python(sys.argv[2])))
    else:
        print("\n".join(from_handler(sys.stdin)))
