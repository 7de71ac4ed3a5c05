"""Checking the simulator's answers against botocore's own service models.

``validate_response(service, operation, body)`` reads a successful response body the way the
operation's protocol puts it on the wire and checks it against the operation's output shape:
required members present, no members the model does not have, each value of its shape's type
(and, for XML, its lexical form), enum values, string and list lengths, numeric ranges and
patterns. It returns the problems found, each naming the path of the offending value, so a
test can show all of them at once.

Patterns are applied with search semantics, as Smithy defines them (a pattern is not anchored
unless it says so). The installed botocore's model is the authority: a value a newer API has
but that model lacks is a problem here, on purpose.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
import xml.etree.ElementTree as ET
from collections.abc import Collection, Iterator
from datetime import datetime
from typing import Any, Literal

import botocore.parsers
import botocore.session
import orjson
from botocore.model import OperationModel, ServiceModel, Shape

__all__ = ["validate_response"]

Mode = Literal["json", "xml"]
# Members an XML root may carry besides the operation's output (the request id).
_XML_METADATA = frozenset({"requestId", "RequestId", "ResponseMetadata"})


@functools.cache
def _service_model(service: str) -> ServiceModel:
    return botocore.session.get_session().get_service_model(service)


@functools.cache
def _pattern(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:  # a construct Python's engine lacks: the pattern cannot be checked
        return None


def validate_response(service: str, operation: str, body: bytes) -> list[str]:
    """Problems with ``body`` as the successful answer to ``service``'s ``operation``."""
    model = _service_model(service)
    op = model.operation_model(operation)
    protocol = model.metadata["protocol"]
    if protocol in ("json", "rest-json"):
        return _validate_json(op, body)
    if protocol in ("query", "ec2"):
        return _validate_xml(op, protocol, body)
    raise ValueError(f"{service}: protocol {protocol!r} is not supported")


def _validate_json(op: OperationModel, body: bytes) -> list[str]:
    shape = op.output_shape
    if shape is None:
        return [] if not body.strip() else ["the operation has no output, but a body was sent"]
    try:
        document = orjson.loads(body) if body.strip() else {}
    except orjson.JSONDecodeError as error:
        return [f"body is not JSON: {error}"]
    payload = shape.serialization.get("payload")
    if payload:
        return list(_check(shape.members[payload], document, payload, "json"))
    body_members = {
        name: member
        for name, member in shape.members.items()
        if member.serialization.get("location") not in ("header", "headers", "statusCode")
    }
    return list(_structure(shape, document, "", "json", body_members))


def _validate_xml(op: OperationModel, protocol: str, body: bytes) -> list[str]:
    try:
        root = ET.fromstring(body)
    except ET.ParseError as error:
        return [f"body is not XML: {error}"]
    problems: list[str] = []
    expected_root = f"{op.name}Response"
    if _local(root.tag) != expected_root:
        problems.append(f"root element is <{_local(root.tag)}>, expected <{expected_root}>")
    shape = op.output_shape
    if shape is None:
        return problems
    node: ET.Element | None = root
    wrapper = shape.serialization.get("resultWrapper")
    if wrapper:
        node = next((c for c in root if _local(c.tag) == wrapper), None)
        others = [_local(c.tag) for c in root if _local(c.tag) not in (wrapper, *_XML_METADATA)]
        problems.extend(f"unknown element <{tag}> in <{expected_root}>" for tag in others)
        if node is None:
            return [*problems, f"no <{wrapper}> element"]
    assert node is not None
    value = _xml_structure(shape, node, "", problems, skip=_XML_METADATA if not wrapper else ())
    problems.extend(_structure(shape, value, "", "xml", shape.members))
    # And botocore itself must be able to read it.
    try:
        botocore.parsers.create_parser(protocol).parse(
            {"body": body, "headers": {}, "status_code": 200}, shape
        )
    except Exception as error:
        problems.append(f"botocore cannot parse the body: {error!r}")
    return problems


# --- XML to plain values ------------------------------------------------------------------------


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _xml_name(name: str, member: Shape) -> str:
    return str(member.serialization.get("name", name))


def _xml_value(shape: Shape, node: ET.Element, path: str, problems: list[str]) -> Any:
    if shape.type_name == "structure":
        return _xml_structure(shape, node, path, problems)
    if shape.type_name == "list":
        member = shape.member
        tag = member.serialization.get("name", "member")
        items = []
        for index, child in enumerate(node):
            if _local(child.tag) != tag:
                problems.append(f"{path}: unexpected element <{_local(child.tag)}> in a list")
                continue
            items.append(_xml_value(member, child, f"{path}[{index}]", problems))
        return items
    if shape.type_name == "map":
        problems.append(f"{path}: maps in XML are not checked")
        return {}
    return node.text or ""


def _xml_structure(
    shape: Shape,
    node: ET.Element,
    path: str,
    problems: list[str],
    skip: Collection[str] = (),
) -> dict[str, Any]:
    by_tag = {_xml_name(name, member): (name, member) for name, member in shape.members.items()}
    value: dict[str, Any] = {}
    for child in node:
        tag = _local(child.tag)
        if tag in skip:
            continue
        if tag not in by_tag:
            problems.append(f"{_join(path, tag)}: unknown element <{tag}>")
            continue
        name, member = by_tag[tag]
        if name in value:
            problems.append(f"{_join(path, name)}: element <{tag}> appears twice")
        value[name] = _xml_value(member, child, _join(path, name), problems)
    return value


