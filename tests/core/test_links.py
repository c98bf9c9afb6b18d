"""Row links of long lists are the URLs Flask's routing builds, wherever the app is mounted."""

import pytest
from flask import url_for

from certsvc.ui.links import links_by_id


@pytest.mark.parametrize("mount", ["", "/chung-thu-so"])
def test_links_by_id_are_the_urls_url_for_builds(app, mount):
    with app.test_request_context("/", environ_overrides={"SCRIPT_NAME": mount}):
        link = links_by_id("requests.view_request", "request_id")
        for request_id in (1, 42, 10_000_000):
            assert link(request_id) == url_for("requests.view_request", request_id=request_id)
        assert link(7) == f"{mount}/requests/7"


def test_an_id_the_route_takes_in_its_query_string_is_linked_the_same_way(app):
    with app.test_request_context("/"):
        link = links_by_id("requests.queue", "organisation_id")
        assert link(17) == url_for("requests.queue", organisation_id=17) == "/requests/queue?organisation_id=17"
