"""The organisation tree as permission checks and drop-downs read it, kept per process.

Reading every organisation on each request would cost a query per page; a process keeps the trees it read
by the database's tree version, and a session forgets its tree when organisations change or its
transaction ends.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple, TypeVar, cast

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from certsvc.orgs.models import Organisation, OrganisationTreeVersion

__all__ = ["OrgTree", "TreePlace"]

T = TypeVar("T")


class TreePlace(NamedTuple):
    """An organisation as a drop-down lists it: indented ``depth`` levels."""

    id: int
    name: str
    depth: int


#: Where a session keeps the tree it read (see :func:`_forget_tree`).
_SESSION_TREE = "certsvc.orgs.tree"
#: Trees read lately, by the tree version they were read with; bounded, since tests open many databases.
_TREES: OrderedDict[str, OrgTree] = OrderedDict()
_TREES_KEPT = 8
_TREES_LOCK = threading.Lock()


@dataclass(frozen=True, eq=False)
class OrgTree:
    """Every organisation's name, parent and focal-office link, read in one query.

    A process keeps the trees it read by the database's tree version (renewed by triggers on any
    change of the organisations), so each transaction reads one value rather than every
    organisation, and what is derived from a tree (whom an office serves, a subtree, the tree order
    of a drop-down) is worked out once per change. Derived sets are frozen: callers cannot spoil them.
    """

    parent: dict[int, int | None]
    focal_office: dict[int, int | None]
    name: dict[int, str] = field(default_factory=dict)
    _derived: dict[tuple, object] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, session: Session) -> OrgTree:
        """The tree as ``session`` sees it; looked up once per transaction unless organisations change."""
        tree = session.info.get(_SESSION_TREE)
        if tree is None:
            tree = session.info[_SESSION_TREE] = cls._current(session)
        return tree

    @classmethod
    def _current(cls, session: Session) -> OrgTree:
        version = session.scalar(select(OrganisationTreeVersion.version))
        if version is not None:
            with _TREES_LOCK:
                tree = _TREES.get(version)
                if tree is not None:
                    _TREES.move_to_end(version)
                    return tree
        # The version is read again with the rows, in one statement: a tree is kept only under the
        # version of the very rows it was built from.
        rows = session.execute(
            select(
                Organisation.id,
                Organisation.parent_id,
                Organisation.focal_office_id,
                Organisation.name,
                select(OrganisationTreeVersion.version).scalar_subquery(),
            ).order_by(Organisation.id)
        ).all()
        tree = cls(
            parent={org_id: parent for org_id, parent, *_ in rows},
            focal_office={org_id: focal for org_id, _, focal, *_ in rows},
            name={org_id: name for org_id, _, _, name, _ in rows},
        )
        if rows and rows[0][4] is not None:
            with _TREES_LOCK:
                _TREES[rows[0][4]] = tree
                while len(_TREES) > _TREES_KEPT:
                    _TREES.popitem(last=False)
        return tree

    def memo(self, key: tuple, compute: Callable[[], T]) -> T:
        """A value derived from this tree alone, computed once per tree; ``key`` names it (its first
        item says whose it is, so that keys of different callers never meet)."""
        if key not in self._derived:
            self._derived[key] = compute()
        # The value under ``key`` is what this caller's ``compute`` returned.
        return cast(T, self._derived[key])

    def ancestors_and_self(self, org_id: int) -> Iterable[int]:
        seen: set[int] = set()
        current: int | None = org_id
        while current is not None and current not in seen:
            seen.add(current)
            yield current
            current = self.parent.get(current)

    def subtree(self, root_id: int) -> frozenset[int]:
        return self.memo(
            ("subtree", root_id),
            lambda: frozenset(org for org in self.parent if root_id in self.ancestors_and_self(org)),
        )

    def effective_focal_office(self, org_id: int) -> int | None:
        for org in self.ancestors_and_self(org_id):
            if self.focal_office.get(org) is not None:
                return self.focal_office[org]
        return None

    def served_by(self, focal_id: int) -> frozenset[int]:
        return self.memo(
            ("served_by", focal_id),
            lambda: frozenset(org for org in self.parent if self.effective_focal_office(org) == focal_id),
        )

    def in_tree_order(self, only: Iterable[int]) -> tuple[TreePlace, ...]:
        """The organisations in ``only`` depth-first, by name among siblings; one whose parent is
        left out takes the parent's place."""
        only = frozenset(only)
        return self.memo(("tree_order", only), lambda: tuple(self._walk(only)))

    def _walk(self, only: frozenset[int]) -> Iterator[TreePlace]:
        children: dict[int | None, list[int]] = {}
        for org_id, parent in self.parent.items():
            children.setdefault(parent if parent in self.parent else None, []).append(org_id)
        for siblings in children.values():
            siblings.sort(key=lambda org_id: self.name[org_id])
        stack: list[tuple[int, int]] = [(org_id, 0) for org_id in reversed(children.get(None, []))]
        while stack:
            org_id, depth = stack.pop()
            shown = org_id in only
            if shown:
                yield TreePlace(org_id, self.name[org_id], depth)
            stack.extend((child, depth + shown) for child in reversed(children.get(org_id, [])))


@event.listens_for(Session, "after_flush")
def _forget_tree_if_orgs_changed(session: Session, _flush_context) -> None:
    if any(isinstance(obj, Organisation) for obj in (*session.new, *session.dirty, *session.deleted)):
        session.info.pop(_SESSION_TREE, None)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _forget_tree(session: Session, *_args) -> None:
    """A new transaction may see organisations that others changed: it looks the tree up again."""
    session.info.pop(_SESSION_TREE, None)
