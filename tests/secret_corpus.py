"""The secret corpus: one canary per credential format, as a worker would write or print it.

Every value is generated here from a fixed seed (so no scanner flags this file and no real key is
in it), shaped like the real format. ``Canary.values`` are the strings that must never persist
anywhere crewchief writes; ``Canary.text`` is the line (or lines) that carry them.
"""

from __future__ import annotations

import base64
import random
import string
from dataclasses import dataclass

ALNUM = string.ascii_letters + string.digits
UPPER = string.ascii_uppercase + string.digits
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"
URLSAFE = ALNUM + "-_"


@dataclass(frozen=True)
class Canary:
    name: str
    text: str
    values: tuple[str, ...]


def _gen(seed: str, alphabet: str, n: int) -> str:
    rng = random.Random(seed)
    while True:
        value = "".join(rng.choice(alphabet) for _ in range(n))
        # Real keys mix character classes: every class the alphabet offers appears.
        classes = [c for c in (string.ascii_lowercase, string.ascii_uppercase, string.digits)]
        offered = [c for c in classes if set(c) & set(alphabet)]
        if all(set(c) & set(value) for c in offered):
            return value


def _c(name: str, template: str, *parts: str) -> Canary:
    return Canary(name, template.format(*parts), parts)


def _corpus() -> list[Canary]:
    g = _gen
    pem_body = [g(f"pem{i}", B64, 64) for i in range(3)]
    sa_body = [g(f"sa{i}", B64, 64) for i in range(2)]
    b64_token = base64.b64encode(("ghp_" + g("b64", ALNUM, 36)).encode()).decode()
    return [
        _c(
            "aws-access-key-id",
            "aws_access_key_id = {}",
            "AKIA" + g("akia", "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16),
        ),
        _c("aws-secret-key", "aws_secret_access_key = {}", g("awssecret", B64, 40)),
        _c(
            "aws-secret-bare",
            "AccessKey,SecretKey\nAKIA{},{}",
            g("csvid", "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16),
            g("csvsecret", B64, 40),
        ),
        _c("github-ghp", "using token ghp_{} to push", g("ghp", ALNUM, 36)),
        _c("github-gho", "oauth: gho_{}", g("gho", ALNUM, 36)),
        _c("github-pat", "GH=github_pat_{}_{}", g("pat1", ALNUM, 22), g("pat2", ALNUM, 59)),
        _c("gitlab-pat", "remote uses glpat-{}", g("glpat", URLSAFE, 20)),
        _c(
            "slack-bot",
            "slack: xoxb-{}-{}-{}",
            g("sl1", string.digits, 12),
            g("sl2", string.digits, 13),
            g("sl3", ALNUM, 24),
        ),
        _c(
            "slack-webhook",
            "posting to https://hooks.slack.com/services/T{}/B{}/{}",
            g("wh1", UPPER, 8),
            g("wh2", UPPER, 10),
            g("wh3", ALNUM, 24),
        ),
        _c("stripe-sk-live", "stripe.api_key = 'sk_live_{}'", g("sk", ALNUM, 24)),
        _c("stripe-rk-live", "restricted rk_live_{}", g("rk", ALNUM, 24)),
        _c("sendgrid", "SG.{}.{}", g("sg1", URLSAFE, 22), g("sg2", URLSAFE, 43)),
        _c("telegram-bot", "bot {}:AA{}", g("tg1", string.digits, 10), g("tg2", URLSAFE, 33)),
        _c("twilio-sk", "twilio key SK{}", g("twsk", HEX, 32)),
        _c("twilio-ac", "account sid AC{}", g("twac", HEX, 32)),
        _c("gcp-private-key-id", '"private_key_id": "{}",', g("gcpkid", HEX, 40)),
        _c(
            "gcp-service-account-key",
            '"private_key": "-----BEGIN PRIVATE KEY-----\\n{}\\n{}'
            '\\n-----END PRIVATE KEY-----\\n",',
            *sa_body,
        ),
        Canary(
            "pem-rsa-key",
            "-----BEGIN RSA PRIVATE KEY-----\n"
            + "\n".join(pem_body)
            + "\n-----END RSA PRIVATE KEY-----",
            tuple(pem_body),
        ),
        _c(
            "jwt",
            "cookie: eyJ{}.eyJ{}.{}",
            g("jwt1", URLSAFE, 30),
            g("jwt2", URLSAFE, 40),
            g("jwt3", URLSAFE, 43),
        ),
        _c("openai-legacy", "OPENAI sk-{}T3BlbkFJ{}", g("oai1", ALNUM, 20), g("oai2", ALNUM, 20)),
        _c("openai-project", "key: sk-proj-{}", g("oaip", URLSAFE, 120)),
        _c("anthropic", "anthropic key sk-ant-api03-{}AA", g("ant", URLSAFE, 93)),
        _c("npm", "//registry.npmjs.org/:_authToken=npm_{}", g("npm", ALNUM, 36)),
        _c("pypi", "password = pypi-AgEIcHlwaS5vcmc{}", g("pypi", URLSAFE, 70)),
        _c(
            "discord",
            "discord bot M{}.{}.{}",
            g("dc1", ALNUM, 23),
            g("dc2", URLSAFE, 6),
            g("dc3", URLSAFE, 27),
        ),
        _c("mailgun", "mailgun api key-{}", g("mg", HEX, 32)),
        _c(
            "azure-connection-string",
            "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={}==;EndpointSuffix=core.windows.net",
            g("az", B64, 86),
        ),
        _c(
            "basic-auth-url",
            "git clone https://deploy:{}@git.example.com/repo.git",
            g("basic", ALNUM, 16),
        ),
        _c("postgres-dsn", "DATABASE=postgresql://app:{}@db.internal:5432/app", g("pg", ALNUM, 18)),
        _c("libpq-dsn", "conninfo host=db user=app password={} dbname=app", g("libpq", ALNUM, 18)),
        _c(
            "heroku",
            "heroku auth token {}-{}-{}-{}-{}",
            g("h1", HEX, 8),
            g("h2", HEX, 4),
            g("h3", HEX, 4),
            g("h4", HEX, 4),
            g("h5", HEX, 12),
        ),
        _c("shopify", "shop token shpat_{}", g("shop", HEX, 32)),
        _c("base64-token", "header value {}", b64_token),
        _c(
            "password-chain",
            "a_password: {} password: {}",
            g("pw1", ALNUM + "!#", 14),
            g("pw2", ALNUM + "!#", 14),
        ),
        _c("generic-client-secret", 'client_secret = "{}"', g("cs", ALNUM, 32)),
        _c("generic-signing-key", "SIGNING_KEY: {}", g("sig", ALNUM + "-_", 28)),
        _c("google-api-key", "maps key AIza{}", g("gapi", URLSAFE, 35)),
        _c("huggingface", "hf token hf_{}", g("hf", ALNUM, 34)),
    ]


CORPUS: tuple[Canary, ...] = tuple(_corpus())

#: Environment variables a worker may print, named as the redactor must recognise them.
ENV_SECRETS: dict[str, str] = {
    name: _gen("env" + name, ALNUM, 20)
    for name in (
        "DB_PASS",
        "SMTP_PASSWD",
        "MYSQL_PWD",
        "DEPLOY_CREDS",
        "GOOGLE_APPLICATION_CREDENTIAL",
        "ALERT_WEBHOOK",
        "SENTRY_DSN",
        "SERVICE_API_KEY",
        "CI_JOB_TOKEN",
        "APP_SECRET",
    )
}
