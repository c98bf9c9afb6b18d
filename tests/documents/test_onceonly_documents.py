"""The new-document form is once-only: saved three times with one token, it makes one draft."""

from __future__ import annotations

from certsvc.documents.models import OutgoingDocument
from tests.documents.conftest import document_values
from tests.documents.test_outgoing_pages import as_form
from tests.ui.test_onceonly_forms import assert_one_record_and_same_page, count, form_token, send_three_times


def test_a_document_draft_saved_three_times_is_one_document(make_browser, session, docs_world):
    browser = make_browser()
    browser.login("drafter")
    values = as_form(document_values(session, docs_world, drafting_unit_id=docs_world.org("vhtt").id))
    values["form_token"] = form_token(browser, "/documents/new")
    answers = send_three_times(browser, "/documents/new", values, content_type="multipart/form-data")
    assert count(session, OutgoingDocument) == 1
    assert_one_record_and_same_page(browser, answers)
