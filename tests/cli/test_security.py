"""Security checks (issue 7, point 6; docs/SECURITY.md).

- secrets (secret access key, session token, credential_process output) never
  appear in any output, with or without -v, on success or on failure;
- credentials are never written to the store (data.mdb, lock.mdb);
- a new store folder is 0700 and its files 0600, whatever the umask;
- a store path that is a symbolic link owned by another user is refused and
  what it points to is left untouched.

Standard library only. The symlink test needs root (to lchown the link).
"""
import json
import os
import stat
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ecsrevtest import BIN, CliTest, SOURCE, data  # noqa: E402

sys.path.insert(0, os.path.join(SOURCE, "tests", "support"))
try:
    from fake_ecs_harness import FakeEcs, scenario_path  # noqa: E402
except ImportError:  # pragma: no cover
    FakeEcs = None

AKID = "AKIDSECURITYTEST0001"
SECRET = "SeCrEtKeY-Zq9xK2mW7vB4nR8tY1uI3oP5aS6dF0g"
TOKEN = "SeSsIoNtOkEn-Hj4kL7pQ2wE9rT5yU8iO1aS3dF6gZ0xCvBnM"
PROC_SECRET = "PrOcSeCrEt-Mn8bV5cX2zL4kJ7hG1fD9sA3pO6iU"
PROC_TOKEN = "PrOcToKeN-Qw3eR6tY9uI2oP5aS8dF1gH4jK7lZ0"
NOBODY = 65534


def fragments(secret):
    """The secret and long pieces of it (a partial leak is a leak too)."""
    return [secret, secret[:16], secret[-16:]]


class SecretsTestBase(CliTest):
    def assert_no_secret(self, text, *secrets, where=""):
        for s in secrets:
            for piece in fragments(s):
                self.assertNotIn(piece, text, "secret fragment %r leaked in %s" % (piece, where))

    def assert_store_clean(self, *secrets):
        for name in ("data.mdb", "lock.mdb"):
            path = os.path.join(self.store, name)
            if not os.path.exists(path):
                continue
            with open(path, "rb") as fh:
                blob = fh.read()
            for s in secrets:
                for piece in fragments(s):
                    self.assertNotIn(piece.encode(), blob, "%r found in %s" % (piece, name))


@unittest.skipIf(FakeEcs is None, "tests/support/fake_ecs_harness.py not available")
class FetchSecretsTest(SecretsTestBase):
    """fetch -v against the fake endpoint with distinctive credentials."""

    def fetch(self, ecs, *extra, env_update=None, drop=()):
        env = ecs.env(self.env)
        env["ECSREV_STORE"] = self.store
        for k in drop:
            env.pop(k, None)
        env.update(env_update or {})
        return self.run_cli("fetch", "-v", "--all-services", "--cluster", "prod", *extra,
                            env=env)

    def test_fetch_verbose_success(self):
        with FakeEcs(scenario_path("basic.json"), access_key_id=AKID, secret_access_key=SECRET,
                     session_token=TOKEN) as ecs:
            r = self.fetch(ecs)
            self.assertEqual(r.code, 0, r)
            self.assertIn("ListServices", r.err, "-v logged nothing: %r" % r)
            self.assert_no_secret(r.out + r.err, SECRET, TOKEN, where="fetch -v")
            r = self.fetch(ecs, "--format", "json")
            self.assert_no_secret(r.out + r.err, SECRET, TOKEN, where="fetch -v --format json")
        self.assertGreater(self.ok("stats", "--format", "json").json()["revisions"], 0)
        self.assert_store_clean(SECRET, TOKEN)
        for cmd in (["export"], ["log", "-p"], ["stats"], ["verify"], ["audit"]):
            r = self.run_cli(*cmd)
            self.assert_no_secret(r.out + r.err, SECRET, TOKEN, where=" ".join(cmd))

    def test_fetch_rejected_credentials(self):
        # The server's signature-mismatch message echoes its canonical request,
        # which names the session token: ecsrev must not print it.
        with FakeEcs(scenario_path("basic.json"), access_key_id=AKID, secret_access_key=SECRET,
                     session_token=TOKEN) as ecs:
            for bad in ({"AWS_SECRET_ACCESS_KEY": SECRET[::-1]},
                        {"AWS_SESSION_TOKEN": TOKEN[::-1]},
                        {"AWS_ACCESS_KEY_ID": "AKIDUNKNOWN"}):
                r = self.fetch(ecs, env_update=bad)
                self.assertEqual(r.code, 2, r)
                self.assert_no_secret(r.out + r.err, SECRET, TOKEN, SECRET[::-1], TOKEN[::-1],
                                      where="rejected fetch %s" % list(bad))
        self.assert_store_clean(SECRET, TOKEN)

    def test_fetch_network_failure(self):
        with FakeEcs(scenario_path("basic.json"), access_key_id=AKID, secret_access_key=SECRET,
                     session_token=TOKEN) as ecs:
            ecs.fault("*", "drop", count=-1)
            r = self.fetch(ecs, "--max-attempts", "2")
            self.assertEqual(r.code, 2, r)
            self.assert_no_secret(r.out + r.err, SECRET, TOKEN, where="failed fetch")

    def test_credential_process_output_never_printed(self):
        script = self.write("creds.sh", "#!/bin/sh\n"
                            "echo '{\"Version\": 1, \"AccessKeyId\": \"%s\", "
                            "\"SecretAccessKey\": \"%s\", \"SessionToken\": \"%s\"}'\n"
                            % (AKID, PROC_SECRET, PROC_TOKEN))
        os.chmod(script, 0o700)
        bad = self.write("bad.sh", "#!/bin/sh\necho 'not json %s %s'\nexit 0\n"
                         % (PROC_SECRET, PROC_TOKEN))
        os.chmod(bad, 0o700)
        config = self.write("config", "[profile good]\ncredential_process = %s\n\n"
                            "[profile bad]\ncredential_process = %s\n" % (script, bad))
        with FakeEcs(scenario_path("basic.json"), access_key_id=AKID,
                     secret_access_key=PROC_SECRET, session_token=PROC_TOKEN) as ecs:
            drop = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
            r = self.fetch(ecs, "--profile", "good", drop=drop,
                           env_update={"AWS_CONFIG_FILE": config})
            self.assertEqual(r.code, 0, r)
            self.assert_no_secret(r.out + r.err, PROC_SECRET, PROC_TOKEN, where="process creds")
            r = self.fetch(ecs, "--profile", "bad", drop=drop,
                           env_update={"AWS_CONFIG_FILE": config})
            self.assertEqual(r.code, 2, r)
            self.assert_no_secret(r.out + r.err, PROC_SECRET, PROC_TOKEN,
                                  where="broken credential_process")
        self.assert_store_clean(PROC_SECRET, PROC_TOKEN)

    def test_profile_keys_never_printed(self):
        creds = self.write("credentials", "[dev]\naws_access_key_id = %s\n"
                           "aws_secret_access_key = %s\naws_session_token = %s\n"
                           % (AKID, SECRET, TOKEN))
        broken = self.write("broken", "[dev]\naws_access_key_id = %s\n"
                            "aws_session_token = %s\n" % (AKID, TOKEN))
        with FakeEcs(scenario_path("basic.json"), access_key_id=AKID, secret_access_key=SECRET,
                     session_token=TOKEN) as ecs:
            drop = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
            r = self.fetch(ecs, "--profile", "dev", drop=drop,
                           env_update={"AWS_SHARED_CREDENTIALS_FILE": creds})
            self.assertEqual(r.code, 0, r)
            self.assert_no_secret(r.out + r.err, SECRET, TOKEN, where="profile creds")
            r = self.fetch(ecs, "--profile", "dev", drop=drop,
                           env_update={"AWS_SHARED_CREDENTIALS_FILE": broken})
            self.assertEqual(r.code, 2, r)
            self.assert_no_secret(r.out + r.err, TOKEN, where="partial profile")
        self.assert_store_clean(SECRET, TOKEN)


