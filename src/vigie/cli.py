"""`vigie`: a plain Click group; each command is a thin call into a service.

The app is built lazily, by the commands that need it: `vigie --help` and every `--help`
read no configuration and write nothing (no var/, no generated secrets). A command that
needs the database refuses, in one line, to run on one that is not migrated. No error
prints a traceback unless `vigie --debug` asked for it.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from flask import Flask, current_app
from sqlalchemy.orm import Session

from vigie.errors import Problem
from vigie.runtime import Runtime

F = TypeVar("F", bound=Callable[..., Any])
APP = "vigie.app"  # where a command's app is kept in the root context's meta


def _create_app() -> Flask:
    from vigie.app import create_app
    from vigie.config import ConfigError

    try:
        return create_app()
    except ConfigError as exc:  # a refusal to start, not a crash: say why, no traceback
        raise click.ClickException(str(exc)) from None


def _app() -> Flask:
    """The app of this invocation: the one a test hands over (Flask's `test_cli_runner`
    passes a ScriptInfo), else one built now, once."""
    from flask.cli import ScriptInfo

    context = click.get_current_context()
    info = context.find_object(ScriptInfo)
    if info is not None:
        app: Flask = info.load_app()
        return app
    meta = context.find_root().meta
    if APP not in meta:
        meta[APP] = _create_app()
    built: Flask = meta[APP]
    return built


def _require_migrated(app: Flask) -> None:
    from vigie import migrate

    state = migrate.state(app.extensions["vigie"].db.engine)
    if state is not None:
        raise click.ClickException(state)


def with_app(migrated: bool = True) -> Callable[[F], F]:
    """Run the command inside the app's context; by default refuse an un-migrated database."""

    def decorate(command: F) -> F:
        @functools.wraps(command)
        def run(*args: Any, **kwargs: Any) -> Any:
            app = _app()
            if migrated:
                _require_migrated(app)
            with app.app_context():
                return command(*args, **kwargs)

        return run  # type: ignore[return-value]

    return decorate


def _runtime() -> Runtime:
    rt: Runtime = current_app.extensions["vigie"]
    return rt


@contextmanager
def _unit() -> Iterator[Session]:
    """One unit of work; a domain error ends the command with its message, not a traceback."""
    try:
        with _runtime().db.unit() as session:
            yield session
    except Problem as problem:
        raise click.ClickException(str(problem)) from None


def _cli_who() -> Any:
    """The author of an admin command, for the audit log: the operating-system account."""
    import getpass

    from vigie.audit.service import Who

    return Who(actor=f"cli:{getpass.getuser()}", role="admin")


def _emit(as_json: bool, payload: dict[str, Any], text: str) -> None:
    click.echo(json.dumps(payload, ensure_ascii=False) if as_json else text)


json_option: Callable[[Any], Any] = click.option(
    "--json", "as_json", is_flag=True, help="Machine-readable output."
)


