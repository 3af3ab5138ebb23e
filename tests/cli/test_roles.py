"""End-to-end tests of role credentials: `ecsrev fetch` with role profiles, web identity and SSO.

The fake ECS endpoint (tests/support/fake_ecs.py) also answers the two STS calls on
the same port (AWS_ENDPOINT_URL points there, as the AWS CLI would send them): it
checks the SigV4 signature of AssumeRole for service "sts", checks web identity
tokens, issues temporary credentials and accepts them from then on. Each test
then checks, from the server's stats, which credentials signed which call: the
base credentials sign the innermost AssumeRole, each role's credentials the next
one, and the last role's credentials every ECS call. SSO profiles read the token
`aws sso login` caches under $HOME/.aws/sso/cache and exchange it at the fake
IAM Identity Center portal (GET /federation/credentials, same port). Nothing
reaches the internet.
"""
import contextlib
import datetime
import hashlib
import json
import os
import sys
import unittest
from unittest import mock

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ecsrevtest import SOURCE  # noqa: E402
from test_fetch import FetchTest  # noqa: E402

sys.path.insert(0, os.path.join(SOURCE, "tests", "support"))
from fake_ecs_harness import DEFAULT_AKID, DEFAULT_SECRET, FakeEcs, scenario_path  # noqa: E402

try:
    import boto3  # noqa: F401
    import botocore.credentials  # noqa: F401
    import botocore.session  # noqa: F401
    import botocore.tokens  # noqa: F401
    HAVE_BOTO3 = True
except ImportError:
    HAVE_BOTO3 = False

ROLE = "arn:aws:iam::123456789012:role/ecsrev-audit"
ROLE2 = "arn:aws:iam::210987654321:role/ecsrev-hop"
TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjaSJ9.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"
SSO_TOKEN = "aoaAAAAAGVsb3ZlbHktc3NvLWFjY2Vzcy10b2tlbi1mb3ItdGVzdHM6MTIzNDU2"
SSO_CONFIG = ("[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\n"
              "sso_role_name = ReadOnly\nregion = us-east-1\n"
              "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n"
              "sso_region = us-east-1\nsso_registration_scopes = sso:account:access\n")
THROTTLED = ('<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>'
             '<Message>Rate exceeded</Message></Error></ErrorResponse>')


def read_text(path):
    with open(path) as f:
        return f.read()


class RoleTest(FetchTest):
    """A fake endpoint per test; profiles written into the test's folder."""

    def setUp(self):
        super().setUp()
        self.ecs = FakeEcs(scenario_path("basic.json")).start()
        self.addCleanup(self.ecs.stop)

    def files(self, config="", credentials=""):
        self.write("config", config)
        self.write("credentials", credentials)
        return {"AWS_CONFIG_FILE": os.path.join(self.tmp, "config"),
                "AWS_SHARED_CREDENTIALS_FILE": os.path.join(self.tmp, "credentials")}

    def run_fetch(self, env, *args, keys=False):
        drop = () if keys else ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
        return self.fetch(self.ecs, "--cluster", "prod", "--service", "web", *args,
                          env=env, drop=drop)

    def sts(self, **kw):
        self.ecs.control("sts", **kw)

    def calls(self):
        return self.ecs.stats()["stsCalls"]

    def ecs_signers(self):
        return {r.get("accessKeyId") for r in self.ecs.stats()["requests"]}

    def assertOneLine(self, r, *parts):
        self.assertEqual(r.code, 2, r)
        lines = [ln for ln in r.err.splitlines() if ln.strip()]
        self.assertEqual(len(lines), 1, r)
        for p in parts:
            self.assertIn(p, lines[0], r)
        for secret in (DEFAULT_SECRET, TOKEN):
            self.assertNotIn(secret, r.out + r.err)


