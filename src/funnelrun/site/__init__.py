"""The site on disk: brands, pages with front matter, routes, components and modules."""

from .loader import Brand, Page, Site, SiteInvalid, check_site, load_site

__all__ = ["Brand", "Page", "Site", "SiteInvalid", "check_site", "load_site"]
