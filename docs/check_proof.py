"""Check a graphwarden inclusion proof offline, with hashlib and cryptography only.

python check_proof.py PROOF.json PUBLIC_KEY_HEX     (prints OK, or exits non-zero)
"""

import hashlib
import json
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def H(b):  # noqa: N802 - RFC 9162 calls it HASH
    return hashlib.sha256(b).digest()


def s(v):  # a string: u16 length, UTF-8 bytes
    return len(v.encode()).to_bytes(2, "big") + v.encode()


def i(v):  # a signed 64-bit integer, big-endian
    return v.to_bytes(8, "big", signed=True)


proof = json.load(open(sys.argv[1]))  # noqa: SIM115
key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(sys.argv[2]))
r, head = proof["record"], proof["tree_head"]
node = H(b"\0\1" + r["seq"].to_bytes(8, "big") + i(r["at_us"]) + s(r["request_id"])
         + i(r["app_id"]) + s(r["api_version"]) + i(r["owner_id"]) + i(r["subject_id"])
         + s(r["field"]) + s(r["rule_id"]))  # fmt: skip
fn, sn = r["seq"], head["tree_size"] - 1
for sibling in map(bytes.fromhex, proof["proof"]):  # RFC 9162 §2.1.3.2
    if fn & 1 or fn == sn:
        node = H(b"\1" + sibling + node)
        while fn and not fn & 1:
            fn, sn = fn >> 1, sn >> 1
    else:
        node = H(b"\1" + node + sibling)
    fn, sn = fn >> 1, sn >> 1
signed = b"graphwarden-sth-v1\0" + head["tree_size"].to_bytes(8, "big") + i(head["timestamp_us"])
key.verify(bytes.fromhex(head["signature"]), signed + node)  # raises unless node is the signed root
print("OK" if sn == 0 and node.hex() == head["root_hash"] else sys.exit("proof does not verify"))
