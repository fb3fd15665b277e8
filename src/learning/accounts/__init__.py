"""Accounts: registration, login with bearer tokens, roles, password changes."""