class SourceProfileTest(RoleTest):
    def test_role_from_static_keys_of_source_profile(self):
        env = self.files(
            config="[profile audit]\nrole_arn = %s\nsource_profile = base\n"
                   "external_id = corp-42\nrole_session_name = nightly-audit\n"
                   "duration_seconds = 1800\nregion = us-east-1\n" % ROLE,
            credentials="[base]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
                        % (DEFAULT_AKID, DEFAULT_SECRET))
        self.sts(roles=[{"roleArn": ROLE, "externalId": "corp-42", "from": DEFAULT_AKID}])
        env["AWS_PROFILE"] = "audit"
        r = self.run_fetch(env, "-v")
        self.assertEqual(r.code, 0, r)
        self.assertIn("credentials from role (profile audit)", r.err)
        calls = self.calls()
        self.assertEqual(len(calls), 1, calls)
        c = calls[0]
        self.assertEqual((c["action"], c["roleArn"], c["roleSessionName"], c["externalId"],
                          c["durationSeconds"], c["signedBy"], c["status"]),
                         ("AssumeRole", ROLE, "nightly-audit", "corp-42", "1800", DEFAULT_AKID,
                          200))
        self.assertTrue(c["issued"].startswith("ASIA"))
        self.assertEqual(self.ecs_signers(), {c["issued"]})
        self.assertGreater(self.stored(), 0)
        self.assertNotIn(DEFAULT_SECRET, r.out + r.err)

    def test_chain_of_two_roles(self):
        env = self.files(
            config="[profile audit]\nrole_arn = %s\nsource_profile = hop\n"
                   "[profile hop]\nrole_arn = %s\nsource_profile = base\n" % (ROLE, ROLE2),
            credentials="[base]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
                        % (DEFAULT_AKID, DEFAULT_SECRET))
        r = self.run_fetch(env, "--profile", "audit")
        self.assertEqual(r.code, 0, r)
        calls = self.calls()
        self.assertEqual([(c["roleArn"], c["status"]) for c in calls],
                         [(ROLE2, 200), (ROLE, 200)])
        self.assertEqual(calls[0]["signedBy"], DEFAULT_AKID)
        self.assertEqual(calls[1]["signedBy"], calls[0]["issued"])
        self.assertTrue(calls[0]["roleSessionName"].startswith("ecsrev-"), calls)
        self.assertIsNone(calls[0]["externalId"])
        self.assertIsNone(calls[0]["durationSeconds"])
        self.assertEqual(self.ecs_signers(), {calls[1]["issued"]})

    def test_source_profile_with_keys_and_role_uses_its_keys(self):
        # botocore: a source profile's static keys win over its own role_arn
        env = self.files(
            config="[profile audit]\nrole_arn = %s\nsource_profile = base\n"
                   "[profile base]\nrole_arn = %s\nsource_profile = audit\n" % (ROLE, ROLE2),
            credentials="[base]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
                        % (DEFAULT_AKID, DEFAULT_SECRET))
        r = self.run_fetch(env, "--profile", "audit")
        self.assertEqual(r.code, 0, r)
        self.assertEqual([c["roleArn"] for c in self.calls()], [ROLE])

    def test_credential_source_environment(self):
        env = self.files(config="[profile ci]\nrole_arn = %s\ncredential_source = Environment\n"
                         % ROLE)
        r = self.run_fetch(env, "--profile", "ci", keys=True)
        self.assertEqual(r.code, 0, r)
        calls = self.calls()
        self.assertEqual([(c["roleArn"], c["signedBy"]) for c in calls], [(ROLE, DEFAULT_AKID)])
        self.assertEqual(self.ecs_signers(), {calls[0]["issued"]})

    def test_source_profile_with_credential_process(self):
        script = os.path.join(self.tmp, "creds.sh")
        self.write("creds.sh", "#!/bin/sh\nprintf '%%s' '{\"Version\": 1, \"AccessKeyId\": "
                   "\"%s\", \"SecretAccessKey\": \"%s\"}'\n" % (DEFAULT_AKID, DEFAULT_SECRET))
        os.chmod(script, 0o700)
        env = self.files(config="[profile audit]\nrole_arn = %s\nsource_profile = proc\n"
                         "[profile proc]\ncredential_process = %s\n" % (ROLE, script))
        r = self.run_fetch(env, "--profile", "audit")
        self.assertEqual(r.code, 0, r)
        self.assertEqual([c["signedBy"] for c in self.calls()], [DEFAULT_AKID])


