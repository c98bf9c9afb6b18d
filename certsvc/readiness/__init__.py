"""Readiness of units before go-live (issue 14): token check reports, the readiness board, assisted checks.

- :mod:`.reports`: the one entry point that files a ``token-agent check --json`` report (agent, upload, visit);
- :mod:`.board`: per unit, can it sign today, and what is missing; its CSV;
- :mod:`.remedies`: one click from a failed check to the request that fixes it;
- :mod:`.visits`: assisted checks at the focal office, and each unit's go-live date;
- :mod:`.views`, :mod:`.forms`: the pages; :mod:`certsvc.api.readiness`: the JSON API; :mod:`.demo`: demo data.
"""
