"""AWS errors as the simulator raises them, independent of the wire protocol.

Handlers raise :class:`AwsError` with the REST-JSON (Bedrock) code; each protocol module renders
it, translating the code where the real service uses a different one (STS says ``Throttling``
where Bedrock says ``ThrottlingException``).
"""

from __future__ import annotations

__all__ = [
    "FAULT_STATUS_CODES",
    "AwsError",
    "access_denied",
    "error_for_status",
    "expired_token",
    "invalid_token",
    "missing_authentication",
    "resource_not_found",
    "validation",
]


class AwsError(Exception):
    """An error answer: HTTP status, AWS error code and human-readable message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


def access_denied(message: str) -> AwsError:
    return AwsError(403, "AccessDeniedException", message)


def validation(message: str) -> AwsError:
    return AwsError(400, "ValidationException", message)


def resource_not_found(message: str) -> AwsError:
    return AwsError(404, "ResourceNotFoundException", message)


def invalid_token() -> AwsError:
    # AWS gives the same answer for an unknown key and for a key used in an opt-in region the
    # account has not enabled; callers cannot tell the two apart, and neither should the crawler.
    return AwsError(
        403, "UnrecognizedClientException", "The security token included in the request is invalid."
    )


def expired_token() -> AwsError:
    return AwsError(
        403, "ExpiredTokenException", "The security token included in the request is expired"
    )


def missing_authentication() -> AwsError:
    return AwsError(403, "MissingAuthenticationTokenException", "Missing Authentication Token")


# Statuses a test may inject through ``Faults.errors``, with the code AWS pairs with each.
FAULT_STATUS_CODES: dict[int, tuple[str, str]] = {
    400: ("ValidationException", "Injected validation failure."),
    403: ("AccessDeniedException", "Injected access denial."),
    404: ("ResourceNotFoundException", "Injected missing resource."),
    429: ("ThrottlingException", "Too many requests, please wait before trying again."),
    500: ("InternalServerException", "Internal server error."),
    503: ("ServiceUnavailableException", "Service is temporarily unavailable."),
}


def error_for_status(status: int) -> AwsError:
    code, message = FAULT_STATUS_CODES[status]
    return AwsError(status, code, message)
