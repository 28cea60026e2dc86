"""The history trackers every tracked model uses: pghistory's insert, update and delete events, at statement level
(``PGHISTORY_LEVEL``), attaching the request's context only to a statement that records an event.

pghistory's statement-level trigger joins the rows it records to a one-row CTE that calls
``_pgh_attach_context()``, which upserts the ``pghistory_context`` row. A statement fires its triggers whether it
touched rows or not, and when the plan reads that CTE before the (empty) rows, as PostgreSQL chooses for a
multi-row UPDATE that rewrote rows as they were, or for any statement once such a plan is cached on the
connection, a POST that changed nothing left a context no event points to. Row-level history never did: its
trigger ran only for a row it recorded.

Here the context comes from an uncorrelated scalar subquery instead, which PostgreSQL runs once, when the first
recorded row asks for it, and never when there is none. (A CTE that yields its row only ``WHERE EXISTS`` (the
rows) would do the same, but the planner joins the transition tables of an UPDATE in a nested loop for it, meant
to stop at the first changed row: an UPDATE of 3,000 rows that changed none took 2 s.)
"""

from __future__ import annotations

import pghistory
import pgtrigger
from pghistory import trigger

# What pghistory writes, and what it becomes: each must occur exactly once in the trigger's function.
_REWRITES = (
    ("WITH _pgh_attached_context AS ( SELECT _pgh_attach_context() AS value ) ", ""),
    ("_pgh_attached_context.value", "(SELECT _pgh_attach_context())"),
    (", _pgh_attached_context;", ";"),
)


class _Event(trigger.Event):
    def get_func(self, model):
        func = super().get_func(model)
        if self.level != pgtrigger.Statement:
            return func
        for before, after in _REWRITES:
            if func.func.count(before) != 1:
                # A pghistory upgrade writes its trigger differently: stop rather than record history without this.
                raise RuntimeError(f"pghistory's statement trigger has changed ({before!r}): {func.func!r}")
            func.func = func.func.replace(before, after)
        return func


class _Tracked(pghistory.RowEvent):
    def add_event_trigger(self, event_model):
        pgtrigger.register(
            _Event(
                event_model=event_model,
                label=self.label,
                name=self.trigger_name,
                row=self.row,
                operation=self.operation,
                condition=self.condition,
                level=self.level,
            )
        )(event_model.pgh_tracked_model)


class InsertEvent(_Tracked, pghistory.InsertEvent):
    """pghistory's ``InsertEvent``; its context is attached only when the statement inserted rows."""


class UpdateEvent(_Tracked, pghistory.UpdateEvent):
    """pghistory's ``UpdateEvent``; its context is attached only when a tracked field of some row changed."""


class DeleteEvent(_Tracked, pghistory.DeleteEvent):
    """pghistory's ``DeleteEvent``; its context is attached only when the statement deleted rows."""
