"""``did-vault item transfer|accept|report-missing|recovered|check-stolen|prove``."""

from registry.client import RegistryClient

CAPABILITIES: dict[str, tuple[str, ...]] = {
    "transfer": ("create_offer", "accept_offer"),
    "missing": ("report_missing",),
    "stolen": ("confirm_stolen",),
    "stolen-check": ("check_stolen",),
    "insurer": ("verify_insurer",),
}


def available_capabilities() -> frozenset[str]:
    """The lifecycle capabilities the registry client offers."""
    return frozenset(
        name
        for name, methods in CAPABILITIES.items()
        if all(hasattr(RegistryClient, method) for method in methods)
    )
