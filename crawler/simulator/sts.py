"""STS over the AWS query protocol: form-encoded ``Action=...`` requests, XML answers."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping

from aiohttp import web

from .errors import AwsError, access_denied, validation
from .protocol import Handler, RequestContext, Resolved, resolve_query_action

__all__ = ["StsService"]

XMLNS = "https://sts.amazonaws.com/doc/2011-06-15/"
DURATION_RANGE = range(900, 43201)
_ROLE_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):iam::(?P<account>\d{12}):role/(?:[\w+=,.@-]+/)*"
    r"(?P<name>[\w+=,.@-]{1,64})$"
)
_SESSION_NAME = re.compile(r"^[\w+=,.@-]{2,64}$")

# STS names some errors differently from the REST-JSON services, and answers throttling with 400.
# Codes and statuses follow botocore's sts model where it has the error, and what STS sends
# where the model has no shape for it.
_STS_ERRORS: dict[str, tuple[str, int]] = {
    "AccessDeniedException": ("AccessDenied", 403),
    "ThrottlingException": ("Throttling", 400),
    "UnrecognizedClientException": ("InvalidClientTokenId", 403),
    "ExpiredTokenException": ("ExpiredTokenException", 400),
    "MissingAuthenticationTokenException": ("MissingAuthenticationToken", 403),
    "ValidationException": ("ValidationError", 400),
    "InternalServerException": ("InternalFailure", 500),
    "ServiceUnavailableException": ("ServiceUnavailable", 503),
    "UnknownOperationException": ("InvalidAction", 400),
}

Tree = Mapping[str, "str | Tree"]


def _xml_response(status: int, root: str, tree: Tree) -> web.Response:
    element = ET.Element(root, xmlns=XMLNS)
    _append(element, tree)
    return web.Response(
        status=status,
        body=ET.tostring(element, encoding="utf-8", xml_declaration=False),
        content_type="text/xml",
    )


def _append(parent: ET.Element, tree: Tree) -> None:
    for name, value in tree.items():
        child = ET.SubElement(parent, name)
        if isinstance(value, str):
            child.text = value
        else:
            _append(child, value)


def _result(ctx: RequestContext, result: Tree) -> web.Response:
    return _xml_response(
        200,
        f"{ctx.operation}Response",
        {
            f"{ctx.operation}Result": result,
            "ResponseMetadata": {"RequestId": ctx.request_id},
        },
    )


def get_caller_identity(ctx: RequestContext) -> web.Response:
    principal = ctx.principal
    return _result(
        ctx, {"Arn": principal.arn, "UserId": principal.user_id, "Account": principal.account_id}
    )


def assume_role(ctx: RequestContext) -> web.Response:
    role_arn = _required(ctx, "RoleArn")
    session_name = _required(ctx, "RoleSessionName")
    match = _ROLE_ARN.match(role_arn)
    if match is None:
        raise validation(f"{role_arn} is invalid")
    if not _SESSION_NAME.match(session_name):
        raise validation(
            f"1 validation error detected: Value '{session_name}' at 'roleSessionName' failed "
            r"to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*"
        )
    duration = ctx.args.get("DurationSeconds")
    if duration is not None and not (duration.isdigit() and int(duration) in DURATION_RANGE):
        raise validation(
            f"1 validation error detected: Value '{duration}' at 'durationSeconds' failed to "
            f"satisfy constraint: Member must be between {DURATION_RANGE.start} and "
            f"{DURATION_RANGE.stop - 1}"
        )
    account = ctx.world.accounts.get(match["account"])
    # A missing role, an untrusting account and a wrong external id all look the same to the
    # caller: STS does not reveal which one it was.
    if (
        account is None
        or match["name"] not in account.roles
        or (account.external_id is not None and ctx.args.get("ExternalId") != account.external_id)
    ):
        raise access_denied(
            f"User: {ctx.principal.arn} is not authorized to perform: sts:AssumeRole "
            f"on resource: {role_arn}"
        )
    issued = ctx.credentials.issue(
        partition=match["partition"],
        account_id=account.account_id,
        role_name=match["name"],
        session_name=session_name,
        ttl_seconds=ctx.faults.credential_ttl_seconds,
        now=ctx.now,
    )
    return _result(
        ctx,
        {
            "Credentials": {
                "AccessKeyId": issued.access_key_id,
                "SecretAccessKey": issued.secret_access_key,
                "SessionToken": issued.session_token,
                "Expiration": issued.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
            "AssumedRoleUser": {
                "AssumedRoleId": issued.principal.user_id,
                "Arn": issued.principal.arn,
            },
        },
    )


def _required(ctx: RequestContext, member: str) -> str:
    value = ctx.args.get(member)
    if not value:
        lowered = member[0].lower() + member[1:]
        raise validation(
            f"1 validation error detected: Value null at '{lowered}' failed to satisfy "
            "constraint: Member must not be null"
        )
    return value


OPERATIONS: dict[str, Handler] = {
    "GetCallerIdentity": get_caller_identity,
    "AssumeRole": assume_role,
}


class StsService:
    name = "sts"
    regional = True

    async def resolve(self, request: web.BaseRequest) -> Resolved:
        return await resolve_query_action(
            request, OPERATIONS, lambda action: f"Could not find operation {action}"
        )

    def render_error(self, error: AwsError, request_id: str) -> web.Response:
        code, status = _STS_ERRORS.get(error.code, (error.code, error.status))
        return _xml_response(
            status,
            "ErrorResponse",
            {
                "Error": {
                    "Type": "Sender" if status < 500 else "Receiver",
                    "Code": code,
                    "Message": error.message,
                },
                "RequestId": request_id,
            },
        )
