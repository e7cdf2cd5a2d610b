"""did_vault: a self-sovereign identity wallet (keys, DIDs, encrypted storage)."""
