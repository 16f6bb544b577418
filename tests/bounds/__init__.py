"""Tests of `bounds`."""