# --- the checks ---------------------------------------------------------------------------------


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _structure(
    shape: Shape, value: Any, path: str, mode: Mode, members: dict[str, Shape]
) -> Iterator[str]:
    where = path or "(body)"
    if not isinstance(value, dict):
        yield f"{where}: expected an object ({shape.name}), got {type(value).__name__}"
        return
    keys = {
        (str(member.serialization.get("name", name)) if mode == "json" else name): name
        for name, member in members.items()
    }
    for key in value:
        if key not in keys:
            yield f"{_join(path, key)}: member unknown to {shape.name}"
    for name in shape.required_members:
        if name in members:
            key = str(members[name].serialization.get("name", name)) if mode == "json" else name
            if value.get(key) is None:
                yield f"{_join(path, key)}: required member of {shape.name} is missing"
    present = [key for key in value if key in keys and value[key] is not None]
    if shape.metadata.get("union") and len(present) != 1:
        yield f"{where}: union {shape.name} must set exactly one member, not {present}"
    for key in present:
        yield from _check(members[keys[key]], value[key], _join(path, key), mode)


def _check(shape: Shape, value: Any, path: str, mode: Mode) -> Iterator[str]:
    kind = shape.type_name
    if kind == "structure":
        if shape.is_document_type:
            return
        yield from _structure(shape, value, path, mode, shape.members)
    elif kind == "list":
        if not isinstance(value, list):
            yield f"{path}: expected a list ({shape.name}), got {type(value).__name__}"
            return
        yield from _length(shape, len(value), path, "items")
        for index, item in enumerate(value):
            yield from _check(shape.member, item, f"{path}[{index}]", mode)
    elif kind == "map":
        if not isinstance(value, dict):
            yield f"{path}: expected a map ({shape.name}), got {type(value).__name__}"
            return
        yield from _length(shape, len(value), path, "entries")
        for key, item in value.items():
            yield from _check(shape.key, key, f"{path}.<key {key!r}>", mode)
            yield from _check(shape.value, item, f"{path}[{key!r}]", mode)
    elif kind == "string":
        yield from _string(shape, value, path)
    elif kind in ("integer", "long"):
        number = _lexical_int(value) if mode == "xml" else value
        if isinstance(number, bool) or not isinstance(number, int):
            yield f"{path}: expected an integer ({shape.name}), got {value!r}"
            return
        yield from _range(shape, number, path)
    elif kind in ("float", "double"):
        number = _lexical_float(value) if mode == "xml" else value
        if isinstance(number, bool) or not isinstance(number, int | float):
            yield f"{path}: expected a number ({shape.name}), got {value!r}"
            return
        yield from _range(shape, number, path)
    elif kind == "boolean":
        ok = value in ("true", "false") if mode == "xml" else isinstance(value, bool)
        if not ok:
            yield f"{path}: expected a boolean ({shape.name}), got {value!r}"
    elif kind == "timestamp":
        yield from _timestamp(shape, value, path, mode)
    elif kind == "blob":
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, TypeError, ValueError):
            yield f"{path}: expected base64 ({shape.name}), got {value!r:.60}"


def _string(shape: Shape, value: Any, path: str) -> Iterator[str]:
    if not isinstance(value, str):
        yield f"{path}: expected a string ({shape.name}), got {type(value).__name__}"
        return
    enum = getattr(shape, "enum", None)
    if enum and value not in enum:
        yield f"{path}: {value!r} is not a value of enum {shape.name} ({', '.join(enum)})"
    yield from _length(shape, len(value), path, "characters")
    pattern = shape.metadata.get("pattern")
    if pattern:
        compiled = _pattern(pattern)
        if compiled is not None and compiled.search(value) is None:
            yield f"{path}: {value!r:.80} does not match the pattern of {shape.name}: {pattern}"


def _length(shape: Shape, length: int, path: str, unit: str) -> Iterator[str]:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and length < low:
        yield f"{path}: {length} {unit}, {shape.name} needs at least {low}"
    if high is not None and length > high:
        yield f"{path}: {length} {unit}, {shape.name} allows at most {high}"


def _range(shape: Shape, number: float, path: str) -> Iterator[str]:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if (low is not None and number < low) or (high is not None and number > high):
        yield f"{path}: {number} is outside {shape.name}'s range {low}..{high}"


def _timestamp(shape: Shape, value: Any, path: str, mode: Mode) -> Iterator[str]:
    default = "iso8601" if mode == "xml" else "unixTimestamp"
    form = shape.serialization.get("timestampFormat", default)
    if form == "unixTimestamp":
        if isinstance(value, bool) or not isinstance(value, int | float):
            yield f"{path}: expected epoch seconds ({shape.name}), got {value!r}"
        return
    if not isinstance(value, str):
        yield f"{path}: expected an {form} timestamp string ({shape.name}), got {value!r}"
        return
    try:
        if form == "iso8601":
            datetime.fromisoformat(value)
        else:  # rfc822
            from email.utils import parsedate_to_datetime

            parsedate_to_datetime(value)
    except (TypeError, ValueError):
        yield f"{path}: {value!r} is not an {form} timestamp ({shape.name})"


def _lexical_int(text: Any) -> Any:
    if isinstance(text, str) and re.fullmatch(r"-?\d+", text):
        return int(text)
    return text


def _lexical_float(text: Any) -> Any:
    try:
        return float(text) if isinstance(text, str) else text
    except ValueError:
        return text
