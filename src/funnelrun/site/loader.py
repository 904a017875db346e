"""Load a site folder: brands, pages, components and modules, compiled once at start-up."""

from __future__ import annotations

import contextlib
import difflib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..asset_urls import asset_path
from ..errors import Position, ScriptError, SiteError, SiteInvalid, SourceError
from ..i18n import BrandTranslations
from ..script import (
    Bundle,
    ScriptBlock,
    check_script_syntax,
)
from ..script.bundle import ASSET_READERS, KEY_READERS
from ..template import Environment, Template, TemplateSource
from .assets import ASSETS_DIR, AssetIndex, load_assets
from .brand import BRAND_FILE, BrandSettings, load_brand_settings, read_text
from .files import SiteFolder
from .pages import PageSource, error_status, load_page
from .routes import RouteTable
from .scripts import page_bundle, split_scripts
from .translations import load_translations, unknown_keys

BRANDS_DIR = "brands"


@dataclass(eq=False)
class Page:
    brand: Brand
    source: PageSource
    template: Template
    bundle: Bundle | None  # the page's backend script with its layouts' and components', if any
    script_problem: ScriptError | None = None  # the script could not be built (e.g. bad import)

    @property
    def site_path(self) -> str:
        return self.source.site_path


@dataclass(eq=False)
class Brand:
    settings: BrandSettings
    folder: Path
    site_path: str  # "brands/acme"
    routes: RouteTable[Page] = field(default_factory=RouteTable)
    error_pages: dict[int, Page] = field(default_factory=dict)  # 404, 500: pages/404.html, …
    assets: AssetIndex = field(default_factory=AssetIndex)  # assets/ over the site's (site.assets)
    components: dict[str, TemplateSource] = field(default_factory=dict)
    component_scripts: dict[str, list[ScriptBlock]] = field(default_factory=dict)
    modules: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (code, site_path)
    texts: dict[str, str] = field(default_factory=dict)  # site path -> every file's text, as read
    translations: BrandTranslations = field(default_factory=BrandTranslations)
    # Non-fatal problems: translation files of unlisted languages, unknown translation keys.
    warnings: list[SiteError] = field(default_factory=list)
    env: Environment = field(init=False)

    def __post_init__(self) -> None:
        self.env = Environment(loader=self.components.get)

    @property
    def id(self) -> str:
        return self.settings.id

    def resolve_module(self, name: str) -> tuple[str, str] | None:
        return self.modules.get(name)

    def read(self, site_folder: SiteFolder, path: Path) -> str:
        """A file of the brand's folder, kept in `texts`."""
        site_path = site_folder.site_path(path)
        text = self.texts[site_path] = read_text(path, site_path)
        return text


@dataclass(eq=False)
class Site:
    root: Path
    brands: dict[str, Brand]
    problems: list[SourceError] = field(default_factory=list)  # non-fatal: scripts not built

    def brand_for_host(self, host: str) -> Brand | None:
        """The brand serving `host` (lower-case, no port): by domain, else default, else sole."""
        for brand in self.brands.values():
            if host in brand.settings.domains:
                return brand
        for brand in self.brands.values():
            if brand.settings.default:
                return brand
        if len(self.brands) == 1:
            return next(iter(self.brands.values()))
        return None

    def pages(self) -> Iterator[Page]:
        for brand in self.brands.values():
            yield from brand.routes

    def source_line(self, site_path: str, line: int) -> str | None:
        """Line `line` (1-based) of a page, component or module as the site loaded it, for an
        error's context in the debug window; None for any other file or line."""
        for brand in self.brands.values():
            text = brand.texts.get(site_path)
            if text is not None:
                lines = text.splitlines()
                return lines[line - 1] if 1 <= line <= len(lines) else None
        return None


def load_site(root: Path) -> Site:
    """Load and compile a site; raise SiteInvalid listing every problem that stops serving it.

    No JavaScript runs here: templates are compiled and scripts bundled in Python. A script
    that cannot be built (a bad import) does not stop the site (the page still renders, SPEC
    §3.1); it is kept in `Site.problems`. Syntax errors need the engine: `check_scripts`.
    """
    site, fatal = _load(Path(root))
    if fatal:
        raise SiteInvalid(fatal)
    return site


