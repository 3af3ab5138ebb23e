"""End-to-end tests of import, show, canon, export and stats on a real store."""
import json
import os
import stat
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from ecsrevtest import CliTest, data  # noqa: E402

FULL_API = data("revisions", "full-api.json")
FULL_CLI = data("revisions", "full-cli.json")
SINGLE = data("revisions", "single.json")


def revisions_in(path):
    with open(path) as f:
        return json.load(f)["serviceRevisions"]


class ImportTest(CliTest):
    def test_import_counts_and_idempotence(self):
        n = len(revisions_in(FULL_API))
        r = self.ok("import", "--format", "json", FULL_API)
        self.assertEqual(r.json()["new"], n)
        r = self.ok("import", "--format", "json", FULL_API)
        self.assertEqual(r.json()["new"], 0)
        self.assertEqual(r.json()["existing"], n)
        self.assertEqual(self.ok("stats", "--format", "json").json()["revisions"], n)

    def test_api_and_cli_forms_are_one_set(self):
        self.ok("import", FULL_API)
        before = self.ok("export").out
        r = self.ok("import", "--format", "json", FULL_CLI)
        self.assertEqual(r.json()["new"], 0, r)
        self.assertEqual(r.json()["conflicts"], 0, r)
        self.assertEqual(self.ok("export").out, before)

    def test_single_object_stdin_and_json_lines(self):
        with open(SINGLE) as f:
            single = f.read()
        r = self.ok("import", "--format", "json", "-", stdin=single)
        self.assertEqual(r.json()["new"], 1)
        lines = "\n".join(json.dumps(x) for x in revisions_in(FULL_API)) + "\n"
        path = self.write("revs.jsonl", lines)
        r = self.ok("import", "--format", "json", path)
        self.assertGreaterEqual(r.json()["new"] + r.json()["existing"], 1)

    def test_export_reimport_reproduces_store(self):
        self.ok("import", FULL_API, SINGLE)
        exported = self.ok("export").out
        self.assertTrue(exported.endswith("\n"))
        path = self.write("export.jsonl", exported)
        other = os.path.join(self.tmp, "other")
        self.ok("import", "--store", other, path)
        self.assertEqual(self.ok("export", "--store", other).out, exported)
        s1 = self.ok("stats", "--format", "json").json()
        s2 = self.ok("stats", "--store", other, "--format", "json").json()
        for k in ("revisions", "services", "clusters", "bodies"):
            self.assertEqual(s1[k], s2[k], k)

    def test_export_service_filter(self):
        self.ok("import", FULL_API)
        revs = revisions_in(FULL_API)
        svc = revs[0]["serviceArn"]
        out = self.ok("export", "--service", svc).out.splitlines()
        self.assertEqual(len(out), sum(1 for r in revs if r["serviceArn"] == svc))
        for line in out:
            self.assertEqual(json.loads(line)["serviceArn"], svc)

    def big_lines(self, n):
        base = revisions_in(FULL_API)[1]
        arn = base["serviceRevisionArn"].rsplit("/", 1)[0]
        lines = []
        for i in range(n):
            rev = dict(base)
            rev["serviceRevisionArn"] = "%s/%d" % (arn, 10**15 + i)
            rev["createdAt"] = 1700000000 + i
            lines.append(json.dumps(rev))
        return lines

    def test_large_file_is_validated_before_anything_is_stored(self):
        # More than 6 MiB of canonical revisions: the import stages the documents while it
        # reads and stores the records in chunks, but a bad revision at the very end still
        # leaves nothing of the file, not even the staged documents.
        n = 3200  # more than RECORDS_PER_PUT (3,000): see the events below
        lines = self.big_lines(n)
        self.assertGreater(sum(map(len, lines)), 9 * 1024 * 1024)
        bad = self.write("big-bad.jsonl", "\n".join(lines + ['{"serviceRevisionArn": 5}']) + "\n")
        r = self.fails(2, "import", bad, SINGLE)
        self.assertIn("line %d" % (n + 1), r.err)
        stats = self.ok("stats", "--format", "json").json()
        self.assertEqual((stats["revisions"], stats["bodies"]), (1, 1))
        good = self.write("big.jsonl", "\n".join(lines) + "\n")
        r = self.ok("import", "--format", "json", good)
        self.assertEqual(r.json()["new"], n)
        stats = self.ok("stats", "--format", "json").json()
        self.assertEqual((stats["revisions"], stats["bodies"]), (n + 1, n + 1))
        # the store's index is small: all the records went in one put, one chain event
        self.assertEqual(stats["events"], 2)
        self.ok("verify")
        # the same ARNs with other content: conflicts, the stored revisions are kept and the
        # other documents are not (they were staged, then dropped)
        changed = []
        for line in lines:
            rev = json.loads(line)
            rev["createdAt"] += 7
            changed.append(json.dumps(rev))
        other = self.write("big-changed.jsonl", "\n".join(changed) + "\n")
        r = self.ok("import", "--format", "json", other)
        self.assertEqual(r.json()["conflicts"], n)
        stats = self.ok("stats", "--format", "json").json()
        self.assertEqual((stats["revisions"], stats["bodies"]), (n + 1, n + 1))
        self.ok("verify")
        # the same lines through stdin, already stored: nothing new
        with open(good) as f:
            r = self.ok("import", "--format", "json", "-", stdin=f.read())
        self.assertEqual(r.json()["existing"], n)

    def test_progress_on_a_terminal_only(self):
        import pty
        import subprocess
        from ecsrevtest import BIN
        path = self.write("big.jsonl", "\n".join(self.big_lines(3000)) + "\n")
        master, slave = pty.openpty()
        proc = subprocess.run([BIN, "import", path], env=self.env, stdout=subprocess.PIPE,
                              stderr=slave, timeout=120)
        os.close(slave)
        seen = b""
        try:
            while True:
                chunk = os.read(master, 65536)
                if not chunk:
                    break
                seen += chunk
        except OSError:
            pass
        os.close(master)
        self.assertEqual(proc.returncode, 0)
        self.assertIn(b"revisions read", seen)
        self.assertIn(b"3000/3000 revisions stored", seen)
        self.assertNotIn(b"revisions", proc.stdout.replace(b"imported", b""))
        # not a terminal, or --quiet: no progress line at all
        other = os.path.join(self.tmp, "other")
        r = self.ok("import", "--store", other, path)
        self.assertNotIn("revisions read", r.err)

    def test_store_permissions(self):
        self.ok("import", SINGLE)
        self.assertEqual(stat.S_IMODE(os.stat(self.store).st_mode), 0o700)
        for name in ("data.mdb", "lock.mdb"):
            mode = stat.S_IMODE(os.stat(os.path.join(self.store, name)).st_mode)
            self.assertEqual(mode, 0o600, name)

    def test_default_store_location(self):
        env = dict(self.env)
        del self.env["ECSREV_STORE"]
        self.env["XDG_DATA_HOME"] = os.path.join(self.tmp, "xdg")
        self.ok("import", SINGLE)
        self.assertTrue(os.path.exists(os.path.join(self.tmp, "xdg", "ecsrev", "data.mdb")))
        del self.env["XDG_DATA_HOME"]
        self.ok("import", SINGLE)
        self.assertTrue(os.path.exists(
            os.path.join(self.tmp, ".local", "share", "ecsrev", "data.mdb")))
        self.env = env


