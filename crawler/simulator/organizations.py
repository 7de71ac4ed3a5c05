"""AWS Organizations over JSON 1.1: ``POST /`` with ``X-Amz-Target``, JSON in and out.

Only ListAccounts is served, for account discovery. The world's home account is the
organisation's management account; only it may list the accounts. Organizations is a global
service, so the caller's region is not checked against the account's enabled regions.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import orjson
from aiohttp import web

from .errors import AwsError, access_denied, validation
from .pagination import paginate
from .protocol import Handler, RequestContext, Resolved
from .world import Account

__all__ = ["OrganizationsService"]

TARGET_PREFIX = "AWSOrganizationsV20161128."
CONTENT_TYPE = "application/x-amz-json-1.1"
MAX_RESULTS_RANGE = range(1, 21)
DEFAULT_MAX_RESULTS = 20

# Organizations answers 400 for nearly everything, with its own codes.
_ORG_ERRORS: dict[str, tuple[str, int]] = {
    "AccessDeniedException": ("AccessDeniedException", 400),
    "ThrottlingException": ("TooManyRequestsException", 400),
    "UnrecognizedClientException": ("UnrecognizedClientException", 400),
    "ExpiredTokenException": ("ExpiredTokenException", 400),
    "ValidationException": ("InvalidInputException", 400),
    "InternalServerException": ("ServiceException", 500),
    "ServiceUnavailableException": ("ServiceUnavailableException", 503),
}
# When the organisation was created; accounts joined it in the years after.
_FOUNDED = datetime(2019, 3, 4, 9, 30, tzinfo=UTC).timestamp()
_SPREAD_SECONDS = 5 * 365 * 86400


def account_entry(ctx: RequestContext, account: Account, management: str) -> dict[str, Any]:
    account_id = account.account_id
    is_management = account_id == management
    offset = int(hashlib.sha256(account_id.encode()).hexdigest()[:8], 16) % _SPREAD_SECONDS
    return {
        "Id": account_id,
        "Arn": f"arn:aws:organizations::{management}:account/{ctx.world.org_id}/{account_id}",
        "Email": account.email or f"aws+{account_id}@example.com",
        "Name": account.name or ("management" if is_management else f"account-{account_id}"),
        "Status": "ACTIVE",
        "State": "ACTIVE",
        # The management account "joined" the organisation it created by invitation.
        "JoinedMethod": "INVITED" if is_management else "CREATED",
        "JoinedTimestamp": _FOUNDED if is_management else _FOUNDED + 3600 + offset,
    }


def list_accounts(ctx: RequestContext) -> web.Response:
    management = ctx.world.home_account
    if ctx.account.account_id != management:
        raise access_denied(
            "You don't have permissions to access this resource. Only the management account "
            "of the organization can list its accounts."
        )
    raw_size = ctx.args.get("MaxResults")
    page_size = DEFAULT_MAX_RESULTS
    if raw_size is not None:
        if not raw_size.isdigit() or int(raw_size) not in MAX_RESULTS_RANGE:
            raise validation(
                f"You provided a value that does not match the required pattern: MaxResults "
                f"must be between {MAX_RESULTS_RANGE.start} and {MAX_RESULTS_RANGE.stop - 1}."
            )
        page_size = int(raw_size)
    if ctx.faults.page_size_cap is not None:
        page_size = min(page_size, ctx.faults.page_size_cap)
    page = paginate(
        list(ctx.world.accounts.values()),
        operation=ctx.operation,
        page_size=page_size,
        token=ctx.args.get("NextToken"),
    )
    body: dict[str, Any] = {
        "Accounts": [account_entry(ctx, account, management) for account in page.items]
    }
    if page.next_token is not None:
        body["NextToken"] = page.next_token
    return _json(200, body, ctx.request_id)


def _json(status: int, body: dict[str, Any], request_id: str) -> web.Response:
    return web.Response(
        status=status,
        body=orjson.dumps(body),
        content_type=CONTENT_TYPE,
        headers={"x-amzn-RequestId": request_id},
    )


OPERATIONS: dict[str, Handler] = {"ListAccounts": list_accounts}


class OrganizationsService:
    name = "organizations"
    regional = False

    async def resolve(self, request: web.BaseRequest) -> Resolved:
        target = request.headers.get("X-Amz-Target", "")
        operation = target.removeprefix(TARGET_PREFIX)
        handler = OPERATIONS.get(operation) if target.startswith(TARGET_PREFIX) else None
        if request.method != "POST" or handler is None:
            raise AwsError(
                400, "UnknownOperationException", f"The operation {target!r} is not supported."
            )
        raw = await request.read()
        try:
            document = orjson.loads(raw or b"{}")
        except orjson.JSONDecodeError:
            raise AwsError(400, "SerializationException", "Malformed JSON request body.") from None
        if not isinstance(document, dict):
            raise AwsError(400, "SerializationException", "The request body must be an object.")
        args: dict[str, str] = {}
        for name, value in document.items():
            if isinstance(value, bool) or not isinstance(value, str | int):
                raise AwsError(
                    400, "SerializationException", f"Unexpected value for member {name}."
                )
            args[name] = str(value)
        return Resolved(operation, handler, args)

    def render_error(self, error: AwsError, request_id: str) -> web.Response:
        code, status = _ORG_ERRORS.get(error.code, (error.code, error.status))
        return _json(status, {"__type": code, "Message": error.message}, request_id)
