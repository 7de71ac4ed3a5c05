"""EC2 over its own query protocol ("ec2"): form-encoded ``Action=...`` requests, XML answers.

Only DescribeRegions is served, for region discovery: the regions of the world, each with the
opt-in status the calling account has for it.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping

from aiohttp import web

from .errors import AwsError, validation
from .protocol import Handler, RequestContext, Resolved, resolve_query_action

__all__ = ["Ec2Service", "opt_in_status"]

XMLNS = "http://ec2.amazonaws.com/doc/2016-11-15/"
API_VERSION = "2016-11-15"

# EC2 has its own error codes and statuses; a code it does not know keeps the REST-JSON one.
_EC2_ERRORS: dict[str, tuple[str, int]] = {
    "AccessDeniedException": ("UnauthorizedOperation", 403),
    "ThrottlingException": ("RequestLimitExceeded", 503),
    "UnrecognizedClientException": ("AuthFailure", 401),
    "ExpiredTokenException": ("RequestExpired", 400),
    "MissingAuthenticationTokenException": ("MissingAuthenticationToken", 401),
    "IncompleteSignatureException": ("IncompleteSignature", 400),
    "ValidationException": ("InvalidParameterValue", 400),
    "InternalServerException": ("InternalError", 500),
    "ServiceUnavailableException": ("Unavailable", 503),
    "ResourceNotFoundException": ("InvalidParameterValue", 400),
    "UnknownOperationException": ("InvalidAction", 400),
}
# DescribeRegions filters, and the column of (name, endpoint, status) each one matches.
_FILTER_COLUMNS = {"region-name": 0, "endpoint": 1, "opt-in-status": 2}
_INDEXED = re.compile(r"^(?P<name>[A-Za-z]+)\.(?P<index>\d+)(?:\.(?P<rest>.+))?$")


def opt_in_status(ctx: RequestContext, region: str) -> str:
    if region not in ctx.account.regions:
        return "not-opted-in"
    return "opted-in" if region in ctx.world.opt_in_regions else "opt-in-not-required"


def describe_regions(ctx: RequestContext) -> web.Response:
    if _boolean(ctx.args, "DryRun"):
        raise AwsError(
            412, "DryRunOperation", "Request would have succeeded, but DryRun flag is set."
        )
    known = ctx.world.all_regions
    regions = [
        (name, f"ec2.{name}.amazonaws.com", opt_in_status(ctx, name))
        for name in known
        if _boolean(ctx.args, "AllRegions") or name in ctx.account.regions
    ]
    names = _numbered(ctx.args, "RegionName")
    if names:
        unknown = [name for name in names if name not in known]
        if unknown:
            raise validation(f"Invalid region names: {', '.join(unknown)}")
        regions = [region for region in regions if region[0] in names]
    for name, values in _filters(ctx.args):
        column = _FILTER_COLUMNS.get(name)
        if column is None:
            raise AwsError(400, "InvalidParameterValue", f"The filter '{name}' is invalid")
        regions = [region for region in regions if region[column] in values]
    root = ET.Element("DescribeRegionsResponse", xmlns=XMLNS)
    ET.SubElement(root, "requestId").text = ctx.request_id
    listing = ET.SubElement(root, "regionInfo")
    for name, endpoint, status in regions:
        item = ET.SubElement(listing, "item")
        ET.SubElement(item, "regionName").text = name
        ET.SubElement(item, "regionEndpoint").text = endpoint
        ET.SubElement(item, "optInStatus").text = status
    return _xml(200, root)


def _boolean(args: Mapping[str, str], member: str) -> bool:
    raw = args.get(member)
    if raw is None:
        return False
    if raw.lower() not in ("true", "false"):
        raise validation(f"Invalid value '{raw}' for {member}: expected true or false")
    return raw.lower() == "true"


def _numbered(args: Mapping[str, str], name: str) -> list[str]:
    """The values of a flattened list (``RegionName.1``, ``RegionName.2``, ...) in order."""
    found: list[tuple[int, str]] = []
    for key, value in args.items():
        match = _INDEXED.match(key)
        if match and match["name"] == name and match["rest"] is None:
            found.append((int(match["index"]), value))
    return [value for _, value in sorted(found)]


def _filters(args: Mapping[str, str]) -> list[tuple[str, set[str]]]:
    names: dict[int, str] = {}
    values: dict[int, set[str]] = {}
    for key, value in args.items():
        match = _INDEXED.match(key)
        if not match or match["name"] != "Filter":
            continue
        index = int(match["index"])
        if match["rest"] == "Name":
            names[index] = value
        elif match["rest"] and match["rest"].startswith("Value."):
            values.setdefault(index, set()).add(value)
    return [(names[index], values.get(index, set())) for index in sorted(names)]


def _xml(status: int, root: ET.Element) -> web.Response:
    return web.Response(
        status=status,
        body=ET.tostring(root, encoding="utf-8", xml_declaration=True),
        content_type="text/xml",
    )


OPERATIONS: dict[str, Handler] = {"DescribeRegions": describe_regions}


class Ec2Service:
    name = "ec2"
    regional = True

    async def resolve(self, request: web.BaseRequest) -> Resolved:
        return await resolve_query_action(
            request,
            OPERATIONS,
            lambda action: f"The action {action} is not valid for this web service.",
        )

    def render_error(self, error: AwsError, request_id: str) -> web.Response:
        code, status = _EC2_ERRORS.get(error.code, (error.code, error.status))
        root = ET.Element("Response")
        errors = ET.SubElement(ET.SubElement(root, "Errors"), "Error")
        ET.SubElement(errors, "Code").text = code
        ET.SubElement(errors, "Message").text = error.message
        ET.SubElement(root, "RequestID").text = request_id
        return _xml(status, root)