class StorePermissionsTest(SecretsTestBase):
    def import_with_umask(self, mask):
        old = os.umask(mask)
        try:
            return self.run_cli("import", data("revisions", "full-api.json"))
        finally:
            os.umask(old)

    def check_modes(self, folder):
        mode = stat.S_IMODE(os.stat(folder).st_mode)
        self.assertEqual(mode, 0o700, "store folder mode %o" % mode)
        names = os.listdir(folder)
        self.assertIn("data.mdb", names)
        for name in names:
            st = os.lstat(os.path.join(folder, name))
            self.assertTrue(stat.S_ISREG(st.st_mode), name)
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o600,
                             "%s mode %o" % (name, stat.S_IMODE(st.st_mode)))

    def test_new_store_modes_with_permissive_umask(self):
        self.store = os.path.join(self.tmp, "deep", "er", "store")
        self.env["ECSREV_STORE"] = self.store
        r = self.import_with_umask(0)
        self.assertEqual(r.code, 0, r)
        self.check_modes(self.store)
        for parent in (os.path.join(self.tmp, "deep"), os.path.join(self.tmp, "deep", "er")):
            self.assertEqual(stat.S_IMODE(os.stat(parent).st_mode), 0o700, parent)

    def test_modes_kept_after_writes(self):
        self.assertEqual(self.import_with_umask(0o022).code, 0)
        self.assertEqual(self.import_with_umask(0).code, 0)
        self.ok("verify")
        self.check_modes(self.store)

    def test_default_store_location_private(self):
        del self.env["ECSREV_STORE"]
        self.env["XDG_DATA_HOME"] = os.path.join(self.tmp, "xdg")
        r = self.import_with_umask(0)
        self.assertEqual(r.code, 0, r)
        self.check_modes(os.path.join(self.tmp, "xdg", "ecsrev"))


@unittest.skipUnless(hasattr(os, "geteuid") and os.geteuid() == 0,
                     "needs root to give a symbolic link to another user")
class SymlinkStoreTest(CliTest):
    def make_link(self, owner):
        target = os.path.join(self.tmp, "victim")
        os.mkdir(target, 0o700)
        with open(os.path.join(target, "keep.txt"), "w", encoding="ascii") as fh:
            fh.write("untouched\n")
        link = os.path.join(self.tmp, "store-link")
        os.symlink(target, link)
        os.lchown(link, owner, owner)
        self.assertEqual(os.lstat(link).st_uid, owner)
        return target, link

    def test_refuse_symlink_owned_by_another_user(self):
        target, link = self.make_link(NOBODY)
        for cmd in (["import", data("revisions", "single.json")], ["stats"], ["export"],
                    ["verify"], ["log"]):
            r = self.fails(2, cmd[0], "--store", link, *cmd[1:])
            self.assertIn("link", r.err.splitlines()[0], r)
        self.assertEqual(sorted(os.listdir(target)), ["keep.txt"], "the link was followed")
        # Through ECSREV_STORE too.
        self.env["ECSREV_STORE"] = link
        self.fails(2, "import", data("revisions", "single.json"))
        self.assertEqual(sorted(os.listdir(target)), ["keep.txt"])

    def test_own_symlink_is_followed(self):
        target, link = self.make_link(os.geteuid())
        self.ok("import", "--store", link, data("revisions", "single.json"))
        self.assertIn("data.mdb", os.listdir(target))


if __name__ == "__main__":
    unittest.main(verbosity=2)
