"""AWS sessions and clients for a crawl: the ambient identity, an assumed-role session per account
with credentials that refresh before they expire, and Bedrock clients whose responses keep their
raw JSON body."""

from __future__ import annotations

import functools
import os
import ssl
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aioboto3
import aiohttp
import orjson
from aiobotocore.config import AioConfig
from aiobotocore.credentials import (
    AioAssumeRoleCredentialFetcher,
    AioCredentialResolver,
    AioDeferredRefreshableCredentials,
)
from aiobotocore.httpsession import AIOHTTPSession
from aiobotocore.session import AioSession
from botocore.config import Config
from botocore.credentials import CredentialProvider
from botocore.httpsession import create_urllib3_context, get_cert_path

from crawler import __version__
from crawler.errors import ConfigError

__all__ = [
    "RAW_BODY",
    "AwsContext",
    "ClientSettings",
    "Identity",
]

# Key under which a response carries its body as the API sent it (see _keep_raw_body).
RAW_BODY = "RawBody"

_SESSION_NAME = "bedrock-inventory"


@dataclass(frozen=True, slots=True)
class Identity:
    """Who the ambient credentials are (STS GetCallerIdentity)."""

    account_id: str
    arn: str

    @property
    def partition(self) -> str:
        return self.arn.split(":")[1] if self.arn.startswith("arn:") else "aws"


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """HTTP behaviour of every AWS client of a crawl."""

    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_pool_connections: int = 10

    def botocore_config(self, *, botocore_attempts: int = 1) -> Config:
        return AioConfig(
            http_session_cls=_SharedTlsSession,
            # botocore's own retries are off for the crawl's calls: tenacity
            # (crawler.extract.pages) is the one retry layer, so the two never multiply.
            retries={"total_max_attempts": botocore_attempts, "mode": "standard"},
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            max_pool_connections=self.max_pool_connections,
            user_agent_appid=f"bedrock-inventory-{__version__}",
        )


@functools.lru_cache(maxsize=4)
def _verified_tls_context(ca_bundle: str | None) -> ssl.SSLContext:
    context: ssl.SSLContext = create_urllib3_context()
    if ca_bundle:
        context.load_verify_locations(ca_bundle)
    return context


class _SharedTlsSession(AIOHTTPSession):  # type: ignore[misc]
    """aiobotocore's HTTP session, with the CA bundle loaded once per process.

    aiobotocore builds a TLS context and loads the whole CA bundle for every client (about
    30 ms of CPU each, measured), and a crawl of an organisation makes one client per (account,
    region): at 1,000 accounts x 4 regions that alone was half the crawl's CPU. The verified
    context is immutable once built and safe to share between connectors. Proxies and client
    certificates keep aiobotocore's own path.
    """

    def _create_connector(self, proxy_url: str | None) -> aiohttp.TCPConnector:
        if proxy_url or not self._verify or self._cert_file:
            connector: aiohttp.TCPConnector = super()._create_connector(proxy_url)
            return connector
        return aiohttp.TCPConnector(
            limit=self._max_pool_connections,
            ssl=_verified_tls_context(get_cert_path(self._verify)),
            **self._connector_args,
        )


def _keep_raw_body(
    response_dict: dict[str, Any], customized_response_dict: dict[str, Any], **_: Any
) -> None:
    """Hand the successful response's JSON body to the caller as the API sent it.

    botocore's parser drops every member its (older) model does not know, and costs most of the
    client's CPU; the body is parsed here once with orjson instead, and botocore is given an
    empty object to parse. Error responses are left alone so botocore still raises ClientError
    with the AWS error code.
    """
    if response_dict.get("status_code", 500) >= 300:
        return
    body = response_dict.get("body") or b"{}"
    customized_response_dict[RAW_BODY] = orjson.loads(body)
    response_dict["body"] = b"{}"


class _FixedCredentialProvider(CredentialProvider):  # type: ignore[misc]
    """Hands a session one ready credentials object (an assumed role's)."""

    METHOD = "assume-role"
    CANONICAL_NAME = "bedrock-inventory-assume-role"

    def __init__(self, credentials: Any) -> None:
        super().__init__()
        self._credentials = credentials

    async def load(self) -> Any:
        return self._credentials


