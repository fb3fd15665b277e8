"""The OpenAPI document is served and documents the problem responses of every operation."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient


def test_openapi_document_documents_problem_responses(client: TestClient[Any]) -> None:
    response = client.get("/schema/openapi.json")
    assert response.status_code == 200
    document = response.json()
    operations = [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete", "head"}
    ]
    assert len(operations) >= 9
    for path, method, operation in operations:
        assert operation.get("operationId"), (method, path)
        for status, spec in operation["responses"].items():
            if int(status) >= 400:
                assert list(spec["content"]) == ["application/problem+json"], (method, path, status)
    register = document["paths"]["/api/v1/auth/register"]["post"]["responses"]
    assert {"409", "415", "422"} <= set(register)
    admin_get = document["paths"]["/api/v1/admin/users/{user_id}"]["get"]["responses"]
    assert {"401", "403", "404"} <= set(admin_get)
