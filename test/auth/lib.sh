# Helpers of test/auth (source after test/lib.sh and tmpdir): keys, the
# test zone's DKIM and DMARC records, signing with independent tools.
PY=/usr/bin/python3 # Debian's python3, which has dkimpy, authres and nacl

# make_keys DIR: rsa.pem (2048) and ed.pem (Ed25519), PEM PKCS#8, mode 0600;
# rsa.pub and ed.pub: the p= values of their DKIM key records.
make_keys() {
    local d=$1
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$d/rsa.pem" 2>/dev/null
    openssl genpkey -algorithm ED25519 -out "$d/ed.pem" 2>/dev/null
    chmod 600 "$d/rsa.pem" "$d/ed.pem"
    openssl pkey -in "$d/rsa.pem" -pubout -outform DER 2>/dev/null | base64 -w0 >"$d/rsa.pub"
    # RFC 8463: the raw 32-byte public key (the last 32 bytes of the DER form)
    openssl pkey -in "$d/ed.pem" -pubout -outform DER 2>/dev/null | tail -c 32 | base64 -w0 >"$d/ed.pub"
}

# txt_data NAME TEXT: an unbound local-data line, TEXT cut into 200-byte strings.
txt_data() {
    local name=$1 text=$2 parts="" i
    for ((i = 0; i < ${#text}; i += 200)); do parts+=" \"${text:i:200}\""; done
    echo "    local-data: '$name. TXT$parts'"
}

# dkimpy_sign IN OUT DOMAIN SELECTOR KEYFILE [ALG] [LENGTH]: OUT is IN with a
# DKIM-Signature by dkimpy (relaxed/relaxed; LENGTH=1 adds l=).
dkimpy_sign() {
    "$PY" - "$@" <<'PYEOF'
import sys, dkim, base64
from cryptography.hazmat.primitives import serialization
src, dst, dom, sel, keyfile = sys.argv[1:6]
alg = sys.argv[6] if len(sys.argv) > 6 else "rsa-sha256"
length = len(sys.argv) > 7 and sys.argv[7] == "1"
msg = open(src, "rb").read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
key = open(keyfile, "rb").read()
if alg == "ed25519-sha256":  # dkimpy takes the raw 32-byte seed, base64
    k = serialization.load_pem_private_key(key, None)
    key = base64.b64encode(k.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                           serialization.NoEncryption()))
sig = dkim.sign(msg, sel.encode(), dom.encode(), key, canonicalize=(b"relaxed", b"relaxed"),
                include_headers=[b"from", b"to", b"subject", b"date"], length=length,
                signature_algorithm=alg.encode())
open(dst, "wb").write(sig + msg)
PYEOF
}

# dkimpy_verify FILE ZONEFILE: exit 0 if every signature of FILE verifies with
# dkimpy, the key records read from ZONEFILE (lines "name TXT-value").
dkimpy_verify() {
    "$PY" - "$@" <<'PYEOF'
import sys, dkim
msg = open(sys.argv[1], "rb").read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
zone = {}
for line in open(sys.argv[2]):
    name, _, value = line.rstrip("\n").partition(" ")
    zone[name] = value.encode()
def dnsfunc(name, timeout=5):
    return zone.get(name.decode().rstrip("."), b"")
d = dkim.DKIM(msg)
n = len([h for h in d.headers if h[0].lower() == b"dkim-signature"])
ok = all(d.verify(idx=i, dnsfunc=dnsfunc) for i in range(n))
print("dkimpy: %d signature(s), %s" % (n, "all verify" if ok and n else "FAILED"))
sys.exit(0 if ok and n else 1)
PYEOF
}
