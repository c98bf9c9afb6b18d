"""Custody register routes. Its items are "MẬT": every refusal of an item is 404 (HIDDEN)."""

from certsvc.accounts.models import Role
from certsvc.custody import handovers
from certsvc.timeutil import to_vietnam
from tests.support.custody import SETTINGS, handover_form, make_seal

VIEWERS = frozenset({Role.UNIT_HEAD, Role.FOCAL_OFFICER, Role.AUDITOR})
RECORDERS = frozenset({Role.UNIT_HEAD})
ANYWHERE = frozenset({Role.UNIT_HEAD, Role.CLERK, Role.FOCAL_OFFICER, Role.AUDITOR})
#: The page a minute's QR code opens: anyone holding the paper checks it, signed in or not.
EVERYONE = frozenset(Role)

ROUTES = {
    "custody.index": ANYWHERE,
    "custody.verify": ANYWHERE,
    "custody.check_printed": EVERYONE,
    "custody.view_token": VIEWERS,
    "custody.view_handover": VIEWERS,
    "custody.view_entry": VIEWERS,
    "custody.minutes": VIEWERS,
    "custody.book_as_pdf": VIEWERS,
    "custody.book_as_csv": VIEWERS,
    "custody.receive": RECORDERS,
    "custody.record_event": RECORDERS,
    "custody.report_lost": RECORDERS,
    "custody.new_handover": RECORDERS,
    "custody.confirm_handover": VIEWERS,  # a witness may only see the register; the service refuses non-parties
    "custody.approve_handover": RECORDERS,
}
HIDDEN = set(ROUTES) - {"custody.index", "custody.verify", "custody.check_printed"}


def targets(session, world) -> dict:
    """The commune's seal token, handed over once (completed): nobody who signs in is a party."""
    seal = make_seal(session, world, prefix="mx")
    handover = handovers.start_handover(session, seal.keeper, seal.token, handover_form(seal), SETTINGS)
    handovers.confirm_handover(session, seal.keeper, handover)
    handovers.confirm_handover(session, seal.witness_account, handover)
    event = handovers.confirm_handover(session, seal.other, handover)
    session.commit()
    return {
        "token_id": seal.token.id,
        "handover_id": handover.id,
        "entry_seq": event.seq,
        "printed_hash": event.hash,
        "year": to_vietnam(event.occurred_at).year,
    }
