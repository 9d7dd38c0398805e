"""One way for a console form to act: run a service call in the request's unit of work,
commit once, and go back to the page with the outcome (or the service's refusal) in French.

Post/redirect/get: the page shown after a form is a fresh GET, so reloading it sends nothing
twice. A refusal rolls the unit back, so a rejected form has written nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect
from marshmallow import ValidationError
from sqlalchemy.orm import Session

from vigie import web
from vigie.console.messages import french
from vigie.errors import NotFound, Problem


def act(
    back: str, action: Callable[[Session], str], after: Callable[[], None] | None = None
) -> Any:
    """Run `action`, commit, flash what it returns; `after` runs once the commit is done."""
    session = web.session()
    try:
        done = action(session)
        session.commit()
    except NotFound:
        raise
    except (Problem, ValidationError) as error:
        session.rollback()
        flash(french(error), "error")
    else:
        if after is not None:
            after()
        flash(done, "success")
    return redirect(back)


def text(form: Any, name: str) -> str | None:
    """A form field, stripped; None when empty (the schema then says it is missing)."""
    value = str(form.get(name, "")).strip()
    return value or None
