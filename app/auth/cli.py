"""`flask users ...`: manage staff accounts from the command line."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.auth import services
from app.auth.roles import Role
from app.errors import DomainError
from app.extensions import db
from app.hubs.services import get_hub_by_slug

users_cli = AppGroup("users", help="Manage staff accounts.")


@users_cli.command("create")
@click.option("--email", required=True, help="Sign-in e-mail address.")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice([r.value for r in Role]),
    help="Role; repeat for several.",
)
@click.option("--name", default="", help="Full name (defaults to the e-mail address).")
@click.option("--hub", "hub_slug", default=None, help="Limit the roles to this hub (slug).")
@click.option(
    "--password",
    default=None,
    help="Initial password; prompted for when omitted and --generate-password not set.",
)
@click.option("--generate-password", is_flag=True, help="Generate a password and print it.")
def create_user(
    email: str,
    roles: tuple[str, ...],
    name: str,
    hub_slug: str | None,
    password: str | None,
    generate_password: bool,
) -> None:
    """Create a staff account with one or more roles."""
    hub = None
    if hub_slug:
        hub = get_hub_by_slug(hub_slug)
        if hub is None:
            raise click.UsageError(f"No hub with slug {hub_slug!r}.")
    if generate_password:
        password = services.generate_password()
    elif password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = services.create_user(
            email=email, name=name, password=password, roles=[Role(r) for r in roles], hub=hub
        )
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(str(error.message)) from error
    db.session.commit()
    click.echo(f"Created {user.email} with roles: {', '.join(roles)}")
    if generate_password:
        click.echo(f"Password: {password}")


@users_cli.command("list")
def list_users() -> None:
    """Print every account with its roles."""
    for user in services.list_users():
        roles = ", ".join(
            f"{a.role.value}@{a.hub.slug}" if a.hub else a.role.value for a in user.roles
        )
        state = "" if user.active else " (deactivated)"
        click.echo(f"{user.id}\t{user.email}\t{roles}{state}")
