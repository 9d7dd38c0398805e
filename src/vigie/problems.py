"""`/problems/<slug>`: the page each problem `type` points to, for the developer who reads it.

Every error Vigie answers is a problem document whose `type` is `/problems/<slug>`. The
slugs are those of the `Problem` subclasses (vigie.errors and the domains); each explains
itself with its `summary`, `meaning` and `fix`, rendered here as a short HTML page with no
external asset, script or style (a `default-src 'none'` policy holds). An unknown slug is a
404 problem document like any other.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, render_template_string

from vigie.errors import PROBLEM_BASE, HttpError, NotFound, Problem

blp = Blueprint("problems", __name__, url_prefix=PROBLEM_BASE.rstrip("/"))

POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

_LAYOUT = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} · Vigie API</title>
</head>
<body>
<main>
{% block main %}{% endblock %}
</main>
</body>
</html>
"""

_PAGE = _LAYOUT.replace(
    "{% block main %}{% endblock %}",
    """
<p><a href="{{ base }}">Vigie API problem types</a></p>
<h1>{{ problem.summary }}</h1>
<p>HTTP status <strong>{{ status }}</strong>, problem type
<code>{{ base }}{{ problem.slug }}</code>.</p>
<h2>What happened</h2>
<p>{{ problem.meaning }}</p>
<h2>How to fix it</h2>
<p>{{ problem.fix }}</p>
<p>The answer is an RFC 9457 problem document (<code>application/problem+json</code>): its
<code>detail</code> says what was wrong with this request, <code>errors</code> (when present) names
each field at fault, and <code>request_id</code> identifies the request if you contact us.</p>
""",
)

_INDEX = _LAYOUT.replace(
    "{% block main %}{% endblock %}",
    """
<h1>Vigie API problem types</h1>
<p>Every error of the Vigie API is an RFC 9457 problem document whose <code>type</code> is one of
these pages.</p>
<ul>
{% for problem in problems %}
<li><a href="{{ base }}{{ problem.slug }}">{{ problem.summary }}</a>
(<code>{{ problem.slug }}</code>)</li>
{% endfor %}
</ul>
""",
)


def catalogue() -> dict[str, type[Problem]]:
    """Every problem type the app can answer, by slug: each Problem subclass of Vigie's code
    that names its own slug (a subclass keeping its parent's slug is the same type)."""
    found: dict[str, type[Problem]] = {Problem.slug: Problem}
    pending = list(Problem.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith("vigie.") and "slug" in vars(cls):
            found.setdefault(cls.slug, cls)
    return dict(sorted(found.items()))


def _html(body: str, status: int = 200) -> Response:
    response = Response(body, status=status, mimetype="text/html")
    response.headers["Content-Security-Policy"] = POLICY
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@blp.get("/")
def index() -> Response:
    problems = list(catalogue().values())
    return _html(
        render_template_string(_INDEX, title="Problem types", problems=problems, base=PROBLEM_BASE)
    )


@blp.get("/<slug>")
def page(slug: str) -> Response:
    problem = catalogue().get(slug)
    if problem is None:
        raise NotFound("No problem type has this name; the index lists them all.")
    status = "the one of the answer" if problem is HttpError else str(problem.status)
    html = render_template_string(
        _PAGE, title=problem.summary, problem=problem, status=status, base=PROBLEM_BASE
    )
    return _html(html)


def init_app(app: Flask) -> None:
    """Register the pages (HTML for people, so not operations of the OpenAPI document)."""
    app.register_blueprint(blp)
