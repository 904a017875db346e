"""Tests of funnelrun.admin, the debug window (issue 10)."""