def check_scripts(site: Site) -> list[ScriptError]:
    """The syntax errors of every page's script, compiled in an executor process, never in
    this one (funnelrun.script.syntax). Like `Site.problems`, they do not stop the site."""
    return check_script_syntax(
        (page.site_path, page.bundle) for page in site.pages() if page.bundle is not None
    )


def check_site(root: Path) -> list[SourceError]:
    """Every problem of a site, fatal or not (for `funnelrun check`): the ones that stop it,
    then scripts that cannot be built, then script syntax errors."""
    site, fatal = _load(Path(root))
    return [*fatal, *site.problems, *check_scripts(site)]


def _load(root: Path) -> tuple[Site, list[SourceError]]:
    problems = _Problems()
    brands: dict[str, Brand] = {}
    brands_dir = root / BRANDS_DIR
    if not brands_dir.is_dir():
        problems.add(SiteError(f"{root}: no '{BRANDS_DIR}' folder; expected "
                               f"{BRANDS_DIR}/<brand>/pages/index.html", None))
        return Site(root, brands), problems.items
    site_folder = SiteFolder(root, report=problems.add)
    with problems.collect():
        site_folder.check(brands_dir)
        for folder in site_folder.folders(brands_dir):
            with problems.collect():
                brand = _load_brand(site_folder, folder, problems)
                brands[brand.id] = brand
    if not brands and not problems.items:
        problems.add(SiteError(f"{brands_dir}: no brands; expected a folder per brand", None))
    asset_warnings: list[SiteError] = []
    with problems.collect():
        indexes, asset_warnings = load_assets(
            site_folder, {brand.id: brand.folder for brand in brands.values()})
        for brand_id, index in indexes.items():
            brands[brand_id].assets = index
            brands[brand_id].warnings += _missing_assets(brands[brand_id])
    with problems.collect():
        _check_hosts(brands)
    site = Site(root, brands)
    site.problems.extend(page.script_problem for page in site.pages() if page.script_problem)
    site.problems.extend(warning for brand in brands.values() for warning in brand.warnings)
    site.problems.extend(asset_warnings)
    return site, problems.items


class _Problems:
    """Collects errors so one run reports every broken file, not just the first."""

    def __init__(self) -> None:
        self.items: list[SourceError] = []
        self._seen: set[str] = set()

    def add(self, error: SourceError) -> None:
        if error.headline() not in self._seen:
            self._seen.add(error.headline())
            self.items.append(error)

    @contextlib.contextmanager
    def collect(self) -> Iterator[None]:
        """Run a block; a SourceError it raises is kept, and loading goes on."""
        try:
            yield
        except SourceError as error:
            self.add(error)


def _load_brand(site_folder: SiteFolder, folder: Path, problems: _Problems) -> Brand:
    site_path = site_folder.site_path(folder)
    site_folder.check(folder / BRAND_FILE)
    settings = load_brand_settings(folder, f"{site_path}/{BRAND_FILE}")
    brand = Brand(settings=settings, folder=folder, site_path=site_path)
    translated = False  # the dictionaries loaded: unknown keys can be told
    with problems.collect():
        brand.translations = load_translations(site_folder, folder, settings.languages,
                                               brand.warnings)
        translated = True

    for path in site_folder.files(folder / "components", ".html"):
        with problems.collect():
            name = path.relative_to(folder / "components").with_suffix("").as_posix()
            text = brand.read(site_folder, path)
            template, blocks = split_scripts(text, site_folder.site_path(path))
            brand.components[name] = TemplateSource(template, site_folder.site_path(path), 1)
            brand.component_scripts[name] = blocks
    for path in site_folder.files(folder / "modules", ".js"):
        name = path.relative_to(folder / "modules").with_suffix("").as_posix()
        with problems.collect():
            brand.modules[name] = (brand.read(site_folder, path), site_folder.site_path(path))

    for path in site_folder.files(folder / "pages", ".html"):
        with problems.collect():
            relative = PurePosixPath(path.relative_to(folder / "pages").as_posix())
            site_path = site_folder.site_path(path)
            source = load_page(relative, site_path, brand.read(site_folder, path))
            status = error_status(relative)
            if status is not None:
                brand.error_pages[status] = _compile_error_page(brand, source)
                continue
            page = _compile_page(brand, source)
            brand.routes.add(source.route, page, source.site_path)
    components: list[Template] = []
    for name in brand.components:
        with problems.collect():
            components.append(brand.env.get_template(name))
    if translated:
        keys = _translation_keys(brand, components)
        brand.warnings += unknown_keys(brand.translations, keys, brand.site_path)
    return brand


