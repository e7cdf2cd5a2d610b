"""The registry's OpenAPI description, as committed in ``specs/openapi.json``.

``python -m registry.openapi specs/openapi.json`` (what ``make openapi`` runs)
writes it; ``tests/integration/registry/test_openapi.py`` fails when it drifts.
"""

import json
import sys
from pathlib import Path
from typing import Any

from registry.config import Settings
from registry.main import create_app


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of an app built with default settings (no I/O)."""
    return create_app(Settings.model_construct()).openapi()


def render() -> str:
    """The document as committed: sorted keys, two-space indent, final newline."""
    return json.dumps(openapi_document(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if len(argv) > 1:
        Path(argv[1]).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
