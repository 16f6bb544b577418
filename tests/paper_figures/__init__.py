"""Tests of `paper_figures`."""