class WebIdentityTest(RoleTest):
    def test_web_identity_from_environment(self):
        self.write("token", TOKEN + "\n")
        self.sts(webIdentityTokens=[TOKEN])
        env = {"AWS_WEB_IDENTITY_TOKEN_FILE": os.path.join(self.tmp, "token"),
               "AWS_ROLE_ARN": ROLE, "AWS_ROLE_SESSION_NAME": "gha-run-17"}
        r = self.run_fetch(env, "-v", "-v")
        self.assertEqual(r.code, 0, r)
        calls = self.calls()
        self.assertEqual([(c["action"], c["roleArn"], c["roleSessionName"], c["signedBy"])
                          for c in calls],
                         [("AssumeRoleWithWebIdentity", ROLE, "gha-run-17", None)])
        self.assertEqual(self.ecs_signers(), {calls[0]["issued"]})
        self.assertNotIn(TOKEN, r.out + r.err)

    def test_web_identity_profile_as_source(self):
        self.write("token", TOKEN)
        self.sts(webIdentityTokens=[TOKEN])
        env = self.files(config="[profile audit]\nrole_arn = %s\nsource_profile = oidc\n"
                         "[profile oidc]\nrole_arn = %s\nweb_identity_token_file = %s\n"
                         % (ROLE, ROLE2, os.path.join(self.tmp, "token")))
        r = self.run_fetch(env, "--profile", "audit")
        self.assertEqual(r.code, 0, r)
        calls = self.calls()
        self.assertEqual([(c["action"], c["roleArn"]) for c in calls],
                         [("AssumeRoleWithWebIdentity", ROLE2), ("AssumeRole", ROLE)])
        self.assertEqual(calls[1]["signedBy"], calls[0]["issued"])

    def test_rejected_token(self):
        self.write("token", TOKEN)
        self.sts(webIdentityTokens=["another-token"])
        env = {"AWS_WEB_IDENTITY_TOKEN_FILE": os.path.join(self.tmp, "token"),
               "AWS_ROLE_ARN": ROLE}
        r = self.run_fetch(env)
        self.assertOneLine(r, "web identity (AWS_WEB_IDENTITY_TOKEN_FILE): assume role with "
                              "web identity " + ROLE, "InvalidIdentityToken", "(HTTP 400)")
        self.assertEqual(self.ecs.stats()["calls"].get("ListServiceDeployments"), None)

    def test_token_file_problems(self):
        env = {"AWS_WEB_IDENTITY_TOKEN_FILE": os.path.join(self.tmp, "missing"),
               "AWS_ROLE_ARN": ROLE}
        self.assertOneLine(self.run_fetch(env), "AWS_WEB_IDENTITY_TOKEN_FILE", "missing")
        self.write("empty", "\n")
        env["AWS_WEB_IDENTITY_TOKEN_FILE"] = os.path.join(self.tmp, "empty")
        self.assertOneLine(self.run_fetch(env), "the token is empty")
        env.pop("AWS_ROLE_ARN")
        self.assertOneLine(self.run_fetch(env), "no role to assume (set AWS_ROLE_ARN")
        self.assertEqual(self.calls(), [])


class StsAnswerTest(RoleTest):
    def setUp(self):
        super().setUp()
        self.env_files = self.files(
            config="[profile audit]\nrole_arn = %s\nsource_profile = base\n" % ROLE,
            credentials="[base]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
                        % (DEFAULT_AKID, DEFAULT_SECRET))

    def test_access_denied(self):
        self.sts(roles=[{"roleArn": ROLE2}])
        r = self.run_fetch(self.env_files, "--profile", "audit")
        self.assertOneLine(r, "profile 'audit': assume role %s: AccessDenied: User: %s is not "
                              "authorized to perform: sts:AssumeRole" % (ROLE, DEFAULT_AKID),
                           "(HTTP 403)")
        self.assertEqual(self.ecs.stats()["calls"].get("ListServiceDeployments"), None)

    def test_wrong_base_secret(self):
        env = self.files(
            config="[profile audit]\nrole_arn = %s\nsource_profile = base\n" % ROLE,
            credentials="[base]\naws_access_key_id = %s\naws_secret_access_key = wrong%s\n"
                        % (DEFAULT_AKID, DEFAULT_SECRET))
        r = self.run_fetch(env, "--profile", "audit")
        self.assertOneLine(r, "SignatureDoesNotMatch", "(HTTP 403)")

    def test_throttled_then_answered(self):
        self.sts(roles=[{"roleArn": ROLE, "fault": {"status": 400, "body": THROTTLED,
                                                     "count": 2}}])
        r = self.run_fetch(self.env_files, "--profile", "audit")
        self.assertEqual(r.code, 0, r)
        self.assertEqual([c["status"] for c in self.calls()], [400, 400, 200])

    def test_throttled_past_max_attempts(self):
        self.sts(roles=[{"roleArn": ROLE, "fault": {"status": 400, "body": THROTTLED,
                                                     "count": -1}}])
        r = self.run_fetch(self.env_files, "--profile", "audit",
                           "--max-attempts", "5")
        self.assertOneLine(r, "Throttling: Rate exceeded (HTTP 400)")
        self.assertEqual(len(self.calls()), 3)  # the profile's max_attempts, not --max-attempts

    def test_malformed_answers(self):
        for body in ("<html>maintenance</html>", "",
                     "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIAX"
                     "</AccessKeyId></Credentials></AssumeRoleResult></AssumeRoleResponse>",
                     "<R><Credentials><AccessKeyId>ASIAFAKEFAKEFAKE01</AccessKeyId>"
                     "<SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken>"
                     "<Expiration>soon</Expiration></Credentials></R>",
                     "\x00\xff" * 50):
            with self.subTest(body=body[:30]):
                self.sts(roles=[{"roleArn": ROLE, "fault": {"status": 200, "body": body,
                                                             "count": 1}}])
                r = self.run_fetch(self.env_files, "--profile", "audit")
                self.assertOneLine(r, "profile 'audit': assume role %s: malformed answer" % ROLE)

    def test_server_error(self):
        self.sts(roles=[{"roleArn": ROLE, "fault": {"status": 503, "body": "busy",
                                                     "count": -1}}])
        r = self.run_fetch(self.env_files, "--profile", "audit")
        self.assertOneLine(r, "error (HTTP 503)")
        self.assertEqual(len(self.calls()), 3)


