"""The domain's own exceptions; entrypoints map each `code` to an HTTP status in one place."""


class DomainError(Exception):
    """A business rule said no. `code` is the stable, snake_case name clients see."""

    code = "domain_error"

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.__class__.__doc__ or self.code)

    @property
    def message(self) -> str:
        return str(self.args[0])


class InvalidInput(DomainError):
    """The request is not valid."""

    code = "invalid_request"


class NotFound(DomainError):
    """Not found."""

    code = "not_found"


class Conflict(DomainError):
    """The resource changed underneath the request."""

    code = "conflict"


class ConcurrentUpdate(Conflict):
    """Another request changed this record first; retry."""

    code = "concurrent_update"


class Unauthorized(DomainError):
    """Authentication failed."""

    code = "unauthorized"


class Forbidden(DomainError):
    """Not allowed."""

    code = "forbidden"


class TooManyRequests(DomainError):
    """Too many attempts; retry later."""

    code = "too_many_requests"

    def __init__(self, retry_after: float, message: str = "") -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after + 0.999))
