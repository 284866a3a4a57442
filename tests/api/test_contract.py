"""The REST API against its own OpenAPI schema (`/api/schema/`), with generated requests: no
answer is a 5xx, and every answer — success or error — has a documented status, content type and
body shape. Requests are made as a signed-in operator and as a stranger. The examples are derandomized: the
same requests every run, so that a failure is reproducible and CI never flickers on a new draw."""

from typing import Any

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from rest_framework.authtoken.models import Token
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import User
from tests.factories import open_conversation

CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


# What /api/schema/ serves (drf-spectacular's generator, public view), for the API under /api/v1/.
described = SchemaGenerator().get_schema(request=None, public=True)
described["paths"] = {path: item for path, item in described["paths"].items() if path.startswith("/api/v1/")}
schema = schemathesis.openapi.from_dict(described)
app = get_wsgi_application()


@pytest.fixture(autouse=True)
def wsgi_host(settings: Any) -> None:
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]  # what the WSGI transport sends


@pytest.fixture
def operator_token(transactional_db: Any) -> str:
    operator = User.objects.create_user(username="contract", password="pw-contract-1", role="operator")
    # Conversations with the first ids, so that generated ids also find real ones.
    for name in ("Ploy", "Krit", "Nok"):
        open_conversation(name)
    return Token.objects.create(user=operator).key


@schema.parametrize()
@hypothesis_settings(
    max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)
def test_every_answer_of_a_team_member_is_documented_and_none_is_a_server_error(
    case: Any, operator_token: str
) -> None:
    case.call_and_validate(app=app, headers={"Authorization": f"Token {operator_token}"}, checks=CHECKS)


@schema.parametrize()
@hypothesis_settings(max_examples=5, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_a_stranger_is_answered_401_in_the_documented_shape(case: Any, transactional_db: Any) -> None:
    response = case.call_and_validate(app=app, checks=CHECKS)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"
    assert response.headers["www-authenticate"][0].startswith("Token")