class BadRoleProfileTest(RoleTest):
    """Every broken role profile: one line naming it, exit 2, no STS or ECS call."""

    CASES = [
        ("[profile p]\nrole_arn = %s\n" % ROLE,
         "profile 'p': role_arn needs source_profile or credential_source"),
        ("[profile p]\nrole_arn = %s\nsource_profile = b\ncredential_source = Environment\n"
         "[profile b]\naws_access_key_id = A\naws_secret_access_key = B\n" % ROLE,
         "profile 'p': source_profile and credential_source are both set"),
        ("[profile p]\nrole_arn = %s\nsource_profile = b\nmfa_serial = arn:aws:iam::1:mfa/me\n"
         "[profile b]\naws_access_key_id = A\naws_secret_access_key = B\n" % ROLE,
         "profile 'p': mfa_serial needs a one-time code"),
        ("[profile p]\nrole_arn = %s\nsource_profile = q\n[profile q]\nrole_arn = %s\n"
         "source_profile = p\n" % (ROLE, ROLE2),
         "profile 'p': source_profile chain loops back to 'p'"),
        ("[profile p]\nrole_arn = %s\nsource_profile = p\n" % ROLE,
         "profile 'p': source_profile chain loops back to 'p'"),
        ("[profile p]\nrole_arn = %s\nsource_profile = nowhere\n" % ROLE,
         "profile 'p': source_profile 'nowhere' not found in "),
        ("[profile p]\nrole_arn = %s\nsource_profile = empty\n[profile empty]\nregion = x\n"
         % ROLE, "profile 'p': source_profile 'empty' has no credentials"),
        ("[profile p]\nrole_arn = %s\ncredential_source = Laptop\n" % ROLE,
         "profile 'p': credential_source 'Laptop' is not Environment"),
        ("[profile p]\nrole_arn = %s\ncredential_source = Environment\n" % ROLE,
         "profile 'p': credential_source Environment has no credentials"),
        ("[profile p]\nrole_arn = %s\ncredential_source = Environment\nduration_seconds = 60\n"
         % ROLE, "profile 'p': duration_seconds '60' is not 900..43200"),
        ("[profile p]\nrole_arn = not-an-arn\ncredential_source = Environment\n",
         "profile 'p': role_arn 'not-an-arn' is not a role ARN"),
        ("[profile p]\nrole_arn = %s\ncredential_source = Environment\n"
         "role_session_name = has space\n" % ROLE,
         "profile 'p': role_session_name 'has space' is not 2-64 characters"),
        ("[profile p]\nweb_identity_token_file = /x\n",
         "profile 'p': web identity: no role to assume (set AWS_ROLE_ARN or the profile's "
         "role_arn)"),
        ("[profile p]\nrole_arn = %s\ncredential_source = Ec2InstanceMetadata\n" % ROLE,
         "profile 'p': credential_source Ec2InstanceMetadata has no credentials"),
        ("[profile p]\nsso_session = corp\nsso_account_id = 1\n",
         "profile 'p': sso_session 'corp' has no [sso-session corp] in "),
        ("[profile p]\nsso_session = corp\nsso_account_id = 123456789012\n"
         "[sso-session corp]\nsso_region = us-east-1\n",
         "profile 'p': SSO needs sso_start_url, sso_role_name (in the profile or its "
         "sso-session)"),
        ("[profile p]\nsso_start_url = https://x.awsapps.com/start\nsso_region = us-east-1\n"
         "sso_account_id = 12345\nsso_role_name = R\n",
         "profile 'p': sso_account_id is not a 12-digit account id"),
    ]

    def test_each(self):
        for config, message in self.CASES:
            with self.subTest(message=message):
                env = self.files(config=config)
                env_keys = "credential_source Environment has no" not in message
                if "duration_seconds" in message or "role_arn '" in message or \
                        "role_session_name" in message:
                    env_keys = True
                r = self.run_fetch(env, "--profile", "p", keys=env_keys)
                self.assertOneLine(r, message)
        self.assertEqual(self.calls(), [])
        self.assertEqual(self.ecs.stats()["calls"], {})


