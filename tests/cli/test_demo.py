"""The README's main job (scripts/demo.sh) end to end against the fake endpoint,
with the binary under test and a store in a temporary folder."""
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from ecsrevtest import BIN, SOURCE, CliTest  # noqa: E402


class DemoTest(CliTest):
    def test_demo_fetch_log_diff_audit_verify(self):
        env = dict(self.env)
        env["ECSREV_BIN"] = BIN
        proc = subprocess.run(["bash", os.path.join(SOURCE, "scripts", "demo.sh")], env=env,
                              capture_output=True, text=True, timeout=300)
        self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
        out = proc.stdout
        self.assertIn("fetched 9 new revisions (0 already stored, 0 failed)", out)
        self.assertIn("networking: assignPublicIp DISABLED→ENABLED", out)          # log
        self.assertIn("volumeConfigurations[uploads].managedEBSVolume.encrypted", out)  # diff
        self.assertIn("ECS.2", out)                                                  # audit
        self.assertIn("ok: 9 revisions", out)                                        # verify
        # into the store it was given, and a second run fetches nothing new
        self.assertTrue(os.path.exists(os.path.join(self.store, "data.mdb")))
        again = subprocess.run(["bash", os.path.join(SOURCE, "scripts", "demo.sh")], env=env,
                               capture_output=True, text=True, timeout=300)
        self.assertEqual(again.returncode, 0, again.stderr[-3000:])
        self.assertIn("fetched 0 new revisions (9 already stored, 0 failed)", again.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
