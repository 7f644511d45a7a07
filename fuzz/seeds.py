#!/usr/bin/env python3
"""Writes the hand-made seeds of each fuzz target: fuzz/corpus/<target>/seed-<name>.

The files libFuzzer added (named by their SHA-1) sit beside them; rerunning this script
rewrites only the seeds. The JWT seeds are signed with the fuzz targets' fixed key (see
fuzz/src/lib.rs), so `corpus/jwt_token/genuine` is the token the target itself signs.
Needs the `cryptography` package.
"""

import base64
import hmac
import hashlib
import json
import pathlib

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

CORPUS = pathlib.Path(__file__).resolve().parent / "corpus"
KEY = Ed25519PrivateKey.from_private_bytes(bytes([7] * 32))

GENUINE_HEADER = '{"alg":"EdDSA","typ":"at+jwt","kid":"fuzz-key"}'
GENUINE_CLAIMS = (
    '{"iss":"https://issuer.example","sub":"user-1","aud":"https://api.example",'
    '"client_id":"client-1","scope":"tasks:read tasks:write","iat":1767225600,'
    '"exp":4102444800,"jti":"jti-1"}'
)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(header: str, claims: str) -> str:
    signing_input = f"{b64(header.encode())}.{b64(claims.encode())}"
    return f"{signing_input}.{b64(KEY.sign(signing_input.encode()))}"


def claims(**changes) -> str:
    value = json.loads(GENUINE_CLAIMS)
    for name, changed in changes.items():
        if changed is None:
            value.pop(name, None)
        else:
            value[name] = changed
    return json.dumps(value, separators=(",", ":"))


REDIRECT_URIS = {
    "https": "https://app.example.com/callback",
    "https-query": "https://app.example.com/cb?tenant=1\nhttps://app.example.com/cb?tenant=1",
    "https-port": "https://app.example.com:8443/cb\nhttps://app.example.com:8443/cb",
    "idn": "https://xn--bcher-kva.example/cb",
    "loopback-any-port": "http://127.0.0.1/callback\nhttp://127.0.0.1:51234/callback",
    "loopback-v6": "http://[::1]/cb\nhttp://[::1]:4000/cb",
    "private-scheme": "com.example.app:/oauth2redirect",
    "userinfo-port-trick": "http://127.0.0.1/cb\nhttp://127.0.0.1:@evil.example/cb",
    "userinfo-host-trick": "https://app.example.com/cb\nhttps://app.example.com@evil.example/cb",
    "backslash": "https://app.example.com/cb\nhttps://app.example.com\\@evil.example/cb",
    "encoded-path": "https://app.example.com/callback\nhttps://app.example.com/%63allback",
    "dot-segment": "https://app.example.com/callback\nhttps://app.example.com/a/../callback",
    "fragment": "https://app.example.com/cb\nhttps://app.example.com/cb#x",
    "decimal-ip": "http://127.0.0.1/cb\nhttp://2130706433:8000/cb",
    "v6-long-form": "http://[::1]/cb\nhttp://[0:0:0:0:0:0:0:1]:8/cb",
    "subdomain": "https://app.example.com/cb\nhttps://app.example.com.evil.example/cb",
    "csp-injection": "http://127.0.0.1/cb\nhttp://127.0.0.1:1;frame-ancestors evil.example/cb",
    "default-port": "https://app.example.com/cb\nhttps://app.example.com:443/cb",
    "javascript": "javascript:alert(1)",
}

SCOPES = {
    "read": "tasks:read",
    "both": "tasks:write tasks:read",
    "repeated": "tasks:read tasks:read",
    "double-space": "tasks:read  tasks:write",
    "unknown": "tasks:read admin",
    "quote": 'tasks:"read"',
    "non-ascii": "t\u00e2che",
    "tab": "tasks:read\ttasks:write",
}

BASIC = "client_abc:cs_s3cr3t%2Bvalue"
TOKEN_FORMS = {
    "code": "\ngrant_type=authorization_code&code=ac_0123456789abcdef&redirect_uri="
    "https%3A%2F%2Fapp.example.com%2Fcallback&code_verifier="
    "dBjftJeZ4CVP-mJ92K9XL6nb4GNd6RVqvAf3eQ6ZqY0&client_id=client_abc",
    "refresh": "Basic "
    + base64.b64encode(BASIC.encode()).decode()
    + "\ngrant_type=refresh_token&refresh_token=rt_0123456789abcdef&scope=tasks%3Aread",
    "client-credentials": BASIC + "\ngrant_type=client_credentials&scope=tasks%3Aread+tasks%3Awrite",
    "secret-in-body": "\ngrant_type=client_credentials&client_id=client_abc&client_secret=cs_0123456789abcdef",
    "two-methods": "Basic Y2xpZW50OnNlY3JldA==\ngrant_type=client_credentials&client_secret=x",
    "repeated": "\ngrant_type=authorization_code&code=a&code=b",
    "empty-value": "\ngrant_type=authorization_code&code=&code=ac_x",
    "bad-utf8": "\ngrant_type=authorization_code&code=%FF%FE",
    "password-grant": "\ngrant_type=password&username=a&password=b",
    "percent-sign": "cli%2Bent:se%20cret\ngrant_type=client_credentials",
}

