"""openapi.json, written by hand since the views are plain Django views, describes exactly what the
app serves: the URLconf's routes, the methods their views answer, their parameters' types, and
which ones need a bearer token. tests/test_fuzz.py generates its requests from it."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import URLPattern, get_resolver

from .helpers import APP_DIR

DOCUMENT = json.loads((APP_DIR / "openapi.json").read_text())
# Answered by core.middleware.HealthMiddleware before any URL is resolved.
HEALTH = {"/health/live", "/health/ready"}
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
CONVERTERS = {"int": "integer", "str": "string"}
ROUTE_PARAMETER = re.compile(r"<(\w+):(\w+)>")
SAMPLE = {"integer": "1", "string": "not-a-token"}


def routes() -> dict[str, URLPattern]:
    """The URLconf's routes by OpenAPI path (notes/<int:pk> is /notes/{pk})."""
    return {
        "/" + ROUTE_PARAMETER.sub(r"{\2}", str(pattern.pattern)): pattern for pattern in get_resolver().url_patterns
    }


def operations(path: str) -> dict:
    item = DOCUMENT["paths"][path]
    return {method.upper(): operation for method, operation in item.items() if method != "parameters"}


def parameter_types(path: str) -> dict[str, str]:
    """The documented types of the path's parameters, declared on the path or on its operations."""
    shared = DOCUMENT["paths"][path].get("parameters", [])
    declared = [*shared, *(p for op in operations(path).values() for p in op.get("parameters", []))]
    named = DOCUMENT["components"]["parameters"]
    resolved = [named[p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p for p in declared]
    return {p["name"]: p["schema"]["type"] for p in resolved if p["in"] == "path"}


def test_the_document_names_every_route_and_nothing_else() -> None:
    assert set(DOCUMENT["paths"]) == set(routes()) | HEALTH


@pytest.mark.parametrize("path", sorted(routes()))
def test_path_parameters_have_the_converters_types(path: str) -> None:
    converters = {name: CONVERTERS[kind] for kind, name in ROUTE_PARAMETER.findall(str(routes()[path].pattern))}
    assert parameter_types(path) == converters


@pytest.mark.django_db
@pytest.mark.parametrize("path", sorted(routes()))
def test_the_documented_methods_are_the_ones_the_view_answers(client, path: str) -> None:
    url = re.sub(r"{(\w+)}", lambda m: SAMPLE[parameter_types(path)[m.group(1)]], path)
    answered = {method for method in METHODS if client.generic(method, url).status_code != 405}
    assert answered == set(operations(path))


@pytest.mark.parametrize("path", sorted(routes()))
def test_the_documented_security_is_the_views(path: str) -> None:
    needs_token = getattr(routes()[path].callback, "token_required", True)
    for method, operation in operations(path).items():
        assert operation.get("security", DOCUMENT["security"]) == ([{"bearer": []}] if needs_token else []), method
