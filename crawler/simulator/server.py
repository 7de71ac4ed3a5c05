"""The HTTP front door: one aiohttp endpoint for every service and region, as ``endpoint_url``.

A request goes through the same gates as at AWS, in this order: credential scope, operation,
authentication (key, session token, expiry), enabled region (for regional services), injected
faults and latency, then the operation's own authorisation and work. Every request ends up in
``Simulator.calls``.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass
from types import TracebackType

from aiohttp import web

from .auth import CredentialScope, CredentialStore, parse_scope, utcnow
from .bedrock import BedrockService
from .ec2 import API_VERSION as EC2_API_VERSION
from .ec2 import Ec2Service
from .errors import AwsError, error_for_status, invalid_token, missing_authentication
from .faults import Faults
from .organizations import OrganizationsService
from .protocol import RequestContext, Service
from .scenario import Scenario, build_world, faults_for
from .sts import StsService
from .world import World

__all__ = ["Call", "Simulator"]

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1"})
# In-flight requests get this long to finish on stop(); hanging ones are released first, so
# only a wedged handler would ever use it up.
SHUTDOWN_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True)
class Call:
    """One request as the simulator saw it.

    ``account_id`` is the account the caller acted in (``None`` before authentication
    succeeded); ``status`` is the HTTP status sent, ``None`` when a ``reset`` or ``hang`` fault
    meant no answer was sent at all.
    """

    service: str
    operation: str
    account_id: str | None
    region: str | None
    status: int | None
    access_key_id: str | None


class Simulator:
    """A fake AWS endpoint serving ``world`` and misbehaving as ``faults`` say."""

    def __init__(
        self, world: World, faults: Faults | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        if host not in LOOPBACK_HOSTS:
            # Fake credentials and a fake AWS must never be reachable from another machine.
            raise ValueError(f"the simulator binds to loopback only, not {host!r}")
        self.world = world
        self.faults = faults if faults is not None else Faults()
        self.calls: list[Call] = []
        self._host = host
        self._port = port
        self._credentials = CredentialStore()
        self._services: dict[str, Service] = {
            service.name: service
            for service in (BedrockService(), StsService(), Ec2Service(), OrganizationsService())
        }
        # Set by for_scenario: the scenario served and the step of change its world is at.
        self.scenario: Scenario | None = None
        self.step = 0
        self._runner: web.ServerRunner | None = None
        self._endpoint_url: str | None = None
        self._stopping = asyncio.Event()

    @classmethod
    def for_scenario(
        cls,
        scenario: Scenario,
        step: int = 0,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        faults: Faults | None = None,
    ) -> Simulator:
        """A simulator serving ``scenario``'s world at ``step``, behaving as it says (or as the
        given ``faults``)."""
        sim = cls(build_world(scenario, step), faults or faults_for(scenario), host, port)
        sim.scenario = scenario
        sim.step = step
        return sim

    def advance(self, step: int | None = None) -> World:
        """Serve the scenario's world at ``step`` (default: the next one) from the next request
        on, as if that much time had passed: assets added, changed and deleted. Credentials
        already issued stay valid."""
        if self.scenario is None:
            raise RuntimeError("advance() needs a simulator made by Simulator.for_scenario")
        step = self.step + 1 if step is None else step
        self.world = build_world(self.scenario, step)
        self.step = step
        return self.world

    @property
    def base_credentials(self) -> tuple[str, str]:
        """``(access_key_id, secret_access_key)`` of a user in ``world.home_account``."""
        return self._credentials.base_credentials

    @property
    def endpoint_url(self) -> str:
        if self._endpoint_url is None:
            raise RuntimeError("the simulator is not running")
        return self._endpoint_url

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("the simulator is already running")
        self._stopping = asyncio.Event()
        runner = web.ServerRunner(
            web.Server(self._handle, access_log=None), shutdown_timeout=SHUTDOWN_TIMEOUT_SECONDS
        )
        await runner.setup()
        try:
            await web.TCPSite(runner, self._host, self._port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        host, port = runner.addresses[0][:2]
        self._endpoint_url = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    async def stop(self) -> None:
        if self._runner is None:
            return
        self._stopping.set()  # release "hang" faults so that shutdown does not wait on them
        runner, self._runner, self._endpoint_url = self._runner, None, None
        await runner.cleanup()

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        request_id = str(uuid.uuid4())
        service = await self._guess_service(request)
        operation = f"{request.method} {request.rel_url.raw_path}"
        scope: CredentialScope | None = None
        account_id: str | None = None

        def record(status: int | None) -> None:
            self.calls.append(
                Call(
                    service=service.name,
                    operation=operation,
                    account_id=account_id,
                    region=scope.region if scope else None,
                    status=status,
                    access_key_id=scope.access_key_id if scope else None,
                )
            )

        try:
            scope = parse_scope(request.headers.get("Authorization"))
            if scope is not None:
                if scope.service not in self._services:
                    raise AwsError(
                        400, "UnknownServiceException", f"Unsupported service {scope.service!r}"
                    )
                service = self._services[scope.service]
            resolved = await service.resolve(request)
            operation = resolved.operation
            if scope is None:
                raise missing_authentication()
            now = utcnow()
            principal = self._credentials.authenticate(
                scope.access_key_id,
                request.headers.get("X-Amz-Security-Token"),
                home_account=self.world.home_account,
                now=now,
            )
            account_id = principal.account_id
            account = self.world.accounts.get(account_id)
            if account is None or (service.regional and scope.region not in account.regions):
                raise invalid_token()
            key = (account_id, scope.region, operation)
            fault = self.faults.take(key)
            delay = self.faults.latency(key)
            if delay > 0 and fault != "hang":
                await self._pause(delay)
            if fault == "reset" or fault == "hang":
                record(None)
                if fault == "hang":
                    await self._stopping.wait()
                return await _drop_connection(request)
            if fault is not None:
                raise error_for_status(fault)
            response = resolved.handler(
                RequestContext(
                    world=self.world,
                    faults=self.faults,
                    credentials=self._credentials,
                    principal=principal,
                    account=account,
                    region=scope.region,
                    operation=operation,
                    args=resolved.args,
                    now=now,
                    request_id=request_id,
                )
            )
        except AwsError as error:
            response = service.render_error(error, request_id)
        except Exception:
            # A simulator bug: record it and let aiohttp answer 500 and log the traceback.
            record(500)
            raise
        record(response.status)
        return response

    async def _pause(self, seconds: float) -> None:
        # Latency that stop() cuts short, so that shutdown never waits on it.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def _guess_service(self, request: web.BaseRequest) -> Service:
        # The answer's protocol when the credential scope cannot name the service (no or a
        # malformed Authorization header), so that even "missing authentication" is rendered
        # the way the client expects: Organizations names itself in X-Amz-Target, EC2 and STS
        # are the form-POST services and EC2 sends its own API version.
        if request.headers.get("X-Amz-Target", "").startswith("AWSOrganizations"):
            return self._services["organizations"]
        if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
            form = await request.post()
            if form.get("Version") == EC2_API_VERSION:
                return self._services["ec2"]
            return self._services["sts"]
        return self._services["bedrock"]


async def _drop_connection(request: web.BaseRequest) -> web.StreamResponse:
    # Send the head of a response and cut the connection mid-body. Cutting it before any byte
    # is sent would be the purer reset, but aiohttp's client silently re-sends idempotent
    # requests (every Bedrock GET) once after such a disconnect, so a single injected reset
    # would never reach the caller. Mid-body, the client sees exactly one failure, which
    # botocore reports as ConnectionClosedError.
    transport = request.transport
    if transport is None or transport.is_closing():
        return web.Response()  # the client is already gone (it timed out on a "hang")
    response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
    response.content_length = 1024
    await response.prepare(request)
    await response.write(b'{"')
    transport.abort()
    return response