class VigieGroup(click.Group):
    """A failure is one line on stderr and exit code 1; `--debug` shows the traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            if ctx.params.get("debug"):
                raise
            first_line = (str(exc).strip().splitlines() or [""])[0][:300]
            raise click.ClickException(
                f"{type(exc).__name__}: {first_line} (vigie --debug ... shows the traceback)"
            ) from None


@click.group(cls=VigieGroup)
@click.option("--debug", is_flag=True, help="Show the traceback of an error.")
def main(debug: bool) -> None:
    """Vigie: partner reporting API for MIPROF."""


# -- database -----------------------------------------------------------------


@main.group()
def db() -> None:
    """Database migrations."""


@db.command("upgrade")
@with_app(migrated=False)
def db_upgrade() -> None:
    """Apply every Alembic migration."""
    from vigie import migrate

    migrate.upgrade(_runtime().db.engine)
    click.echo("database is up to date")


@db.command("revision")
@click.option("-m", "--message", required=True)
@with_app(migrated=False)
def db_revision(message: str) -> None:
    """Autogenerate a migration from the models (developers)."""
    from vigie import migrate

    migrate.revision(_runtime().db.engine, message)


# -- partners and staff -------------------------------------------------------


@main.group()
def partner() -> None:
    """Partner organisations and their API keys."""


embed_origin_option: Callable[[Any], Any] = click.option(
    "--embed-origin",
    "embed_origins",
    multiple=True,
    metavar="ORIGIN",
    help="An origin allowed to frame the partner's report form, e.g. https://www.example.org "
    "(repeatable).",
)


@partner.command("create")
@click.option("--name", required=True)
@click.option("--scopes", default="reports:write,reports:read,content:read,webhooks:manage")
@click.option("--slug", default=None, help="Name in the form's URL; default: from the name.")
@embed_origin_option
@json_option
@with_app()
def partner_create(
    name: str, scopes: str, slug: str | None, embed_origins: tuple[str, ...], as_json: bool
) -> None:
    """Create a partner; its API key is printed once."""
    from vigie.partners import service

    with _unit() as session:
        created, key = service.create(
            session=session,
            who=_cli_who(),
            name=name,
            scopes=scopes.split(","),
            slug=slug,
            embed_origins=embed_origins,
            allow_loopback_http=not _runtime().config.is_production,
        )
        payload = {
            "id": created.public_id,
            "name": created.name,
            "api_key": key,
            "scopes": sorted(scopes.split(",")),
            "slug": created.slug,
            "embed_origins": created.embed_origins,
        }
    _emit(
        as_json,
        payload,
        f"{created.public_id}  {created.name}  form: /embed/{created.slug}/report\n"
        f"API key (shown once): {key}",
    )


@partner.command("set-embed-origins")
@click.argument("partner_id")
@embed_origin_option
@click.option("--none", "clear", is_flag=True, help="No site may frame the form any more.")
@json_option
@with_app()
def partner_set_embed_origins(
    partner_id: str, embed_origins: tuple[str, ...], clear: bool, as_json: bool
) -> None:
    """Replace the origins allowed to frame the partner's report form."""
    from vigie.partners import service

    if bool(embed_origins) == clear:
        raise click.UsageError("Give one or more --embed-origin, or --none to remove them all.")
    with _unit() as session:
        changed = service.set_embed_origins(
            session=session,
            who=_cli_who(),
            public_id=partner_id,
            embed_origins=embed_origins,
            allow_loopback_http=not _runtime().config.is_production,
        )
        payload = {
            "id": changed.public_id,
            "slug": changed.slug,
            "embed_origins": changed.embed_origins,
        }
    origins = " ".join(changed.embed_origins) or "none (no site may frame the form)"
    _emit(as_json, payload, f"{partner_id} embed origins: {origins}")


@partner.command("list")
@json_option
@with_app()
def partner_list(as_json: bool) -> None:
    """List partners (never their keys)."""
    from vigie.partners import service

    with _unit() as session:
        rows: list[dict[str, Any]] = []
        for p in service.list_(session=session):
            key = service.active_key(session=session, partner=p)
            rows.append(
                {
                    "id": p.public_id,
                    "name": p.name,
                    "slug": p.slug,
                    "embed_origins": p.embed_origins,
                    "revoked": p.revoked_at is not None,
                    "key_prefix": key.prefix if key else None,
                    "scopes": sorted(key.scope_set) if key else [],
                }
            )
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    for row in rows:
        state = "revoked" if row["revoked"] else ",".join(row["scopes"])
        click.echo(f"{row['id']}  {row['name']}  {row['key_prefix'] or '-'}…  {state}")


@partner.command("revoke")
@click.argument("partner_id")
@json_option
@with_app()
def partner_revoke(partner_id: str, as_json: bool) -> None:
    """Revoke a partner and all its keys, effective on the next request."""
    from vigie.partners import service

    with _unit() as session:
        revoked = service.revoke(session=session, who=_cli_who(), public_id=partner_id)
        payload = {"id": revoked.public_id, "revoked": True}
    _emit(as_json, payload, f"{partner_id} revoked")


@partner.command("rotate-key")
@click.argument("partner_id")
@json_option
@with_app()
def partner_rotate(partner_id: str, as_json: bool) -> None:
    """Issue a new API key with the same scopes; the old one stops working now."""
    from vigie.partners import service

    with _unit() as session:
        rotated, key, scopes = service.rotate_key(
            session=session, who=_cli_who(), public_id=partner_id
        )
        payload = {"id": rotated.public_id, "name": rotated.name, "api_key": key, "scopes": scopes}
    _emit(as_json, payload, f"new API key for {partner_id} (shown once): {key}")


@main.group()
def operator() -> None:
    """MIPROF staff accounts."""


@operator.command("create")
@click.option("--name", required=True)
@click.option(
    "--role", required=True, type=click.Choice(["operator", "supervisor", "editor", "admin"])
)
@json_option
@with_app()
def operator_create(name: str, role: str, as_json: bool) -> None:
    """Create a staff account; its token is printed once."""
    from vigie.operators import service

    with _unit() as session:
        created, token = service.create(session=session, who=_cli_who(), name=name, role=role)
        payload = {"id": created.public_id, "name": created.name, "role": role, "token": token}
    _emit(
        as_json,
        payload,
        f"{created.public_id}  {created.name} ({role})\ntoken (shown once): {token}",
    )


