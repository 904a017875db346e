"""funnelrun: a self-hosted runtime for funnel websites."""

__version__ = "0.1.0"
