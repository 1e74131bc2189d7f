"""The API's one error shape, and what keeps every error under /api/ in it.

Errors raised inside an operation are answered by the handlers `errors_install` registers;
unknown paths, wrong methods and unexpected exceptions never reach an operation, so
dashboard/errors.py and `ApiErrorsMiddleware` answer them in the same shape.
"""

from __future__ import annotations

from collections.abc import Iterable
from http import HTTPStatus

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja import Field, NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError

API_PREFIX = "/api/"
DOCS_URL = "/api/v1/docs"

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    500: "server_error",
    503: "unavailable",
}
CODE_HELP = (
    "A stable word for programs: invalid (a field's value), invalid_file (an uploaded report), "
    "bad_request, unauthorized, forbidden, csrf_failed, not_found, method_not_allowed, "
    "conflict, deploy_in_progress (a build is registered but waits for another deploy, or a "
    "rollback must wait for it), too_large, server_error or unavailable (the database does "
    "not answer: retry after the Retry-After header's seconds)."
)


class FieldError(Schema):
    field: str = Field(description="The request field at fault, such as image or started_at.")
    message: str = Field(description="What is wrong with its value.")


class ErrorOut(Schema):
    """Every error the API answers, whatever its status, has this shape."""

    error: str = Field(description="One sentence: what was wrong, and what to do about it.")
    code: str = Field(description=CODE_HELP)
    field: str = Field("", description="The request field at fault, when one is.")
    file: str = Field("", description="The uploaded file at fault, when one is.")
    errors: list[FieldError] = Field(
        [], description="Every field at fault with its message (validation errors)."
    )


class ApiError(HttpError):
    """An HttpError that carries its code and the field or file at fault."""

    def __init__(
        self, status_code: int, message: str, *, code: str = "", field: str = "", file: str = ""
    ) -> None:
        super().__init__(status_code, message)
        self.code = code or code_for(status_code)
        self.field = field
        self.file = file


def code_for(status: int) -> str:
    return _CODES.get(status, "bad_request" if status < 500 else "server_error")


def error_body(
    error: str,
    code: str,
    *,
    field: str = "",
    file: str = "",
    errors: Iterable[dict] = (),
) -> dict:
    """The error shape; a lone field at fault is listed in `errors` too."""
    errors = list(errors) or ([{"field": field, "message": error}] if field else [])
    return {"error": error, "code": code, "field": field, "file": file, "errors": errors}


def error_response(status: int, error: str, code: str = "", **where) -> JsonResponse:
    return JsonResponse(error_body(error, code or code_for(status), **where), status=status)


# What any operation can answer: a malformed request (400), no or a wrong token (401), a role
# that may not (403), a body over the upload limit (413, dashboard/uploads.py), a fault (500),
# the database not answering (503, with Retry-After).
ALWAYS = (400, 401, 403, 413, 500, 503)


def error_responses(*statuses: int) -> dict:
    """The `response=` entries documenting ErrorOut for these statuses and those in ALWAYS."""
    return dict.fromkeys(sorted({*statuses, *ALWAYS}), ErrorOut)


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def not_found_sentence(path: str) -> str:
    return f"There is no API endpoint at {path}: see {DOCS_URL} for the endpoints."


def _phrase(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def _field(location: Iterable) -> str:
    """'image' from ('body', 'payload', 'image'); 'service' from ('form', 'service')."""
    parts = [str(part) for part in location]
    if parts and parts[0] == "body":
        parts = parts[2:] or parts[1:]  # drop the source and the body parameter's name
    elif parts:
        parts = parts[1:]
    return ".".join(parts)


def errors_install(api: NinjaAPI) -> None:
    """Answer every error raised inside an operation in the shape of ErrorOut."""

    def answer(request, status: int, error: str, code: str = "", **where) -> HttpResponse:
        body = error_body(error, code or code_for(status), **where)
        return api.create_response(request, body, status=status)

    @api.exception_handler(ValidationError)
    def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        errors = [
            {"field": _field(e.get("loc", ())), "message": e.get("msg", "")} for e in exc.errors
        ]
        first = errors[0] if errors else {"field": "", "message": "invalid request"}
        details = "; ".join(f"{e['field'] or 'request'}: {e['message']}" for e in errors)
        return answer(
            request,
            400,
            f"The request is not valid ({details}). See {DOCS_URL} for what each field takes.",
            "invalid",
            field=first["field"],
            errors=errors,
        )

    @api.exception_handler(AuthenticationError)
    def _unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return answer(
            request,
            401,
            "A valid API token is required: send Authorization: Bearer <token>, "
            "with a token from your API tokens page.",
        )

    @api.exception_handler(HttpError)
    def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        message = str(exc)
        if exc.status_code == 400 and message == "Cannot parse request body":
            message = "The request body is not valid JSON: send one JSON object."
        if isinstance(exc, ApiError):
            return answer(
                request, exc.status_code, message, exc.code, field=exc.field, file=exc.file
            )
        return answer(request, exc.status_code, message)

    @api.exception_handler(Http404)
    def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return answer(
            request, 404, f"Nothing exists at {request.path}: check the id in the address."
        )

    @api.exception_handler(Exception)
    def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        # Django's handlers (dashboard/errors.py) log it once and answer in this shape.
        raise exc


class ApiErrorsMiddleware:
    """Under /api/, an error answered in anything but JSON (ninja's 405) gets the error shape."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            not is_api(request)
            or response.status_code < 400
            or response.get("Content-Type", "").startswith("application/json")
        ):
            return response
        status = response.status_code
        if status == 405:
            allowed = response.get("Allow", "")
            error = f"{request.method} is not allowed on {request.path}: use {allowed}."
        elif status == 404:
            error = not_found_sentence(request.path)
        else:
            error = f"The request was refused ({_phrase(status)}): see {DOCS_URL}."
        answer = error_response(status, error)
        if "Allow" in response:
            answer["Allow"] = response["Allow"]
        return answer