def _on_terminal() -> bool:
    return sys.stdin.isatty()


def _new_password() -> str:
    """The new password from standard input: prompted without echo (twice) on a terminal,
    else the first line (so a script or a password manager can pipe it)."""
    if _on_terminal():
        password: str = click.prompt("New password", hide_input=True, confirmation_prompt=True)
        return password
    return sys.stdin.readline().rstrip("\r\n")


@operator.command("set-password")
@click.argument("name")
@with_app()
def operator_set_password(name: str) -> None:
    """Set the console password of the account NAME (or opr_ id), read from standard input."""
    from vigie.operators import service

    password = _new_password()
    with _unit() as session:
        account = service.find(session=session, name=name)
        service.set_password(session=session, who=_cli_who(), operator=account, password=password)
        public_id = account.public_id
    click.echo(f"password set for {public_id}")


@operator.command("disable")
@click.argument("name")
@json_option
@with_app()
def operator_disable(name: str, as_json: bool) -> None:
    """Disable the account NAME (or opr_ id): its token and console sessions stop working now."""
    from vigie.operators import service

    with _unit() as session:
        account = service.disable(
            session=session, who=_cli_who(), operator=service.find(session=session, name=name)
        )
        payload = {
            "id": account.public_id,
            "name": account.name,
            "disabled_at": account.disabled_at.isoformat() if account.disabled_at else None,
        }
    _emit(as_json, payload, f"{payload['id']} disabled")


@operator.command("rotate-token")
@click.argument("name")
@json_option
@with_app()
def operator_rotate_token(name: str, as_json: bool) -> None:
    """Issue a new API token for the account NAME (or opr_ id); the old one stops working now."""
    from vigie.operators import service

    with _unit() as session:
        account = service.find(session=session, name=name)
        token = service.rotate_token(session=session, who=_cli_who(), operator=account)
        payload = {"id": account.public_id, "name": account.name, "token": token}
    _emit(as_json, payload, f"new token for {payload['id']} (shown once): {token}")


# -- reports ------------------------------------------------------------------


@main.group()
def report() -> None:
    """Reports: data-protection requests."""


@report.command("erase")
@click.argument("report_id")
@click.option(
    "--reason", required=True, help="Why (e.g. the request's reference); no personal data."
)
@json_option
@with_app()
def report_erase(report_id: str, reason: str, as_json: bool) -> None:
    """Erase the personal fields of the closed report REPORT_ID, as retention does (audited)."""
    from vigie.triage import erasure

    with _unit() as session:
        erased = erasure.erase(session=session, report_id=report_id, who=_cli_who(), reason=reason)
        payload = {
            "id": erased.public_id,
            "erased_at": erased.purged_at.isoformat() if erased.purged_at else None,
        }
    _emit(as_json, payload, f"{payload['id']}: personal fields erased")


# -- shelter networks ---------------------------------------------------------


@main.group("shelter-network")
def shelter_network() -> None:
    """Shelter networks: outside intakes that receive referrals and report their outcomes."""


def _webhook_settings() -> Any:
    from vigie.webhooks.service import Settings

    return Settings.from_config(_runtime().config)


@shelter_network.command("create")
@click.option("--name", required=True)
@click.option("--intake-url", required=True, help="Where the network receives referrals.")
@json_option
@with_app()
def shelter_network_create(name: str, intake_url: str, as_json: bool) -> None:
    """Register a network; its API key and signing secret are printed once."""
    from vigie.shelters import networks

    with _unit() as session:
        new = networks.create(
            session=session,
            crypto=_runtime().crypto,
            settings=_webhook_settings(),
            who=_cli_who(),
            name=name,
            intake_url=intake_url,
        )
        payload = {
            "id": new.network.public_id,
            "name": new.network.name,
            "api_key": new.api_key,
            "intake": {"endpoint_id": new.intake.public_id, "url": new.intake.url},
            "signing_secret": new.signing_secret,
        }
    _emit(
        as_json,
        payload,
        f"{new.network.public_id}  {new.network.name}\nAPI key (shown once): {new.api_key}\n"
        f"intake {new.intake.url}\nsigning secret (shown once): {new.signing_secret}",
    )


