"""The ``did-vault`` command: sub-command wiring, error rendering and exit codes.

Exit codes (sysexits.h where one fits): 0 ok, 1 "the answer is no" (verification
failed), 2 usage, 65 bad input, 69 unreachable, 70 internal, 75 temporary / locked,
77 wrong passphrase or permission, 78 configuration.
"""

import os
import sys
import traceback
from typing import NoReturn

import typer
from typer._click import exceptions as click_exceptions  # typer vendors click

from cli.commands import (
    audit,
    backup,
    credential,
    custody,  # noqa: F401  (registers item custody start|return|list)
    did,
    export,
    item,
    item_registry,  # noqa: F401  (registers item register)
    lifecycle,  # noqa: F401  (registers item transfer, accept, report-missing …)
    passphrase,
    share,
    wallet,
)
from cli.context import CLIError
from cli.output import Output
from did_vault import (
    DidVaultError,
    KeystoreError,
    KeystoreExistsError,
    KeystoreLockedError,
    KeystoreNotFoundError,
    KeystoreUnlockError,
    MalformedInputError,
    ResolutionError,
    UnsupportedError,
    VerificationError,
    WeakKDFParametersError,
)

EXIT_OK = 0
EXIT_NO = 1
EXIT_USAGE = 2
EXIT_DATAERR = 65
EXIT_UNAVAILABLE = 69
EXIT_SOFTWARE = 70
EXIT_TEMPFAIL = 75
EXIT_NOPERM = 77
EXIT_CONFIG = 78

# Nearest entry in the MRO wins, so leaves come before their bases.
EXIT_BY_ERROR: dict[type[DidVaultError], int] = {
    KeystoreUnlockError: EXIT_NOPERM,
    WeakKDFParametersError: EXIT_NOPERM,
    KeystoreLockedError: EXIT_TEMPFAIL,
    KeystoreNotFoundError: EXIT_CONFIG,
    KeystoreExistsError: EXIT_DATAERR,
    KeystoreError: EXIT_DATAERR,
    VerificationError: EXIT_NO,
    MalformedInputError: EXIT_DATAERR,
    UnsupportedError: EXIT_DATAERR,
    ResolutionError: EXIT_UNAVAILABLE,
    DidVaultError: EXIT_SOFTWARE,
}

HINTS: dict[str, str] = {
    "keystore.not-found": "run 'did-vault init' first, or set DID_VAULT_HOME",
    "keystore.locked": "another did-vault command is using this wallet; retry",
    "keystore.unlock-failed": "check the passphrase; the file may also be damaged",
}

app = typer.Typer(
    name="did-vault",
    help="A self-sovereign identity wallet: DIDs, keys and credentials for people "
    "and the things they own.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
wallet.register(app)
app.add_typer(did.app, name="did")
app.add_typer(credential.app, name="credential")
app.command("present")(credential.present)
app.add_typer(credential.presentation_app, name="presentation")
app.command("share")(share.share)
app.command("verify")(share.verify)
app.add_typer(backup.app, name="backup")
app.add_typer(passphrase.app, name="passphrase")
app.add_typer(item.app, name="item")
app.command("export")(export.export)
app.command("audit")(audit.audit_command)


def exit_code_for(exc: DidVaultError) -> int:
    """The exit code of the nearest class in the error's MRO."""
    for cls in type(exc).__mro__:
        if cls in EXIT_BY_ERROR:
            return EXIT_BY_ERROR[cls]
    return EXIT_SOFTWARE


def _fail(output: Output, problem: dict[str, object], code: int) -> NoReturn:
    hint = HINTS.get(str(problem["code"]))
    if hint and "hint" not in problem:
        problem["hint"] = hint
    output.problem(problem)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``did-vault`` console script."""
    args = sys.argv[1:] if argv is None else argv
    output = Output(as_json="--json" in args)
    try:
        code = app(args=args, prog_name="did-vault", standalone_mode=False)
    except DidVaultError as exc:
        _fail(output, exc.to_dict(), exit_code_for(exc))
    except CLIError as exc:
        _fail(output, exc.to_dict(), exc.exit_code)
    except typer.Abort:
        _fail(output, {"code": "cli.aborted", "detail": "aborted"}, EXIT_USAGE)
    except click_exceptions.NoArgsIsHelpError:
        if output.as_json:
            output.problem({"code": "cli.usage", "detail": "a command is required"})
        sys.exit(EXIT_USAGE)
    except click_exceptions.UsageError as exc:
        _fail(output, {"code": "cli.usage", "detail": exc.format_message()}, EXIT_USAGE)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except PermissionError as exc:
        detail = f"permission denied: {exc.filename}" if exc.filename else str(exc)
        _fail(output, {"code": "cli.permission-denied", "detail": detail}, EXIT_NOPERM)
    except KeyboardInterrupt:
        _fail(output, {"code": "cli.aborted", "detail": "interrupted"}, 130)
    except Exception:
        if os.environ.get("DID_VAULT_DEBUG") == "1":
            traceback.print_exc()
        _fail(
            output,
            {
                "code": "internal",
                "detail": "an unexpected error occurred; "
                "rerun with DID_VAULT_DEBUG=1 to see the trace",
            },
            EXIT_SOFTWARE,
        )
    sys.exit(code if isinstance(code, int) else EXIT_OK)