def _translation_keys(brand: Brand, components: list[Template]) -> list[tuple[str, Position]]:
    """Every literal key the brand's pages, components and scripts translate, with where."""
    pages = [*brand.routes, *brand.error_pages.values()]
    templates = [page.template for page in pages] + components
    keys = [(key, Position(template.filename, line, column))
            for template in templates for key, line, column in template.translation_keys]
    for page in brand.routes:
        if page.bundle is not None and page.bundle.dictionary_keys != frozenset():
            keys += page.bundle.literal_calls(KEY_READERS)
    return keys


def _missing_assets(brand: Brand) -> list[SiteError]:
    """Warnings for the literal paths of `asset('…')` in the brand's templates and
    `asset("…")` in its scripts that name no file of its assets folders: the page links them
    without `?v=`, and the browser gets a 404."""
    templates = [page.template for page in (*brand.routes, *brand.error_pages.values())]
    for name in brand.components:
        with contextlib.suppress(SourceError):  # a broken component is a problem of its own
            templates.append(brand.env.get_template(name))
    uses = [(path, Position(template.filename, line, column))
            for template in templates for path, line, column in template.asset_paths]
    for page in brand.routes:
        if page.bundle is not None and page.bundle.asset_paths != frozenset():
            uses += page.bundle.literal_calls(ASSET_READERS)
    problems: dict[str, SiteError] = {}
    for argument, position in uses:
        path = asset_path(argument)
        if path in brand.assets:
            continue
        close = difflib.get_close_matches(path, sorted(brand.assets), n=1, cutoff=0.8)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        problem = SiteError(
            f"asset '{argument}' not found in {brand.site_path}/{ASSETS_DIR}/ or "
            f"{ASSETS_DIR}/{hint}; asset() links it without ?v=", position, reason="assets")
        problems.setdefault(problem.headline(), problem)
    return list(problems.values())


def _compile_page(brand: Brand, source: PageSource) -> Page:
    body, blocks = split_scripts(source.body, source.site_path, first_line=source.first_line)
    template = brand.env.compile(body, source.site_path, first_line=source.first_line)
    page = Page(brand=brand, source=source, template=template, bundle=None)
    try:
        page.bundle = page_bundle(brand, source.site_path, blocks, template)
    except ScriptError as exc:  # served anyway: the page renders, the error is recorded
        page.script_problem = exc
    return page


def _compile_error_page(brand: Brand, source: PageSource) -> Page:
    """A brand's 404 or 500 page: a template only. It runs no backend script (neither its own
    nor its layouts' and components'): a script could fail again, and every miss of a bot
    would cost a run; a block of its own is removed as always, and warned about."""
    body, blocks = split_scripts(source.body, source.site_path, first_line=source.first_line)
    template = brand.env.compile(body, source.site_path, first_line=source.first_line)
    brand.warnings += [
        SiteError("an error page runs no backend script; this block is never run",
                  Position(source.site_path, block.line, block.column))
        for block in blocks
    ]
    return Page(brand=brand, source=source, template=template, bundle=None)


def _check_hosts(brands: dict[str, Brand]) -> None:
    owners: dict[str, str] = {}
    for brand in brands.values():
        for domain in brand.settings.domains:
            if domain in owners:
                raise SiteError(
                    f"{brand.site_path}/brand.toml: domain '{domain}' is also served by brand "
                    f"'{owners[domain]}'; a host name belongs to one brand",
                    None,
                )
            owners[domain] = brand.id
    defaults = [brand.id for brand in brands.values() if brand.settings.default]
    if len(defaults) > 1:
        raise SiteError(
            f"brands {', '.join(defaults)} all say default = true; at most one brand may", None
        )