class SsoTest(RoleTest):
    def login(self, key, token=SSO_TOKEN, hours=8, stamp="%Y-%m-%dT%H:%M:%SZ",
              registration_hours=None):
        """Write the cache file `aws sso login` would: named by the SHA-1 of @key."""
        now = datetime.datetime.now(datetime.timezone.utc)
        when = now + datetime.timedelta(hours=hours)
        folder = os.path.join(self.tmp, ".aws", "sso", "cache")
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, hashlib.sha1(key.encode()).hexdigest() + ".json")
        doc = {"startUrl": "https://corp.awsapps.com/start", "region": "us-east-1",
               "accessToken": token, "expiresAt": when.strftime(stamp),
               "clientId": "client", "clientSecret": "client-secret", "refreshToken": "refresh"}
        if registration_hours is not None:
            doc["registrationExpiresAt"] = (now + datetime.timedelta(
                hours=registration_hours)).strftime("%Y-%m-%dT%H:%M:%SZ")
        with open(path, "w") as f:
            json.dump(doc, f)
        os.chmod(path, 0o600)
        return path

    def cache(self, path):
        with open(path) as f:
            return json.load(f)

    def test_refresh_near_expiry_and_after(self):
        for hours in (5 / 60, -1):
            with self.subTest(hours=hours):
                path = self.login("corp", hours=hours, registration_hours=24 * 80)
                before = self.cache(path)
                self.ecs.control("sso", tokens=[], refreshTokens=["refresh"])
                self.ecs.control("resetStats")
                r = self.run_fetch(self.files(config=SSO_CONFIG), "--profile", "dev")
                self.assertEqual(r.code, 0, r)
                stats = self.ecs.stats()
                self.assertEqual([(c["grantType"], c["clientId"], c["status"])
                                  for c in stats["ssoTokenCalls"]],
                                 [("refresh_token", "client", 200)])
                self.assertEqual([c["status"] for c in stats["ssoCalls"]], [200])
                after = self.cache(path)
                self.assertTrue(after["accessToken"].startswith("sso-access-"), after)
                self.assertTrue(after["refreshToken"].startswith("sso-refresh-"), after)
                expires = datetime.datetime.strptime(after["expiresAt"], "%Y-%m-%dT%H:%M:%SZ")
                left = expires.replace(tzinfo=datetime.timezone.utc) - \
                    datetime.datetime.now(datetime.timezone.utc)
                self.assertTrue(3000 < left.total_seconds() <= 3600, after)
                for key in ("startUrl", "region", "clientId", "clientSecret",
                            "registrationExpiresAt"):
                    self.assertEqual(after[key], before[key])
                self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
                self.assertEqual(os.listdir(os.path.dirname(path)), [os.path.basename(path)])
                for secret in (after["accessToken"], after["refreshToken"], "client-secret"):
                    self.assertNotIn(secret, r.out + r.err)

    def test_refresh_refused(self):
        env = self.files(config=SSO_CONFIG)
        # still valid: the old token is used and the cache is left alone
        path = self.login("corp", hours=5 / 60)
        self.ecs.control("sso", tokens=[SSO_TOKEN], refreshTokens=[])
        before = read_text(path)
        r = self.run_fetch(env, "--profile", "dev")
        self.assertEqual(r.code, 0, r)
        self.assertEqual(read_text(path), before)
        self.assertEqual([c["status"] for c in self.ecs.stats()["ssoTokenCalls"]], [400])
        # expired: one line says both
        path = self.login("corp", hours=-1)
        before = read_text(path)
        r = self.run_fetch(env, "--profile", "dev")
        self.assertOneLine(r, "profile 'dev': the SSO login expired at ",
                           " and could not be refreshed (HTTP 400: invalid_grant) (run `aws sso "
                           "login --profile dev`)")
        self.assertEqual(read_text(path), before)

    def test_no_refresh_without_registration_or_session(self):
        # the client registration has expired: no refresh is tried
        self.login("corp", hours=-1, registration_hours=-1)
        self.ecs.control("sso", tokens=[SSO_TOKEN], refreshTokens=["refresh"])
        r = self.run_fetch(self.files(config=SSO_CONFIG), "--profile", "dev")
        self.assertOneLine(r, "the SSO login expired at ")
        self.assertNotIn("refreshed", r.err)
        # a legacy profile (no sso_session) is never refreshed, as in the AWS CLI
        self.login("https://corp.awsapps.com/start", hours=5 / 60)
        config = ("[profile old]\nsso_start_url = https://corp.awsapps.com/start\n"
                  "sso_region = us-east-1\nsso_account_id = 123456789012\n"
                  "sso_role_name = ReadOnly\n")
        r = self.run_fetch(self.files(config=config), "--profile", "old")
        self.assertEqual(r.code, 0, r)
        self.assertEqual(self.ecs.stats()["ssoTokenCalls"], [])

    def test_sso_session_profile(self):
        self.login("corp")
        self.ecs.control("sso", tokens=[SSO_TOKEN],
                         roles=[{"accountId": "123456789012", "roleName": "ReadOnly"}])
        r = self.run_fetch(self.files(config=SSO_CONFIG), "--profile", "dev", "-v", "-v")
        self.assertEqual(r.code, 0, r)
        self.assertIn("credentials from sso (profile dev)", r.err)
        calls = self.ecs.stats()["ssoCalls"]
        self.assertEqual([(c["accountId"], c["roleName"], c["status"]) for c in calls],
                         [("123456789012", "ReadOnly", 200)])
        self.assertEqual(self.ecs_signers(), {calls[0]["issued"]})
        self.assertNotIn(SSO_TOKEN, r.out + r.err)

    def test_legacy_profile_and_old_expiry_format(self):
        self.login("https://corp.awsapps.com/start", stamp="%Y-%m-%dT%H:%M:%SUTC")
        self.ecs.control("sso", tokens=[SSO_TOKEN])
        config = ("[profile dev]\nsso_start_url = https://corp.awsapps.com/start\n"
                  "sso_region = us-east-1\nsso_account_id = 123456789012\n"
                  "sso_role_name = Audit+Read@Corp\n")
        r = self.run_fetch(self.files(config=config), "--profile", "dev")
        self.assertEqual(r.code, 0, r)
        # the role name reaches the portal intact: '+' is percent-encoded in the query
        self.assertEqual([c["roleName"] for c in self.ecs.stats()["ssoCalls"]],
                         ["Audit+Read@Corp"])

    def test_sso_as_source_of_a_role(self):
        self.login("corp")
        self.ecs.control("sso", tokens=[SSO_TOKEN])
        config = SSO_CONFIG + "[profile audit]\nrole_arn = %s\nsource_profile = dev\n" % ROLE
        r = self.run_fetch(self.files(config=config), "--profile", "audit")
        self.assertEqual(r.code, 0, r)
        issued = self.ecs.stats()["ssoCalls"][0]["issued"]
        calls = self.calls()
        self.assertEqual([(c["roleArn"], c["signedBy"]) for c in calls], [(ROLE, issued)])
        self.assertEqual(self.ecs_signers(), {calls[0]["issued"]})

    def test_login_problems(self):
        env = self.files(config=SSO_CONFIG)
        self.assertOneLine(self.run_fetch(env, "--profile", "dev"),
                           "profile 'dev': no SSO login cached for its sso-session (run `aws sso "
                           "login --profile dev`)")
        path = self.login("corp", hours=-1)
        self.assertOneLine(self.run_fetch(env, "--profile", "dev"),
                           "profile 'dev': the SSO login expired at ",
                           "(run `aws sso login --profile dev`)")
        with open(path, "w") as f:
            f.write('{"accessToken": 7}')
        self.assertOneLine(self.run_fetch(env, "--profile", "dev"),
                           "is not a token of `aws sso login`")
        self.assertEqual(self.ecs.stats()["ssoCalls"], [])
        self.login("corp", token="a-token-the-portal-does-not-know")
        self.ecs.control("sso", tokens=[SSO_TOKEN])
        self.assertOneLine(self.run_fetch(env, "--profile", "dev"),
                           "profile 'dev': SSO role ReadOnly in account 123456789012: HTTP 401: "
                           "Session token not found or invalid (run `aws sso login` again)")
        self.login("corp")
        self.ecs.control("sso", tokens=[SSO_TOKEN], roles=[])
        self.assertOneLine(self.run_fetch(env, "--profile", "dev"),
                           "HTTP 403: No access (the login has no access")
        self.assertEqual(self.ecs.stats()["calls"].get("ListServiceDeployments"), None)


