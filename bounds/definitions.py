"""Placeholder: filled by its issue-2 work package."""

STATEMENTS: list = []
