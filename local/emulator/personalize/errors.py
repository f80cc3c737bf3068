"""The service's error codes, raised by the backend and turned into HTTP 400 JSON by the protocol."""

from __future__ import annotations


class PersonalizeError(Exception):
    """An error the service would answer: `code` is the `__type` botocore reads."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status

    def __reduce__(self) -> tuple[type[PersonalizeError], tuple[str, str, int]]:
        return (type(self), (self.code, self.message, self.status))


def invalid(message: str) -> PersonalizeError:
    return PersonalizeError("InvalidInputException", message)


def not_found(message: str) -> PersonalizeError:
    return PersonalizeError("ResourceNotFoundException", message)


def in_use(message: str) -> PersonalizeError:
    return PersonalizeError("ResourceInUseException", message)


def exists(message: str) -> PersonalizeError:
    return PersonalizeError("ResourceAlreadyExistsException", message)


def limit(message: str) -> PersonalizeError:
    return PersonalizeError("LimitExceededException", message)
