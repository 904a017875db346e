"""Regression tests for the attacks of issue 6, most against a real `funnelrun serve`."""
