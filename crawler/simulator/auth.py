"""Who is calling: the SigV4 credential scope and the principals behind access keys.

Signatures are not verified; the simulator trusts the scope (access key, region, service) the
way a test double should, and spends its effort on the answers AWS gives for keys that are
unknown, expired, or used in a region the account has not enabled.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import string
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .errors import AwsError, expired_token, invalid_token

__all__ = [
    "CredentialScope",
    "CredentialStore",
    "IssuedCredentials",
    "Principal",
    "parse_scope",
    "utcnow",
]

_SCOPE = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<key>[^/,\s]+)/(?P<date>\d{8})/(?P<region>[^/,\s]+)"
    r"/(?P<service>[^/,\s]+)/aws4_request\s*,"
)
_KEY_ALPHABET = string.ascii_uppercase + "234567"


@dataclass(frozen=True)
class CredentialScope:
    access_key_id: str
    region: str
    service: str


def parse_scope(authorization: str | None) -> CredentialScope | None:
    """The scope of a SigV4 ``Authorization`` header; ``None`` when the header is absent."""
    if authorization is None:
        return None
    match = _SCOPE.match(authorization)
    if match is None:
        raise AwsError(
            400,
            "IncompleteSignatureException",
            f"Authorization header requires a valid 'Credential' parameter: {authorization[:80]}",
        )
    return CredentialScope(match["key"], match["region"], match["service"])


@dataclass(frozen=True)
class Principal:
    account_id: str
    arn: str
    user_id: str


@dataclass(frozen=True)
class IssuedCredentials:
    access_key_id: str
    secret_access_key: str
    session_token: str
    expires_at: datetime
    principal: Principal


def _stable_id(prefix: str, *parts: str) -> str:
    # IAM unique ids look like "AROA" + 17 base32 characters; derive them from the names so the
    # same role always has the same id, as it does in AWS.
    digest = hashlib.sha256("/".join(parts).encode()).digest()
    return prefix + "".join(_KEY_ALPHABET[b % len(_KEY_ALPHABET)] for b in digest[:17])


def _random_key(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16))


class CredentialStore:
    """The base (ambient) key pair and every key pair AssumeRole has issued."""

    BASE_USER = "inventory"

    def __init__(self) -> None:
        self.base_credentials: tuple[str, str] = (_random_key("AKIA"), secrets.token_urlsafe(30))
        self._issued: dict[str, IssuedCredentials] = {}

    def base_principal(self, home_account: str) -> Principal:
        return Principal(
            account_id=home_account,
            arn=f"arn:aws:iam::{home_account}:user/{self.BASE_USER}",
            user_id=_stable_id("AIDA", home_account, self.BASE_USER),
        )

    def issue(
        self,
        *,
        partition: str,
        account_id: str,
        role_name: str,
        session_name: str,
        ttl_seconds: float,
        now: datetime,
    ) -> IssuedCredentials:
        role_id = _stable_id("AROA", account_id, role_name)
        principal = Principal(
            account_id=account_id,
            arn=f"arn:{partition}:sts::{account_id}:assumed-role/{role_name}/{session_name}",
            user_id=f"{role_id}:{session_name}",
        )
        issued = IssuedCredentials(
            access_key_id=_random_key("ASIA"),
            secret_access_key=secrets.token_urlsafe(30),
            session_token=secrets.token_urlsafe(96),
            expires_at=now + timedelta(seconds=ttl_seconds),
            principal=principal,
        )
        self._issued[issued.access_key_id] = issued
        return issued

    def authenticate(
        self,
        access_key_id: str,
        session_token: str | None,
        *,
        home_account: str,
        now: datetime,
    ) -> Principal:
        if access_key_id == self.base_credentials[0]:
            return self.base_principal(home_account)
        issued = self._issued.get(access_key_id)
        # A temporary key is only valid together with its own session token: a client that
        # forgets to send the token must fail here as it would against AWS.
        if issued is None or session_token != issued.session_token:
            raise invalid_token()
        if now >= issued.expires_at:
            raise expired_token()
        return issued.principal


def utcnow() -> datetime:
    return datetime.now(UTC)