NONE_HEADER = '{"alg":"none","typ":"at+jwt","kid":"fuzz-key"}'
HS256_HEADER = '{"alg":"HS256","typ":"at+jwt","kid":"fuzz-key"}'
JWT_TOKENS = {
    "genuine": sign(GENUINE_HEADER, GENUINE_CLAIMS),
    "alg-none": b64(NONE_HEADER.encode()) + "." + b64(GENUINE_CLAIMS.encode()) + ".",
    "tampered": sign(GENUINE_HEADER, GENUINE_CLAIMS).replace(
        b64(GENUINE_CLAIMS.encode()), b64(claims(sub="user-2").encode())
    ),
    "padded": sign(GENUINE_HEADER, GENUINE_CLAIMS) + "==",
    "four-segments": sign(GENUINE_HEADER, GENUINE_CLAIMS) + ".e30",
}
# HS256 "signed" with the public key, the classic algorithm confusion.
_public = KEY.public_key().public_bytes_raw()
_hs_input = b64(HS256_HEADER.encode()) + "." + b64(GENUINE_CLAIMS.encode())
JWT_TOKENS["hs256-public-key"] = (
    _hs_input + "." + b64(hmac.new(_public, _hs_input.encode(), hashlib.sha256).digest())
)

JWT_CLAIMS = {
    "genuine": GENUINE_HEADER + "\n" + GENUINE_CLAIMS,
    "expired": GENUINE_HEADER + "\n" + claims(exp=1767225600),
    "not-yet": GENUINE_HEADER + "\n" + claims(nbf=4102444800),
    "nbf-string": GENUINE_HEADER + "\n" + claims(nbf="4102444800"),
    "aud-array": GENUINE_HEADER + "\n" + claims(aud=["https://other.example", "https://api.example"]),
    "other-aud": GENUINE_HEADER + "\n" + claims(aud="https://other.example"),
    "other-iss": GENUINE_HEADER + "\n" + claims(iss="https://evil.example"),
    "no-sub": GENUINE_HEADER + "\n" + claims(sub=None),
    "exp-float": GENUINE_HEADER + "\n" + claims(exp=4102444800.5),
    "typ-jwt": '{"alg":"EdDSA","typ":"JWT","kid":"fuzz-key"}\n' + GENUINE_CLAIMS,
    "no-kid": '{"alg":"EdDSA","typ":"at+jwt"}\n' + GENUINE_CLAIMS,
    "duplicate-alg": '{"alg":"HS256","alg":"EdDSA","typ":"at+jwt","kid":"fuzz-key"}\n' + GENUINE_CLAIMS,
    "duplicate-aud": GENUINE_HEADER + "\n" + GENUINE_CLAIMS[:-1] + ',"aud":"https://other.example"}',
}

TASK_BODIES = {
    "create": '{"title":"Buy milk","description":"2 litres","priority":2}',
    "put": '{"title":" Write report ","description":null,"status":"in_progress","priority":5}',
    "patch": '{"status":"completed"}',
    "mass-assignment": '{"title":"x","user_id":"someone-else","id":"t1","created_at":"2020-01-01"}',
    "duplicate": '{"title":"a","title":"b"}',
    "float-priority": '{"title":"a","priority":3.0}',
    "exponent-priority": '{"title":"a","priority":5e0}',
    "control": '{"title":"a\\u0000b"}',
    "spaces": '{"title":"   "}',
    "unicode": '{"title":"caf\\u00e9 \\ud83d\\ude00"}',
    "array": "[1,2]",
    "nested": '{"title":{"a":[1,{"b":null}]}}',
}

DURATIONS = {
    "seconds": "90",
    "unit-s": "90s",
    "minutes": "30m",
    "hours": "24h",
    "days": "7d",
    "max": "3650d",
    "over-max": "3651d",
    "zero": "0",
    "overflow": "99999999999999999999d",
    "spaces": " 15m ",
    "rule": "10/1m",
    "rule-spaces": " 5 / 10m ",
    "rule-window": "1000000/1s",
    "rule-zero": "0/1m",
}

ORIGINS = {
    "https": "https://app.example.com",
    "port": "http://127.0.0.1:8080",
    "v6": "http://[::1]:3000",
    "upper": "HTTPS://App.Example.com",
    "default-port": "https://app.example.com:443",
    "trailing-slash": "https://app.example.com/",
    "path": "https://app.example.com/path",
    "null": "null",
    "star": "*",
    "userinfo": "https://user@app.example.com",
    "underscore": "https://a_b.example.com",
    "issuer": "https://auth.example.com/",
    "issuer-loopback": "http://localhost:8080",
    "issuer-query": "https://auth.example.com/?x=1",
}

TARGETS = {
    "redirect_uri": REDIRECT_URIS,
    "scope": SCOPES,
    "token_form": TOKEN_FORMS,
    "jwt_token": JWT_TOKENS,
    "jwt_claims": JWT_CLAIMS,
    "task_body": TASK_BODIES,
    "config_duration": DURATIONS,
    "config_origin": ORIGINS,
}

for target, seeds in TARGETS.items():
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in seeds.items():
        file_name = name if name == "genuine" and target == "jwt_token" else f"seed-{name}"
        (folder / file_name).write_text(text, encoding="utf-8")
    print(f"{target}: {len(seeds)} seeds")
