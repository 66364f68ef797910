#!/usr/bin/env python3
"""Writes test/mime/corpus/*.eml: messages written for test/mime (raw bytes,
not produced by a MIME library, so both parsers see the same hand-made
structure). Run once; the output is committed. Usage: gen_corpus.py DIR"""
import base64, os, quopri, sys

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")
os.makedirs(out, exist_ok=True)
N = 0

def write(name, text):
    global N
    N += 1
    data = text if isinstance(text, bytes) else text.encode("utf-8")
    data = data.replace(b"\r\n", b"\n")
    with open(os.path.join(out, "%02d-%s.eml" % (N, name)), "wb") as f:
        f.write(data)

H = "From: a@example.com\nTo: b@example.com\nMessage-ID: <m%d@example.com>\n"

def hdr(subject="test", extra=""):
    return H % (N + 1) + "Subject: " + subject + "\n" + extra

def b64(data, width=76):
    s = base64.b64encode(data).decode()
    return "\n".join(s[i:i + width] for i in range(0, len(s), width))

def qp(text, charset="utf-8"):
    return quopri.encodestring(text.encode(charset)).decode()

def multipart(sub, boundary, parts, preamble="", epilogue="", close=True):
    body = preamble + "".join("--%s\n%s\n" % (boundary, p) for p in parts)
    if close:
        body += "--%s--\n%s" % (boundary, epilogue)
    return "MIME-Version: 1.0\nContent-Type: multipart/%s; boundary=\"%s\"\n\n%s" % (sub, boundary, body)

def leaf(ctype, body, cte=None, disp=None, extra=""):
    h = "Content-Type: %s\n" % ctype
    if cte:
        h += "Content-Transfer-Encoding: %s\n" % cte
    if disp:
        h += "Content-Disposition: %s\n" % disp
    return h + extra + "\n" + body + "\n"

BIN = bytes(range(256)) * 3
EXE = b"MZ\x90\x00" + b"\x00" * 60 + b"This program cannot be run in DOS mode" + bytes(range(40))
ZIP = b"PK\x03\x04" + b"\x14\x00" * 8 + b"evil.exe" + bytes(range(30))
JA = "日本語のテキストです。添付ファイルを確認してください。"

write("plain-ascii", hdr() + "\nHello world.\nSecond line.\n")
write("plain-no-mime-version", hdr() + "Content-Type: text/plain\n\nJust text\n")
write("plain-utf8-8bit", hdr() + "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nGrüße aus Köln — ünïcödé\n")
write("plain-latin1-qp", hdr() + "MIME-Version: 1.0\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\n" + qp("Café déjà vu, naïve façade " * 5, "latin-1"))
write("plain-utf8-base64", hdr() + "MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: base64\n\n" + b64(("Ünïcode text — " * 20).encode()) + "\n")
write("plain-iso2022jp", hdr("=?ISO-2022-JP?B?" + base64.b64encode("日本語の件名".encode("iso-2022-jp")).decode() + "?=") +
      "MIME-Version: 1.0\nContent-Type: text/plain; charset=ISO-2022-JP\nContent-Transfer-Encoding: 7bit\n\n" + JA.encode("iso-2022-jp").decode("ascii") + "\n")
write("plain-shiftjis-b64", hdr() + "MIME-Version: 1.0\nContent-Type: text/plain; charset=Shift_JIS\nContent-Transfer-Encoding: base64\n\n" + b64(JA.encode("shift_jis")) + "\n")
write("html-only", hdr() + "MIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n<html><body><p>Visit <a href=\"https://example.com/a?b=1&amp;c=2\">here</a></p></body></html>\n")
write("html-only-qp", hdr() + "MIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n" + qp("<p>" + "long html line é " * 10 + "</p>"))
write("alternative", hdr() + multipart("alternative", "alt1", [leaf("text/plain; charset=us-ascii", "plain version"), leaf("text/html; charset=us-ascii", "<b>html version</b>")]))
write("mixed-pdf", hdr() + multipart("mixed", "mix1", [leaf("text/plain", "see attached"), leaf("application/pdf; name=\"report.pdf\"", b64(b"%PDF-1.4\n" + BIN), "base64", "attachment; filename=\"report.pdf\"")]))
write("mixed-exe", hdr() + multipart("mixed", "mix2", [leaf("text/plain", "run this"), leaf("application/octet-stream", b64(EXE), "base64", "attachment; filename=\"setup.exe\"")]))
write("mixed-zip", hdr() + multipart("mixed", "mix3", [leaf("text/plain", "zip"), leaf("application/zip; name=files.zip", b64(ZIP), "base64", "attachment")]))
write("name-only", hdr() + multipart("mixed", "b", [leaf("text/plain", "x"), leaf("image/png; name=\"pic.png\"", b64(b"\x89PNG\r\n\x1a\n" + BIN[:100]), "base64")]))
write("inline-image", hdr() + multipart("related", "rel", [leaf("text/html", "<img src=cid:i1>"), leaf("image/gif", b64(b"GIF89a" + BIN[:50]), "base64", "inline; filename=\"a.gif\"", "Content-ID: <i1>\n")]))
write("nested-mixed-alt-related", hdr() + multipart("mixed", "outer", [
    multipart("alternative", "mid", [leaf("text/plain; charset=utf-8", "plain ü", "8bit"),
        multipart("related", "inner", [leaf("text/html; charset=utf-8", "<p>html ü</p>", "8bit"), leaf("image/jpeg", b64(b"\xff\xd8\xff" + BIN[:80]), "base64", "inline; filename=logo.jpg")]).split("\n", 1)[1]]).split("\n", 1)[1],
    leaf("application/msword", b64(BIN[:300]), "base64", "attachment; filename=\"doc.doc\"")]))
