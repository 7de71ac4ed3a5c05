"""Real aioboto3 clients pointed at a running simulator, for tests and experiments.

    async with SimClients(sim) as aws:
        bedrock = await aws.client("bedrock", region="us-east-1", account="222233334444")
        await bedrock.list_custom_models()
    aws.bodies  # every raw response body, as the wire carried it

With ``parse_items=False`` botocore leaves the items of JSON answers out of what it returns
(paginators still work): for crawling large worlds through real clients quickly.

One botocore session serves every client (creating one is then a matter of milliseconds, not a
tenth of a second), clients are cached per (service, region, account), an account other than the
home one is reached through STS AssumeRole, and botocore's own retries are off so every fault
reaches the caller.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import aioboto3
import orjson
from botocore.config import Config

from .server import Simulator

__all__ = ["RawBody", "SimClients"]


@dataclass(frozen=True)
class RawBody:
    """One answer as botocore received it, before parsing."""

    service: str
    operation: str
    status: int
    body: bytes


class SimClients:
    def __init__(
        self,
        sim: Simulator,
        *,
        role_name: str | None = None,
        region: str | None = None,
        parse_items: bool = True,
        **config: Any,
    ) -> None:
        self.sim = sim
        self.role_name = role_name or (
            sim.scenario.role_name if sim.scenario else "InventoryReader"
        )
        self.region = region or (sim.scenario.home_region if sim.scenario else "us-east-1")
        self.config = Config(retries={"total_max_attempts": 1}, **config)
        self.bodies: list[RawBody] = []
        self.parse_items = parse_items
        self._session = aioboto3.Session()
        self._stack = contextlib.AsyncExitStack()
        self._clients: dict[tuple[str, str, str], Any] = {}
        self._credentials: dict[str, tuple[str, str, str | None]] = {}

    async def __aenter__(self) -> SimClients:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._stack.aclose()
        self._clients.clear()

    async def client(
        self,
        service: str,
        *,
        region: str | None = None,
        account: str | None = None,
        credentials: tuple[str, str, str | None] | None = None,
    ) -> Any:
        """A client of ``service`` acting in ``account`` (default: the home account) or with
        explicit ``credentials``; cached unless credentials are given."""
        region = region or self.region
        if credentials is None:
            account = account or self.sim.world.home_account
            key = (service, region, account)
            if key in self._clients:
                return self._clients[key]
            credentials = await self.credentials(account)
        else:
            key = None
        access_key, secret, token = credentials
        client = await self._stack.enter_async_context(
            self._session.client(
                service,
                region_name=region,
                endpoint_url=self.sim.endpoint_url,
                aws_access_key_id=access_key,
                aws_secret_access_key=secret,
                aws_session_token=token,
                config=self.config,
                verify=False,  # plain HTTP to loopback: no CA bundle to load for every client
            )
        )
        client.meta.events.register(
            f"before-parse.{client.meta.service_model.service_id.hyphenize()}", self._keep
        )
        if key is not None:
            self._clients[key] = client
        return client

    async def credentials(self, account: str) -> tuple[str, str, str | None]:
        """The base credentials for the home account, an assumed role's elsewhere."""
        if account == self.sim.world.home_account:
            return (*self.sim.base_credentials, None)
        if account not in self._credentials:
            sts = await self.client("sts")
            answer = await sts.assume_role(
                RoleArn=f"arn:aws:iam::{account}:role/{self.role_name}",
                RoleSessionName="simulator-clients",
            )
            c = answer["Credentials"]
            self._credentials[account] = (c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
        return self._credentials[account]

    def _keep(self, operation_model: Any, response_dict: dict[str, Any], **_: Any) -> None:
        raw = RawBody(
            service=operation_model.service_model.service_name,
            operation=operation_model.name,
            status=int(response_dict.get("status_code", 0)),
            body=bytes(response_dict.get("body") or b""),
        )
        self.bodies.append(raw)
        if not self.parse_items and raw.status < 300 and raw.body.startswith(b"{"):
            # botocore parses only what paginators need (tokens and the like); lists of items
            # come back empty and the items are read from ``bodies``. Parsing thousands of
            # timestamps with dateutil is most of a client's time otherwise.
            document = orjson.loads(raw.body)
            response_dict["body"] = orjson.dumps(
                {k: ([] if isinstance(v, list) else v) for k, v in document.items()}
            )
