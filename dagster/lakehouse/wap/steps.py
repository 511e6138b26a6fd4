"""Apply a plan's steps in their fixed order, saving the state file as it goes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict

from lakehouse.wap.model import (
    ALREADY_APPLIED,
    APPLIED,
    CONFLICT,
    PENDING,
    Plan,
    Step,
    WapError,
    WapRefused,
)


class StepConflict(Exception):
    """Raised by an apply function when the table moved under it (its CAS failed)."""


def steps_json(plan: Plan) -> list[dict]:
    return [asdict(s) for s in plan.steps]


def run_plan(
    plan: Plan,
    current: Callable[[str], int | None],
    *,
    apply_one: Callable[[Step], None] | None = None,
    apply_all: Callable[[list[Step]], None] | None = None,
    on_step: Callable[[Step], None] | None = None,
) -> None:
    """Bring every table of ``plan`` to its target.

    First every step is classified against the table's published snapshot now: at the
    target it is done, at the base it is pending, anything else is a conflict and
    nothing more is applied (WapRefused). Then the pending steps are applied, all in one
    commit by ``apply_all`` (atomic where the catalog allows) or one table at a time in
    plan order by ``apply_one``, the state file saved after each. ``on_step`` is called
    after each applied step (the benchmark times it; a test interrupts there).
    """
    plan.save()
    for step in plan.steps:
        kind = step.classify(current(step.table))
        step.result = kind
        if kind == CONFLICT:
            plan.save()
            raise WapRefused(
                f"{plan.operation} stopped before {step.table}: its published snapshot is "
                f"{current(step.table)}, neither the plan's base {step.base} nor its target "
                f"{step.target} (someone changed it since the plan was made); nothing more "
                "was applied",
                steps=steps_json(plan),
            )
    pending = [s for s in plan.steps if s.result == PENDING]
    if not pending:
        plan.save()
        return
    try:
        if apply_all is not None:
            apply_all(pending)
            for step in pending:
                step.result = APPLIED
            plan.save()
            for step in pending:
                if on_step:
                    on_step(step)
            return
        assert apply_one is not None
        for step in pending:
            apply_one(step)
            step.result = APPLIED
            plan.save()
            if on_step:
                on_step(step)
    except StepConflict as exc:
        for step in pending:
            if step.result == PENDING:
                step.result = CONFLICT
                break
        plan.save()
        raise WapRefused(f"{plan.operation} stopped: {exc}", steps=steps_json(plan)) from None
    except (WapRefused, WapError):
        plan.save()
        raise
    except Exception as exc:
        plan.save()
        done = [s.table for s in plan.steps if s.result in (APPLIED, ALREADY_APPLIED)]
        raise WapError(
            f"{plan.operation} interrupted ({type(exc).__name__}: {exc}); tables at their "
            f"target: {', '.join(done) or 'none'}; run it again with the same state file "
            "to resume",
            steps=steps_json(plan),
        ) from exc