fwd = hdr("inner") + multipart("mixed", "in1", [leaf("text/plain", "forwarded text"), leaf("application/octet-stream", b64(EXE), "base64", "attachment; filename=\"inner.exe\"")])
write("rfc822-forward", hdr("Fwd") + multipart("mixed", "fw1", [leaf("text/plain", "FYI"), "Content-Type: message/rfc822\nContent-Disposition: attachment\n\n" + fwd]))
fwd2 = hdr("inner2") + "Content-Type: text/plain\n\ninner plain message\n"
write("rfc822-inline-plain", hdr("Fwd2") + multipart("mixed", "fw2", [leaf("text/plain", "see below"), "Content-Type: message/rfc822\n\n" + fwd2]))
write("rfc822-double", hdr("Fwd3") + multipart("mixed", "fw3", ["Content-Type: message/rfc822\n\n" + hdr("lvl1") + multipart("mixed", "fw4", [leaf("text/plain", "lvl1 text"), "Content-Type: message/rfc822\n\n" + fwd2])]))
write("rfc2231-simple", hdr() + multipart("mixed", "r1", [leaf("text/plain", "x"), leaf("application/octet-stream", b64(BIN[:64]), "base64", "attachment; filename*=UTF-8''%E6%97%A5%E6%9C%AC%E8%AA%9E.txt")]))
write("rfc2231-continuation", hdr() + multipart("mixed", "r2", [leaf("text/plain", "x"), leaf("application/octet-stream", b64(BIN[:64]), "base64",
      "attachment;\n filename*0*=UTF-8''%E3%81%82%E3%81%84;\n filename*1*=%E3%81%86%E3%81%88;\n filename*2=\"-plain.bin\"")]))
write("rfc2231-latin1", hdr() + multipart("mixed", "r3", [leaf("text/plain", "x"), leaf("application/pdf", b64(BIN[:64]), "base64", "attachment; filename*=iso-8859-1'fr'r%E9sum%E9.pdf")]))
write("rfc2231-name-param", hdr() + multipart("mixed", "r4", [leaf("text/plain", "x"), leaf("application/pdf; name*=UTF-8''%C3%BCber.pdf", b64(BIN[:64]), "base64")]))
def ew(text, cs, enc="B"):
    raw = text.encode(cs)
    if enc == "B":
        return "=?%s?B?%s?=" % (cs, base64.b64encode(raw).decode())
    return "=?%s?Q?%s?=" % (cs, "".join(chr(c) if chr(c).isalnum() else "=%02X" % c for c in raw))
for cs, name in (("ISO-2022-JP", "日本語ファイル.txt"), ("Shift_JIS", "資料.xls"), ("ISO-8859-1", "résumé.doc"), ("UTF-8", "über-naïve.zip")):
    write("rfc2047-name-" + cs.lower(), hdr(ew("件名" if "J" in cs.upper() else "Sujet é", cs)) + multipart("mixed", "e" + cs, [leaf("text/plain", "x"),
          leaf("application/octet-stream; name=\"%s\"" % ew(name, cs), b64(BIN[:128]), "base64", "attachment; filename=\"%s\"" % ew(name, cs))]))
