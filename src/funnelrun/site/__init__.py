"""The site on disk: brands, pages with front matter, routes, components and modules."""

from ..errors import SiteInvalid
from .loader import Brand, Page, Site, check_scripts, check_site, load_site

__all__ = ["Brand", "Page", "Site", "SiteInvalid", "check_scripts", "check_site", "load_site"]
