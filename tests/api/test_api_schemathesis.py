"""Item 20: a bounded schemathesis run over the OpenAPI document (/api/v1/openapi.json), in-process against the
app, with the tokens of two roles. Checked: no 5xx, every answer conforms to the document, data the document
forbids is refused, and data it allows is not refused as malformed.

One test per operation, each on its own database; the document is the one the endpoint serves."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance
from schemathesis.transport.serialization import serialize_binary

from certsvc.accounts.api_tokens import create_token
from certsvc.accounts.models import Role
from certsvc.api.openapi import openapi_document
from certsvc.documents.drafting import MAX_APPENDICES
from certsvc.requests.fields import REQUEST_TYPES

schema = schemathesis.openapi.from_dict(openapi_document())

#: Ids of records: the document says what an id looks like (a whole number from 1), not which records exist and
#: are the caller's, so the server may refuse a well-formed one.
_IDS = {
    "organisation_id",
    "focal_office_id",
    "request_ids",
    "drafting_unit_id",
    "document_type_id",
    "issuing_body_id",
    "signer_id",
    "recipient_ids",
    "answers_id",
    "handler_id",
    "visitor_person_id",
}
#: A request type's own fields (their names and rules are listed by GET /request-types) and the letter's date,
#: which may not be after today: the document cannot say either.
#: Days of the documents (a period, a deadline not before today, a date the calendar covers, a register's year
#: not after next year), and the PDF a document's file must be.
_BEYOND_THE_DOCUMENT = {
    "document_date",
    "certificate_id",
    "token_id",
    "from",
    "to",
    "original_date",
    "handle_by",
    "year",
    "file",
    # an assisted visit's token (the unit's, in the registry), its check report (what token_agent wrote) and a
    # unit's go-live day (a date the calendar covers)
    "token_serial",
    "report",
    "go_live_on",
    *(f"appendix_{number}" for number in range(1, MAX_APPENDICES + 1)),
} | {field.name for spec in REQUEST_TYPES.values() for field in spec.fields}


@schemathesis.serializer("application/pdf")
def _pdf_body(ctx, value) -> bytes:
    """A PDF body (an upload) as schemathesis draws it: bytes, whatever they hold; the server reads them."""
    return serialize_binary(value)


def _well_formed_ids(case, names: set[str]) -> bool:
    sent = {**(case.query or {}), **(case.body if isinstance(case.body, dict) else {})}
    values = [item for name in names for item in (sent[name] if isinstance(sent[name], list) else [sent[name]])]
    return all(int(value) >= 1 for value in values)


def _allowed_data_is_not_refused_as_malformed(ctx, response, case) -> None:
    """Schemathesis's positive_data_acceptance, but a refusal the document cannot foresee stands."""
    if response.status_code == 400 and case.meta is not None and case.meta.generation.mode.is_positive:
        error = response.json()["error"]
        refused = set(error.get("fields", {}))
        assert (
            error["code"] in {"validation_failed", "policy_refused"}
            and refused <= _IDS | _BEYOND_THE_DOCUMENT
            and _well_formed_ids(case, refused & _IDS)
        ), f"data the document allows was refused: {error}"


@pytest.fixture
def tokens(session, world) -> list[str]:
    """A unit officer's and a focal officer's: between them they may do every operation on some record."""
    secrets = [
        create_token(session, world.account(role), {"name": "schemathesis"})[1]
        for role in (Role.UNIT_OFFICER, Role.FOCAL_OFFICER)
    ]
    session.commit()
    return secrets


@schema.parametrize()
# derandomize: the same examples every run, so that CI's verdict does not depend on a draw.
@settings(
    max_examples=5,
    deadline=3000,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_api_agrees_with_its_openapi_document(app, case, tokens, monkeypatch):
    monkeypatch.setattr(case.operation.schema, "app", app)  # the checks' own probes go to the app too
    for secret in tokens:
        case.call_and_validate(
            app=app,
            headers={"Authorization": f"Bearer {secret}"},
            excluded_checks=[positive_data_acceptance],
            additional_checks=[_allowed_data_is_not_refused_as_malformed],
        )