write("rfc2047-q-subject", hdr(ew("Prix spécial", "ISO-8859-1", "Q") + " " + ew("aujourd'hui", "UTF-8", "Q")) + "\nbody\n")
write("rfc2047-name-q-utf8", hdr() + multipart("mixed", "eq", [leaf("text/plain", "x"), leaf("text/plain; charset=utf-8", "attached text ü", "8bit", "attachment; filename=\"%s\"" % ew("notes ü.txt", "UTF-8", "Q"))]))
write("8bit-headers", hdr("Grüße ohne Kodierung") + "X-Note: café\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\nbody ü\n")
write("8bit-filename", hdr() + multipart("mixed", "8f", [leaf("text/plain", "x"), leaf("application/octet-stream", b64(BIN[:32]), "base64", "attachment; filename=\"Übersicht.pdf\"")]))
write("missing-final-boundary", hdr() + multipart("mixed", "mf", [leaf("text/plain", "first"), leaf("text/plain", "second, no closing boundary")], close=False))
write("malformed-boundary-absent", hdr() + "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"never\"\n\nno boundary line at all in this body\n")
write("malformed-no-boundary-param", hdr() + "MIME-Version: 1.0\nContent-Type: multipart/mixed\n\n--x\nContent-Type: text/plain\n\nlost\n--x--\n")
write("preamble-epilogue", hdr() + multipart("mixed", "pe", [leaf("text/plain", "one"), leaf("text/plain", "two")], preamble="This is a preamble.\n", epilogue="epilogue text\n"))
write("empty-parts", hdr() + multipart("mixed", "ep", ["\n", leaf("text/plain", ""), leaf("application/octet-stream", "", "base64", "attachment; filename=empty.bin")]))
write("bad-base64", hdr() + multipart("mixed", "bb", [leaf("text/plain", "x"), leaf("application/octet-stream", "SGVsbG8gd29ybGQ!!!\n@@@@\nSGVsbG8=", "base64", "attachment; filename=bad.bin")]))
write("unknown-charset", hdr() + "MIME-Version: 1.0\nContent-Type: text/plain; charset=x-unknown-42\n\nplain bytes ok\n")
write("invalid-utf8", hdr().encode() + b"MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nbad \xff\xfe bytes \xc3 here\n")
write("uppercase-types", hdr() + "MIME-Version: 1.0\nContent-Type: MULTIPART/MIXED; BOUNDARY=\"UP\"\n\n--UP\nContent-Type: TEXT/PLAIN; CHARSET=US-ASCII\nContent-Disposition: INLINE\n\nupper\n--UP\nContent-Type: Application/PDF\nContent-Transfer-Encoding: BASE64\nContent-Disposition: ATTACHMENT; FILENAME=\"UP.PDF\"\n\n" + b64(BIN[:40]) + "\n--UP--\n")
write("qp-soft-breaks", hdr() + "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\nThis is a long line that =\nis softly broken =C3=BC and =3D sign\n")
write("signed", hdr() + multipart("signed; protocol=\"application/pgp-signature\"; micalg=pgp-sha256", "sig", [leaf("text/plain", "signed text"), leaf("application/pgp-signature; name=signature.asc", "-----BEGIN PGP SIGNATURE-----\nabc\n-----END PGP SIGNATURE-----")]))
write("big-base64", hdr() + multipart("mixed", "big", [leaf("text/plain", "big one"), leaf("application/octet-stream", b64(BIN * 60), "base64", "attachment; filename=big.bin")]))
write("tiny-parts-1000", hdr() + multipart("mixed", "t", [leaf("text/plain", "p%d" % i) for i in range(1000)]))
deep = leaf("text/plain", "bottom")
for i in range(40):
    deep = "Content-Type: multipart/mixed; boundary=\"d%d\"\n\n--d%d\n%s\n--d%d--\n" % (i, i, deep, i)
write("too-deep-40", hdr() + "MIME-Version: 1.0\n" + deep)
mid = leaf("text/plain", "bottom")
for i in range(10):
    mid = "Content-Type: multipart/mixed; boundary=\"n%d\"\n\n--n%d\n%s\n--n%d--\n" % (i, i, mid, i)
write("deep-10", hdr() + "MIME-Version: 1.0\n" + mid)
write("crlf-mixed", hdr() + multipart("mixed", "cr", [leaf("text/plain", "line1\r\nline2"), leaf("text/csv; name=data.csv", "a,b\n1,2", None, "attachment")]))
# A real zip (central directory and all; stored, fixed dates, so the bytes never change)
# hiding an executable behind an innocent name: Part#zip_names and docs/mime.md's recipe.
import io, zipfile
zbuf = io.BytesIO()
with zipfile.ZipFile(zbuf, "w") as z:
    for zname, zdata in (("readme.txt", b"read me\n"), ("invoice.pdf.exe", EXE)):
        z.writestr(zipfile.ZipInfo(zname, (2024, 1, 1, 0, 0, 0)), zdata)
write("zip-with-exe", hdr() + multipart("mixed", "zx", [leaf("text/plain", "invoice attached"), leaf("application/zip", b64(zbuf.getvalue()), "base64", "attachment; filename=\"invoice.zip\"")]))
print(N, "messages in", out)