class AwsContext:
    """The AWS side of one crawl. Sessions are made per account and reused by all its scopes;
    nothing is created at import time."""

    def __init__(
        self,
        *,
        role_name: str | None,
        external_id: str | None,
        client_settings: ClientSettings,
        default_region: str | None = None,
    ) -> None:
        self._role_name = role_name
        self._external_id = external_id
        self._client_settings = client_settings
        self._core = AioSession()
        # botocore 1.40 reads only AWS_DEFAULT_REGION; AWS_REGION is what the other SDKs (and
        # Lambda, ECS, EKS) set, so it is honoured too.
        region = default_region or self._core.get_config_variable("region")
        region = region or os.environ.get("AWS_REGION")
        if region:
            self._core.set_config_variable("region", region)
        self._base = aioboto3.Session(botocore_session=self._core)
        self._sessions: dict[str, aioboto3.Session] = {}
        self._identity: Identity | None = None

    @property
    def region_name(self) -> str | None:
        """The ambient session's region (AWS_REGION, AWS_DEFAULT_REGION, the profile)."""
        region: str | None = self._core.get_config_variable("region")
        return region

    async def identity(self) -> Identity:
        """The ambient identity; ConfigError when there are no usable credentials."""
        if self._identity is None:
            if await self._core.get_credentials() is None:
                raise ConfigError(
                    "no AWS credentials found (environment, shared files, SSO, container "
                    "or instance role)"
                )
            async with self._base.client(
                "sts", region_name=self.region_name, config=self._client_settings.botocore_config()
            ) as sts:
                answer = await sts.get_caller_identity()
            self._identity = Identity(account_id=answer["Account"], arn=answer["Arn"])
        return self._identity

    def session_for(self, account_id: str) -> aioboto3.Session:
        """The session that acts in `account_id`: the ambient one without a role name, else
        one whose credentials assume the role there and refresh before they expire."""
        if self._role_name is None:
            return self._base
        if account_id not in self._sessions:
            self._sessions[account_id] = self._assumed_session(account_id)
        return self._sessions[account_id]

    def role_arn(self, account_id: str, partition: str) -> str:
        return f"arn:{partition}:iam::{account_id}:role/{self._role_name}"

    def _assumed_session(self, account_id: str) -> aioboto3.Session:
        assert self._identity is not None, "identity() must be called first"
        extra: dict[str, Any] = {"RoleSessionName": _SESSION_NAME}
        if self._external_id is not None:
            extra["ExternalId"] = self._external_id
        fetcher = AioAssumeRoleCredentialFetcher(
            client_creator=self._sts_client_creator(),
            source_credentials=_SourceCredentials(self._core),
            role_arn=self.role_arn(account_id, self._identity.partition),
            extra_args=extra,
        )
        # Deferred: nothing is assumed until the first call, and botocore refreshes the
        # credentials ahead of their expiry (15 minutes advisory, 10 mandatory), so a crawl
        # longer than the role's session duration never fails on expiry.
        credentials = AioDeferredRefreshableCredentials(
            refresh_using=fetcher.fetch_credentials, method="assume-role"
        )
        core = AioSession()
        # Share the parsed service models instead of loading them again for every account.
        core.register_component("data_loader", self._core.get_component("data_loader"))
        core.register_component(
            "credential_provider",
            AioCredentialResolver(providers=[_FixedCredentialProvider(credentials)]),
        )
        if self.region_name:
            core.set_config_variable("region", self.region_name)
        return aioboto3.Session(botocore_session=core)

    def _sts_client_creator(self) -> Callable[..., Any]:
        # AssumeRole is rare and cheap, and runs inside botocore's credential refresh where our
        # retry layer cannot reach: let botocore retry its throttling itself.
        config = self._client_settings.botocore_config(botocore_attempts=4)

        def create(service_name: str, **kwargs: Any) -> Any:
            return self._core.create_client(
                service_name, region_name=self.region_name, config=config, **kwargs
            )

        return create

    @asynccontextmanager
    async def bedrock(self, account_id: str, region: str) -> AsyncIterator[Any]:
        """A Bedrock control-plane client acting in (account, region); its responses carry the
        raw body under RAW_BODY."""
        session = self.session_for(account_id)
        async with session.client(
            "bedrock", region_name=region, config=self._client_settings.botocore_config()
        ) as client:
            client.meta.events.register("before-parse.bedrock.*", _keep_raw_body)
            yield client


class _SourceCredentials:
    """The ambient credentials, resolved lazily and frozen per AssumeRole call (they may be
    refreshable themselves: an instance role, IRSA, SSO)."""

    def __init__(self, core: AioSession) -> None:
        self._core = core

    async def get_frozen_credentials(self) -> Any:
        credentials = await self._core.get_credentials()
        return await credentials.get_frozen_credentials()


def raw_body(response: Mapping[str, Any]) -> dict[str, Any]:
    """The body kept by _keep_raw_body."""
    body = response.get(RAW_BODY)
    return body if isinstance(body, dict) else {}