class BotocoreOrderTest(RoleTest):
    """Where botocore's order of sources decides, ecsrev decides the same."""

    def process(self, akid):
        path = self.write("creds-%s.sh" % akid, "#!/bin/sh\nprintf '%%s' '{\"Version\": 1, "
                          "\"AccessKeyId\": \"%s\", \"SecretAccessKey\": \"%s\"}'\n"
                          % (akid, DEFAULT_SECRET))
        os.chmod(path, 0o700)
        return path

    def test_environment_keys_before_a_broken_chain(self):
        env = self.files(config="[profile p]\nrole_arn = %s\nsource_profile = nowhere\n" % ROLE)
        env["AWS_PROFILE"] = "p"
        r = self.run_fetch(env, keys=True)
        self.assertEqual(r.code, 0, r)
        self.assertEqual(self.calls(), [])
        self.assertEqual(self.ecs_signers(), {DEFAULT_AKID})

    def test_sso_session_alone_is_not_sso(self):
        # `aws sso login` needs only sso_session; credential_process gives the keys
        env = self.files(config="[profile p]\nsso_session = corp\ncredential_process = %s\n"
                         "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n"
                         "sso_region = us-east-1\n" % self.process(DEFAULT_AKID))
        r = self.run_fetch(env, "--profile", "p")
        self.assertEqual(r.code, 0, r)
        self.assertEqual(self.ecs.stats()["ssoCalls"], [])

    def test_process_before_config_file_keys(self):
        # config-file keys come after credential_process; credentials-file keys before it
        env = self.files(config="[profile p]\naws_access_key_id = AKIDCONFIGFILE0001\n"
                                "aws_secret_access_key = nope\ncredential_process = %s\n"
                         % self.process(DEFAULT_AKID))
        r = self.run_fetch(env, "--profile", "p")
        self.assertEqual(r.code, 0, r)
        self.assertEqual(self.ecs_signers(), {DEFAULT_AKID})
        env = self.files(config="[profile p]\ncredential_process = %s\n"
                         % self.process("AKIDPROCESSNOTUSED"),
                         credentials="[p]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
                         % (DEFAULT_AKID, DEFAULT_SECRET))
        self.ecs.control("resetStats")
        r = self.run_fetch(env, "--profile", "p")
        self.assertEqual(r.code, 0, r)
        self.assertEqual(self.ecs_signers(), {DEFAULT_AKID})

    def test_environment_first_for_web_identity(self):
        self.write("token", TOKEN)
        self.sts(webIdentityTokens=[TOKEN])
        env = self.files(config="[profile p]\nrole_arn = %s\nweb_identity_token_file = %s\n"
                                "role_session_name = from-profile\n"
                         % (ROLE2, os.path.join(self.tmp, "token")))
        env.update({"AWS_ROLE_ARN": ROLE, "AWS_ROLE_SESSION_NAME": "from-env"})
        r = self.run_fetch(env, "--profile", "p")
        self.assertEqual(r.code, 0, r)
        self.assertEqual([(c["roleArn"], c["roleSessionName"]) for c in self.calls()],
                         [(ROLE, "from-env")])

    def test_source_profile_with_keys_is_not_checked_as_a_role(self):
        env = self.files(
            config="[profile audit]\nrole_arn = %s\nsource_profile = base\n"
                   "[profile base]\nrole_arn = %s\nsource_profile = base\n"
                   "mfa_serial = arn:aws:iam::123456789012:mfa/me\n" % (ROLE, ROLE2),
            credentials="[base]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
                        % (DEFAULT_AKID, DEFAULT_SECRET))
        r = self.run_fetch(env, "--profile", "audit")
        self.assertEqual(r.code, 0, r)
        self.assertEqual([(c["roleArn"], c["signedBy"]) for c in self.calls()],
                         [(ROLE, DEFAULT_AKID)])