class WriterWaitTest(CliTest):
    def test_second_writer_says_it_waits(self):
        import fcntl
        import subprocess
        import time
        from ecsrevtest import BIN
        self.ok("import", SINGLE)
        with open(os.path.join(self.store, "writer.lock"), "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            proc = subprocess.Popen([BIN, "import", FULL_API], env=self.env, text=True,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            time.sleep(1.0)
            self.assertIsNone(proc.poll(), "the import did not wait for the writer lock")
            fcntl.flock(lock, fcntl.LOCK_UN)
            out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, err)
        self.assertIn("waiting", err)
        self.assertIn("being written by another process", err)
        # readers never wait for the writer lock
        self.assertGreater(self.ok("stats", "--format", "json").json()["revisions"], 1)


class BadInputTest(CliTest):
    def check_rejected(self, content, needle, mode="w"):
        path = self.write("bad.json", content, mode)
        r = self.fails(2, "import", path, SINGLE)
        first = r.err.splitlines()[0]
        self.assertIn("bad.json", first)
        self.assertIn(needle, first)
        # the good file named in the same call is still imported
        self.assertEqual(self.ok("stats", "--format", "json").json()["revisions"], 1)
        return first

    def test_malformed(self):
        self.check_rejected('{"serviceRevisions": [', "truncated")

    def test_garbage(self):
        self.check_rejected('{"serviceRevisions": [}', "invalid JSON")

    def test_wrong_type(self):
        rev = revisions_in(FULL_API)[0]
        rev["containerImages"] = "web"
        first = self.check_rejected(json.dumps({"serviceRevisions": [rev]}), "containerImages")
        self.assertIn("array", first)

    def test_missing_arn(self):
        rev = revisions_in(FULL_API)[0]
        del rev["serviceRevisionArn"]
        self.check_rejected(json.dumps(rev), "serviceRevisionArn")

    def test_malformed_arn(self):
        rev = revisions_in(FULL_API)[0]
        rev["serviceRevisionArn"] = "arn:aws:ecs:us-east-1:123:task/x"
        self.check_rejected(json.dumps(rev), "serviceRevisionArn")

    def test_invalid_utf8(self):
        self.check_rejected(b'{"serviceRevisionArn": "\xff\xfe"}', "UTF-8", mode="wb")

    def test_too_deep(self):
        self.check_rejected("[" * 1000 + "]" * 1000, "nesting")

    def test_half_bad_file_leaves_nothing(self):
        revs = revisions_in(FULL_API)
        revs[-1]["launchType"] = 7
        path = self.write("half.json", json.dumps({"serviceRevisions": revs}))
        self.fails(2, "import", path)
        r = self.run_cli("stats", "--format", "json")
        if r.code == 0:
            self.assertEqual(r.json()["revisions"], 0)

    def test_oversized_file(self):
        path = os.path.join(self.tmp, "huge.json")
        with open(path, "wb") as f:
            f.truncate(257 * 1024 * 1024)
        r = self.fails(2, "import", path)
        self.assertIn("limit", r.err)

    def test_missing_file(self):
        r = self.fails(2, "import", os.path.join(self.tmp, "nope.json"))
        self.assertIn("nope.json", r.err)


