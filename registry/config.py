"""Registry settings, read from the environment (``REGISTRY_`` prefix).

With no configuration at all the registry runs on its embedded default: a SQLite
file in the platform's user data folder.
"""

from pathlib import Path

import platformdirs
from pydantic_settings import BaseSettings, SettingsConfigDict

APP_NAME = "did-vault-registry"


def default_database_url() -> str:
    """``sqlite:///<user data folder>/registry.sqlite3``."""
    folder = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    return f"sqlite:///{folder / 'registry.sqlite3'}"


class Settings(BaseSettings):
    """Validated once at start; frozen afterwards."""

    model_config = SettingsConfigDict(env_prefix="REGISTRY_", frozen=True)

    database_url: str = ""

    def resolved_database_url(self) -> str:
        return self.database_url or default_database_url()


def load_settings() -> Settings:
    """Settings from the environment."""
    return Settings()