@unittest.skipUnless(HAVE_BOTO3, "boto3 is not installed")
class BotocoreAgreesTest(RoleTest):
    """botocore's own AssumeRole and SSO providers against the fake: it speaks STS and SSO."""

    @contextlib.contextmanager
    def botocore_env(self, env):
        """The process environment of a client of the fake, with @env and HOME = self.tmp."""
        saved = dict(os.environ)
        cache = os.path.join(self.tmp, ".aws", "sso", "cache")
        try:
            os.environ.clear()
            os.environ.update(self.ecs.env(saved, with_credentials=False))
            os.environ.update(env)
            os.environ["HOME"] = self.tmp
            # botocore fixes its SSO cache folder from HOME when it is imported
            with mock.patch.object(botocore.credentials.SSOProvider, "_SSO_TOKEN_CACHE_DIR",
                                   cache), \
                    mock.patch.object(botocore.tokens.SSOTokenProvider,
                                      "_SSO_TOKEN_CACHE_DIR", cache):
                yield
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def list_deployments(self, profile):
        session = boto3.Session(profile_name=profile)
        ecs = session.client("ecs", endpoint_url=self.ecs.url)
        ecs.list_service_deployments(cluster="prod", service="web")

    def test_botocore_role_profile(self):
        env = self.files(
            config="[profile audit]\nrole_arn = %s\nsource_profile = base\n"
                   "external_id = corp-42\nregion = us-east-1\n" % ROLE,
            credentials="[base]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
                        % (DEFAULT_AKID, DEFAULT_SECRET))
        self.sts(roles=[{"roleArn": ROLE, "externalId": "corp-42"}])
        with self.botocore_env(env):
            self.list_deployments("audit")
            sts = boto3.client("sts", endpoint_url=self.ecs.url, region_name="us-east-1",
                               aws_access_key_id=DEFAULT_AKID,
                               aws_secret_access_key=DEFAULT_SECRET)
            out = sts.assume_role(RoleArn=ROLE, RoleSessionName="boto3-check",
                                  ExternalId="corp-42", DurationSeconds=900)
        calls = self.calls()
        self.assertEqual([(c["action"], c["status"]) for c in calls],
                         [("AssumeRole", 200), ("AssumeRole", 200)])
        self.assertEqual(calls[0]["externalId"], "corp-42")
        self.assertEqual(out["Credentials"]["AccessKeyId"], calls[1]["issued"])
        self.assertEqual(self.ecs_signers(), {calls[0]["issued"]})
        self.assertEqual(json.dumps(self.ecs.stats()["calls"].get("ListServiceDeployments")),
                         "1")

    def test_botocore_sso_profile(self):
        SsoTest.login(self, "corp")
        self.ecs.control("sso", tokens=[SSO_TOKEN])
        with self.botocore_env(self.files(config=SSO_CONFIG)):
            self.list_deployments("dev")
        calls = self.ecs.stats()["ssoCalls"]
        self.assertEqual([(c["accountId"], c["roleName"], c["status"]) for c in calls],
                         [("123456789012", "ReadOnly", 200)])
        self.assertEqual(self.ecs_signers(), {calls[0]["issued"]})

    def test_botocore_refreshes_and_ecsrev_reads_its_cache(self):
        """botocore refreshes an expiring login at the fake SSO-OIDC; ecsrev uses the result."""
        path = SsoTest.login(self, "corp", hours=5 / 60, registration_hours=24 * 80)
        self.ecs.control("sso", tokens=[], refreshTokens=["refresh"])
        env = self.files(config=SSO_CONFIG)
        with self.botocore_env(env):
            self.list_deployments("dev")
        stats = self.ecs.stats()
        self.assertEqual([(c["grantType"], c["status"]) for c in stats["ssoTokenCalls"]],
                         [("refresh_token", 200)])
        refreshed = SsoTest.cache(self, path)
        self.assertTrue(refreshed["accessToken"].startswith("sso-access-"))
        # ecsrev reads what botocore wrote; its token is fresh, so no second refresh
        r = self.run_fetch(env, "--profile", "dev")
        self.assertEqual(r.code, 0, r)
        self.assertEqual(len(self.ecs.stats()["ssoTokenCalls"]), 1)
        self.assertEqual(SsoTest.cache(self, path)["accessToken"], refreshed["accessToken"])


if __name__ == "__main__":
    unittest.main()
