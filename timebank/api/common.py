"""What every router shares: the error shape, the input base class, pages of lists, scoped look-ups."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from django.conf import settings
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from ninja import Field, Schema
from ninja.params import functions as param_functions
from ninja.parser import Parser
from pydantic import ConfigDict, field_validator

from timebank.common.errors import NotFound

from .errors import BodyTooLarge, UnsupportedMediaType

M = TypeVar("M", bound=Model)
T = TypeVar("T")

MAX_ID = 2**63 - 1  # primary keys are 64-bit; larger numbers are refused by validation, not by the database
MAX_LIMIT = 100
IdInt = Annotated[int, Field(ge=1, le=MAX_ID, examples=[1])]


def id_path() -> Any:
    """A primary key in the path: 1 … 2**63-1 (larger numbers are a 400, not a database overflow)."""
    return param_functions.Path(..., ge=1, le=MAX_ID)


class ErrorDetail(Schema):
    field: str | None = Field(None, examples=["window_start"])
    code: str = Field(..., examples=["missing"])
    message: str = Field(..., examples=["Field required"])


class ErrorOut(Schema):
    """The one shape of every failure."""

    code: str = Field(..., description="Stable; clients may switch on it.", examples=["care.bad_window"])
    message: str = Field(
        ...,
        description="In the request's language (Accept-Language: zh-Hans or en).",
        examples=["服务时间无效：开始时间已过。"],
    )
    field: str | None = Field(None, description="The input field at fault, if one is.", examples=["window_start"])
    details: list[ErrorDetail] = Field(default_factory=list, description="One entry per invalid field.")


#: Documented on every operation (and returned with :class:`ErrorOut`).
ERRORS: dict[int, Any] = dict.fromkeys((400, 401, 403, 404, 409, 411, 413, 415, 429), ErrorOut)


def responses(ok: Any, status: int = 200) -> dict[int, Any]:
    return {status: ok, **ERRORS}


def _clean_text(value: Any) -> Any:
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("must not contain NUL characters")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("must be valid Unicode text") from None
    elif isinstance(value, list):
        for item in value:
            _clean_text(item)
    return value


class In(Schema):
    """Base of every request body and query: unknown fields are refused, text is clean Unicode."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, str_max_length=4000)

    @field_validator("*", mode="after")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return _clean_text(value)


class PageQuery(In):
    limit: int = Field(20, ge=1, le=MAX_LIMIT, description=f"At most {MAX_LIMIT}.")
    offset: int = Field(0, ge=0, le=1_000_000)


class Page(Schema, Generic[T]):
    count: int = Field(..., description="How many match the filters (all pages).")
    limit: int
    offset: int
    items: list[T]


def page(qs: QuerySet[M], query: PageQuery) -> dict[str, Any]:
    """One page of a queryset (it must be ordered), as ``{count, limit, offset, items}``."""
    return {
        "count": qs.count(),
        "limit": query.limit,
        "offset": query.offset,
        "items": list(qs[query.offset : query.offset + query.limit]),
    }


def get_visible(qs: QuerySet[M], pk: int) -> M:
    """The row with ``pk`` among what the caller may see, else :class:`NotFound` (never "forbidden":
    another region's records are not revealed to exist)."""
    found = qs.filter(pk=pk).first() if 0 < pk <= MAX_ID else None
    if found is None:
        raise NotFound()
    return found


class SizedJsonParser(Parser):
    """JSON bodies (``Content-Type: application/json``, else 415) up to ``API_MAX_BODY_BYTES`` (else 413,
    before parsing). :class:`~timebank.api.middleware.ApiGuardMiddleware` checks the same before any
    endpoint runs; this is the check for the endpoints that read a body."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        from .middleware import is_json_type, loads

        if not is_json_type(str(request.META.get("CONTENT_TYPE") or "")):
            raise UnsupportedMediaType()
        limit = int(settings.API_MAX_BODY_BYTES)
        declared = request.META.get("CONTENT_LENGTH") or "0"
        if (declared.isdigit() and int(declared) > limit) or len(request.body) > limit:
            raise BodyTooLarge(limit=limit)
        data: dict[str, Any] = loads(request.body)
        return data
