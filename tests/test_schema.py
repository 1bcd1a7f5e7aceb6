"""The OpenAPI schema covers every API endpoint, with request and response schemas."""

import pytest
from django.urls import get_resolver
from drf_spectacular.generators import SchemaGenerator


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def test_every_api_route_is_in_the_schema(schema):
    documented = set(schema["paths"])
    routes = set()

    def walk(patterns, prefix=""):
        for pattern in patterns:
            text = prefix + str(pattern.pattern)
            if hasattr(pattern, "url_patterns"):
                walk(pattern.url_patterns, text)
            elif text.startswith("api/v1/"):
                routes.add("/" + text.replace("<int:", "{").replace(">", "}"))

    walk(get_resolver().url_patterns)
    normalised = {path.replace("{id}", "{pk}") for path in documented}
    missing = {r for r in routes if r not in documented and r not in normalised}
    assert not missing, f"undocumented routes: {sorted(missing)}"


def test_every_operation_documents_its_success_and_error_responses(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert any(code.startswith("2") for code in codes), (method, path)
            if method in {"post", "patch", "put"} and operation.get("requestBody"):
                assert "400" in codes or "415" in codes, (method, path)