@shelter_network.command("list")
@json_option
@with_app()
def shelter_network_list(as_json: bool) -> None:
    """List networks, their intake and its deliveries (never a key or secret)."""
    from vigie.shelters import networks

    with _unit() as session:
        rows: list[dict[str, Any]] = [
            {
                "id": state.network.public_id,
                "name": state.network.name,
                "revoked": state.network.revoked,
                "key_prefix": state.network.key_prefix,
                "shelters": state.shelters,
                "intake": None
                if state.intake is None
                else {
                    "endpoint_id": state.intake.public_id,
                    "url": state.intake.url,
                    "enabled": state.intake.enabled,
                    "disabled_reason": state.intake.disabled_reason,
                },
                "deliveries": state.deliveries,
            }
            for state in networks.list_(session=session)
        ]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    for row in rows:
        intake = row["intake"]
        if row["revoked"] or intake is None:
            state = "revoked"
        else:
            state = "enabled" if intake["enabled"] else f"DISABLED ({intake['disabled_reason']})"
        counts = ", ".join(f"{k} {v}" for k, v in sorted(row["deliveries"].items()))
        url = intake["url"] if intake else "-"
        click.echo(f"{row['id']}  {row['name']}  {row['key_prefix']}…  {url}  {state}  {counts}")


@shelter_network.command("set-intake")
@click.argument("network_id")
@click.option("--url", default=None, help="A new intake URL (default: keep it).")
@json_option
@with_app()
def shelter_network_set_intake(network_id: str, url: str | None, as_json: bool) -> None:
    """Enable the intake again, at a new URL if given: what waited for it is sent."""
    from vigie.shelters import networks

    with _unit() as session:
        intake = networks.set_intake(
            session=session,
            settings=_webhook_settings(),
            who=_cli_who(),
            public_id=network_id,
            url=url,
        )
        payload = {"id": network_id, "intake": {"url": intake.url, "enabled": intake.enabled}}
    _emit(as_json, payload, f"{network_id} intake {intake.url} enabled")


@shelter_network.command("revoke")
@click.argument("network_id")
@json_option
@with_app()
def shelter_network_revoke(network_id: str, as_json: bool) -> None:
    """Revoke a network's key and delete its intake: nothing more is forwarded to it."""
    from vigie.shelters import networks

    with _unit() as session:
        networks.revoke(session=session, who=_cli_who(), public_id=network_id)
    _emit(as_json, {"id": network_id, "revoked": True}, f"{network_id} revoked")


# -- processes ----------------------------------------------------------------


# No app in the gunicorn master: each worker builds its own after the fork, and importing
# prometheus_client here, before server.py sets its multiprocess directory, would break it.
@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
def serve(host: str, port: int, workers: int) -> None:
    """Run the API under gunicorn (never runs the scheduler)."""
    from vigie import migrate
    from vigie.config import ConfigError, load_config
    from vigie.db import Database
    from vigie.server import run_gunicorn

    try:  # refuse to start here rather than in every gunicorn worker
        database = Database.from_config(load_config())
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        state = migrate.state(database.engine)
    finally:
        database.dispose()
    if state is not None:
        raise click.ClickException(state)
    run_gunicorn(host=host, port=port, workers=workers)


@main.command("worker")
@with_app()
def worker() -> None:
    """Deliver outbox events and run periodic jobs until SIGTERM."""
    from vigie import worker as worker_module

    worker_module.run_forever(_runtime())


@main.command("openapi")
@click.option("--output", default="openapi/openapi.json", show_default=True, type=click.Path())
@with_app(migrated=False)
def openapi(output: str) -> None:
    """Write the OpenAPI document."""
    from vigie.openapi import export

    path = Path(output)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(export(current_app), "utf-8")
    click.echo(f"wrote {path}")


@main.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def demo(host: str, port: int) -> None:
    """Migrate, seed demo data, print the keys, and run API + worker in one process.

    Development only: webhook receivers on this machine (loopback) are allowed.
    """
    from vigie import demo as demo_module
    from vigie.config import ConfigError

    try:
        app = demo_module.create_demo_app()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    demo_module.run(app, host=host, port=port, out=sys.stdout)


# -- encryption keys ----------------------------------------------------------


@main.group()
def keys() -> None:
    """Data keys (VIGIE_DATA_KEY) for the fields encrypted at rest."""


@keys.command("generate")
def keys_generate() -> None:
    """Print a new data key, to put first in VIGIE_DATA_KEY."""
    from cryptography.fernet import Fernet

    click.echo(Fernet.generate_key().decode())