class ShowTest(CliTest):
    def test_show_by_arn_and_id(self):
        self.ok("import", FULL_API)
        rev = revisions_in(FULL_API)[0]
        arn = rev["serviceRevisionArn"]
        by_arn = self.ok("show", arn).out
        by_id = self.ok("show", arn.rsplit("/", 1)[1]).out
        self.assertEqual(by_arn, by_id)
        doc = json.loads(by_arn)
        self.assertEqual(doc["serviceRevisionArn"], arn)
        canon = self.ok("canon", "-", stdin=by_arn).out
        self.assertEqual(canon + "\n", by_arn)
        text = self.ok("show", "--format", "text", arn).out
        self.assertIn(arn, text)
        self.assertIn("config hash", text)

    def test_show_unknown(self):
        self.ok("import", SINGLE)
        r = self.fails(2, "show", "does-not-exist")
        self.assertIn("does-not-exist", r.err)

    def test_show_without_store(self):
        r = self.fails(2, "show", "x")
        self.assertIn("no store", r.err)


class CanonTest(CliTest):
    def test_rfc8785_vectors(self):
        base = data("canon", "rfc8785")
        if not os.path.isdir(base):
            self.skipTest("vectors not present")
        for name in sorted(os.listdir(os.path.join(base, "input"))):
            with open(os.path.join(base, "output", name), "rb") as f:
                want = f.read()
            r = self.run_cli("canon", os.path.join(base, "input", name), binary=True)
            self.assertEqual(r.code, 0, name)
            self.assertEqual(r.out, want, name)

    def test_bad_json(self):
        r = self.fails(2, "canon", "-", stdin='{"a": }')
        self.assertIn("<stdin>", r.err)

    def test_duplicate_member_in_a_large_object(self):
        # large objects take the sorted path of the duplicate check (linear-log, not quadratic)
        members = ",".join('"k%d":%d' % (i, i) for i in range(50000))
        r = self.fails(2, "canon", "-", stdin="{" + members + ',"k49999":0}')
        self.assertIn("duplicate member 'k49999'", r.err)
        r = self.ok("canon", "-", stdin="{" + members + "}")
        self.assertTrue(r.out.startswith('{"k0":0,"k1":1,"k10":10'))


class UsageTest(CliTest):
    def test_help_and_version(self):
        self.assertIn("ecsrev", self.ok("--version").out)
        top = self.ok("--help").out
        for cmd in ("fetch", "import", "show", "diff", "log", "audit", "verify", "export",
                    "stats", "canon"):
            self.assertIn(cmd, top)
            r = self.run_cli(cmd, "--help")
            self.assertEqual(r.code, 0, (cmd, r))
            self.assertIn("usage: ecsrev " + cmd, r.out)

    def test_unknown_command_and_option(self):
        self.fails(2, "frobnicate")
        r = self.fails(2, "import", "--bogus")
        self.assertIn("--help", r.err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
