"""Tests of funnelrun.site (a test package named `site` would shadow Python's own `site`)."""