@keys.command("rotate")
@json_option
@with_app()
def keys_rotate(as_json: bool) -> None:
    """Re-encrypt every encrypted column under the first key of VIGIE_DATA_KEY.

    Put the new key first in VIGIE_DATA_KEY everywhere, keep the old ones after
    it, run this, then remove the old keys.
    """
    from vigie import datakeys
    from vigie.crypto import DecryptionError

    rt = _runtime()
    try:
        counts = datakeys.rotate(db=rt.db, crypto=rt.crypto)
    except DecryptionError as exc:
        raise click.ClickException(str(exc)) from None
    payload = {"rotated": counts, "keys": len(rt.config.data_keys)}
    text = "\n".join(f"{table}: {n} values re-encrypted" for table, n in counts.items())
    _emit(as_json, payload, text or "nothing to re-encrypt")


# -- audit --------------------------------------------------------------------


@main.group()
def audit() -> None:
    """The audit log."""


@audit.command("verify")
@json_option
@with_app()
def audit_verify(as_json: bool) -> None:
    """Check the audit log's hash chain; exits 1 at the first modified or deleted entry."""
    from vigie.audit import service

    with _runtime().db.unit(write=False) as session:
        result = service.verify(session=session)
    payload = {
        "ok": result.ok,
        "entries": result.entries,
        "head": result.head,
        "broken_at": result.broken_at,
        "reason": result.reason,
    }
    if result.ok:
        _emit(as_json, payload, f"ok: {result.entries} entries, head {result.head}")
        return
    _emit(
        as_json,
        payload,
        f"BROKEN at entry {result.broken_at}: {result.reason} "
        f"({result.entries} entries verified before it)",
    )
    sys.exit(1)


# -- content ------------------------------------------------------------------


@main.group()
def content() -> None:
    """Awareness content."""


@content.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--draft", is_flag=True, help="Import as drafts, do not publish.")
@json_option
@with_app()
def content_load(path: Path, draft: bool, as_json: bool) -> None:
    """Import items from a JSON file (a list of items as the editor API takes them).

    Items are matched by their `key`: re-running the same file changes nothing.
    """
    from vigie.content import importing
    from vigie.content.http_cache import content_runtime

    try:
        counts = importing.load_file(_runtime(), path, publish=not draft)
    except Problem as problem:
        raise click.ClickException(str(problem)) from None
    content_runtime(current_app).cache.invalidate()
    _emit(as_json, counts, ", ".join(f"{k}: {v}" for k, v in counts.items()))


# -- webhooks -----------------------------------------------------------------


@main.group()
def webhooks() -> None:
    """MIPROF's own webhook endpoints (escalations, referrals) and delivery status."""


@webhooks.command("create")
@click.option("--url", required=True)
@click.option(
    "--events", required=True, help="Comma-separated, e.g. triage.overdue,referral.created"
)
@click.option("--description", default="")
@json_option
@with_app()
def webhooks_create(url: str, events: str, description: str, as_json: bool) -> None:
    """Register a MIPROF endpoint; its signing secret is printed once."""
    from vigie.webhooks import service
    from vigie.webhooks.schemas import EndpointWithSecretSchema

    with _unit() as session:
        endpoint, secret = service.create_endpoint(
            session=session,
            crypto=_runtime().crypto,
            settings=service.Settings.from_config(_runtime().config),
            partner_id=None,
            url=url,
            events=[e.strip() for e in events.split(",") if e.strip()],
            description=description,
        )
        payload = EndpointWithSecretSchema().dump((endpoint, secret))
    _emit(as_json, payload, f"{endpoint.public_id}  {url}\nsigning secret (shown once): {secret}")


@webhooks.command("list")
@json_option
@with_app()
def webhooks_list(as_json: bool) -> None:
    """List MIPROF endpoints (never their secrets) and deliveries by status."""
    from vigie.webhooks import service
    from vigie.webhooks.schemas import EndpointSchema

    with _unit() as session:
        page = service.list_endpoints(session=session, partner_id=None, limit=100, cursor=None)
        endpoints = EndpointSchema(many=True).dump(page.items)
        counts = service.counts(session=session)
    if as_json:
        click.echo(json.dumps({"endpoints": endpoints, "deliveries": counts}))
        return
    for e in endpoints:
        state = "enabled" if e["enabled"] else f"disabled ({e['disabled_reason']})"
        click.echo(f"{e['id']}  {e['url']}  {','.join(e['events'])}  {state}")
    click.echo("deliveries: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))


@webhooks.command("delete")
@click.argument("endpoint_id")
@with_app()
def webhooks_delete(endpoint_id: str) -> None:
    """Delete a MIPROF endpoint."""
    from vigie.webhooks import service

    with _unit() as session:
        service.delete_endpoint(session=session, partner_id=None, endpoint_id=endpoint_id)
    click.echo(f"{endpoint_id} deleted")
