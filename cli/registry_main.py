"""The ``registry`` command for registry operators.

This first slice checks the configured database; ``serve``, migrations, backups and the
trust list arrive with the registry service.
"""

import sys
from typing import Annotated

import typer
from sqlalchemy.exc import SQLAlchemyError

from cli.output import Output
from registry.config import load_settings
from registry.storage import check_database

app = typer.Typer(
    name="registry",
    help="Operate the ownership registry service.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="The registry database.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("check")
def check(
    json_output: Annotated[
        bool, typer.Option("--json", help="Print exactly one JSON document.")
    ] = False,
) -> None:
    """Connect to REGISTRY_DATABASE_URL (default: embedded SQLite) and report it."""
    output = Output(as_json=json_output)
    url = load_settings().resolved_database_url()
    try:
        result = check_database(url)
    except ValueError as exc:
        output.problem({"code": "config.invalid", "detail": str(exc)})
        sys.exit(78)
    except SQLAlchemyError as exc:
        output.problem(
            {
                "code": "db.unreachable",
                "detail": f"cannot reach the database ({type(exc).__name__})",
            }
        )
        sys.exit(69)
    output.result(result, message="Database reachable.")


def main() -> None:
    """Entry point of the ``registry`` console script."""
    app(prog_name="registry")
