"""Low-level, policy-free building blocks. Only did_vault imports this package."""
