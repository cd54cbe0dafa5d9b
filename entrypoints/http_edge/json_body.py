"""Request bodies that are not JSON are a 400 `invalid_json`, however they are broken.

litestar reports most malformed JSON as a 400 whose message names no format ("Input data was
truncated"); nesting past msgspec's depth limit raises RecursionError and invalid UTF-8
inside a string raises UnicodeDecodeError, and those escaped as a 500 with a traceback.
"""

from typing import Any

from litestar import Request
from litestar.exceptions import ClientException, SerializationException


class MalformedJson(ClientException):
    """The body is not JSON: answered as 400 `invalid_json`."""


class JsonBodyRequest(Request[Any, Any, Any]):
    """The request class of both HTTP APIs: every way a JSON body can be malformed is the
    same client error."""

    async def json(self) -> Any:
        try:
            return await super().json()
        except SerializationException as error:
            raise MalformedJson(f"JSON is malformed: {error}") from None
        except RecursionError:
            raise MalformedJson("JSON is malformed: nested too deeply") from None
        except UnicodeDecodeError:
            raise MalformedJson("JSON is malformed: not valid UTF-8") from None
