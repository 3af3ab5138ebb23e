"""End-to-end tests of `ecsrev verify` on a real LMDB store in a temp folder.

Damage is made the way an attacker or a bad disk would: by changing bytes of
data.mdb directly (same length, so LMDB still opens it). LMDB copies pages
on write, so older copies of a record may sit in free pages: every copy of
the bytes is changed.
"""
import copy
import hashlib
import json
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ecsrevtest import CliTest, data  # noqa: E402

with open(data("audit", "base.json")) as f:
    BASE = json.load(f)

IMAGE = BASE["containerImages"][0]["image"]


def revision(n):
    d = copy.deepcopy(BASE)
    d["serviceRevisionArn"] = d["serviceRevisionArn"][:-19] + "%019d" % n
    d["createdAt"] = BASE["createdAt"] + 3600 * n
    d["taskDefinition"] = d["taskDefinition"].rsplit(":", 1)[0] + ":%d" % n
    return d


class VerifyTest(CliTest):
    def load(self, *revs):
        path = self.write("revs-%d.json" % len(os.listdir(self.tmp)),
                          json.dumps({"serviceRevisions": list(revs), "failures": []}))
        self.ok("import", "--quiet", path)

    def head(self):
        out = self.ok("verify", "--head").out.split()
        self.assertEqual(len(out), 2)
        self.assertRegex(out[0], r"^[0-9a-f]{64}$")
        return out[0], int(out[1])

    def patch_store(self, old, new):
        """Replace every copy of bytes old by new (same length) in data.mdb."""
        self.assertEqual(len(old), len(new))
        path = os.path.join(self.store, "data.mdb")
        with open(path, "rb") as f:
            raw = f.read()
        count = raw.count(old)
        self.assertGreater(count, 0, "bytes not found in data.mdb: %r" % old)
        with open(path, "wb") as f:
            f.write(raw.replace(old, new))
        return count

    def verify_json(self, *args, code):
        r = self.run_cli("verify", "--format", "json", *args)
        self.assertEqual(r.code, code, r)
        doc = r.json()
        self.assertEqual(doc["schema"], 1)
        return doc

    def test_no_store(self):
        self.fails(2, "verify")

    def test_clean_store(self):
        self.load(revision(1), revision(2))
        self.load(revision(3))
        r = self.ok("verify")
        self.assertIn("ok: 3 revisions", r.out)
        doc = self.verify_json(code=0)
        self.assertTrue(doc["ok"])
        self.assertEqual(doc["revisions"], 3)
        self.assertEqual(doc["problems"], [])
        head, seq = self.head()
        self.assertEqual(doc["head"], head)
        self.assertEqual(doc["seq"], seq)
        self.assertGreaterEqual(seq, 2)

    def test_head_and_expect(self):
        self.load(revision(1))
        old_head, old_seq = self.head()
        self.load(revision(2))
        new_head, new_seq = self.head()
        self.assertNotEqual(old_head, new_head)
        self.assertEqual(new_seq, old_seq + 1)
        # importing nothing new does not move the head
        self.load(revision(2))
        self.assertEqual(self.head(), (new_head, new_seq))
        # the history up to an old head is unchanged
        doc = self.verify_json("--expect", old_head, code=0)
        self.assertEqual(doc["expect"], {"found": True, "seq": old_seq})
        doc = self.verify_json("--expect", new_head.upper(), code=0)
        self.assertEqual(doc["expect"]["seq"], new_seq)
        r = self.run_cli("verify", "--head", "--format", "json")
        self.assertEqual(r.json()["head"], new_head)

    def test_wrong_expect(self):
        self.load(revision(1))
        head, _ = self.head()
        wrong = ("0" if head[0] != "0" else "1") + head[1:]
        r = self.run_cli("verify", "--expect", wrong)
        self.assertEqual(r.code, 1, r)
        self.assertIn("expected head %s is not in the chain" % wrong, r.out)
        doc = self.verify_json("--expect", wrong, code=1)
        self.assertEqual(doc["expect"], {"found": False, "seq": None})
        self.assertEqual([p["kind"] for p in doc["problems"]], ["expect"])
        self.fails(2, "verify", "--expect", "abc")
        self.fails(2, "verify", "--expect", "g" * 64)
        self.fails(2, "verify", "--head", "--expect", head)

    def test_altered_body(self):
        self.load(revision(1), revision(2))
        self.ok("verify")
        # flip one character of the image tag in the stored canonical bodies
        old = ('"image":"%s"' % IMAGE).encode()
        self.patch_store(old, old[:-2] + b"9\"")
        r = self.run_cli("verify")
        self.assertEqual(r.code, 1, r)
        self.assertIn("DAMAGED", r.out)
        doc = self.verify_json(code=1)
        self.assertFalse(doc["ok"])
        kinds = {p["kind"] for p in doc["problems"]}
        self.assertEqual(kinds, {"content-hash"})
        arns = sorted(p["arn"] for p in doc["problems"])
        self.assertEqual(arns, [revision(1)["serviceRevisionArn"],
                                revision(2)["serviceRevisionArn"]])
        for p in doc["problems"]:
            self.assertIn(p["arn"], p["message"])

    def test_altered_event(self):
        self.load(revision(1))
        self.load(revision(2))
        head, _ = self.head()
        # rewrite the time of the recorded events (same length)
        path = os.path.join(self.store, "data.mdb")
        with open(path, "rb") as f:
            raw = f.read()
        times = set(re.findall(rb'"time":"(\d{4})-', raw))
        self.assertTrue(times)
        for year in times:
            self.patch_store(b'"time":"' + year + b"-", b'"time":"1999-')
        doc = self.verify_json(code=1)
        bad = [p for p in doc["problems"] if p["kind"] == "event-head"]
        self.assertEqual(sorted(p["seq"] for p in bad), [1, 2])
        for p in bad:
            self.assertIn("event %d" % p["seq"], p["message"])
        # the event whose head was kept no longer hashes to it: the proof fails
        doc = self.verify_json("--expect", head, code=1)
        self.assertEqual(doc["expect"]["found"], False)
        self.assertIn("expect", [p["kind"] for p in doc["problems"]])

    def test_rewritten_chain_caught_only_by_expect(self):
        """An attacker who rewrites the last event and recomputes its head (in the
        event record and the store's recorded head) leaves a consistent store:
        only a head kept outside the store reveals it."""
        self.load(revision(1))
        head1, _ = self.head()
        self.load(revision(2))
        head, seq = self.head()
        path = os.path.join(self.store, "data.mdb")
        with open(path, "rb") as f:
            raw = f.read()
        old_head = bytes.fromhex(head)
        # the event record: prev(32) head(32) body
        at = raw.index(old_head + b'{"command":')
        prev = raw[at - 32:at]
        end = raw.index(b"}", raw.index(b'"time":', at)) + 1
        body = raw[at + 32:end]
        forged = re.sub(rb'"time":"\d{4}', b'"time":"1999', body)
        self.assertNotEqual(forged, body)
        new_head = hashlib.sha256(prev + forged).digest()
        self.patch_store(body, forged)
        self.patch_store(old_head, new_head)
        doc = self.verify_json(code=0)  # consistent in itself
        self.assertEqual(doc["head"], new_head.hex())
        doc = self.verify_json("--expect", head, code=1)
        self.assertEqual(doc["expect"], {"found": False, "seq": None})
        # a head from before the rewritten event still proves the earlier history
        self.assertEqual(seq, 2)
        doc = self.verify_json("--expect", head1, code=0)
        self.assertEqual(doc["expect"], {"found": True, "seq": 1})

    def test_altered_content_hash_in_event(self):
        self.load(revision(1))
        doc = self.verify_json(code=0)
        path = os.path.join(self.store, "data.mdb")
        with open(path, "rb") as f:
            raw = f.read()
        m = re.search(rb'"contentHash":"([0-9a-f]{32})"', raw)
        self.assertIsNotNone(m)
        h = m.group(1)
        flipped = (b"0" if h[:1] != b"0" else b"1") + h[1:]
        self.patch_store(b'"contentHash":"' + h, b'"contentHash":"' + flipped)
        doc = self.verify_json(code=1)
        kinds = sorted(p["kind"] for p in doc["problems"])
        self.assertIn("event-head", kinds)
        self.assertIn("chain-hash", kinds)


if __name__ == "__main__":
    unittest.main()
