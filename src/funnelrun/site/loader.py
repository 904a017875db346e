"""Load a site folder: brands, pages, components and modules, compiled once at start-up."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..errors import ScriptError, SiteError, SourceError
from ..script import (
    Bundle,
    ScriptBlock,
    build_bundle,
    check_script_syntax,
    find_backend_scripts,
)
from ..template import Environment, Template, TemplateSource
from .brand import BRAND_FILE, BrandSettings, load_brand_settings, read_text
from .files import SiteFolder
from .pages import PageSource, load_page
from .routes import RouteTable

BRANDS_DIR = "brands"
_TEMPLATE_COMMENT = re.compile(r"\{\{--.*?--\}\}", re.DOTALL)


@dataclass(eq=False)
class Page:
    brand: Brand
    source: PageSource
    template: Template
    bundle: Bundle | None  # the page's backend script with its layouts' and components', if any
    script_problem: ScriptError | None = None  # the script could not be built (e.g. bad import)

    @property
    def display(self) -> str:
        return self.source.display


@dataclass(eq=False)
class Brand:
    settings: BrandSettings
    folder: Path
    display: str  # "brands/acme"
    routes: RouteTable[Page] = field(default_factory=RouteTable)
    components: dict[str, TemplateSource] = field(default_factory=dict)
    component_scripts: dict[str, list[ScriptBlock]] = field(default_factory=dict)
    modules: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (code, display)
    env: Environment = field(init=False)

    def __post_init__(self) -> None:
        self.env = Environment(loader=self.components.get)

    @property
    def id(self) -> str:
        return self.settings.id

    def resolve_module(self, name: str) -> tuple[str, str] | None:
        return self.modules.get(name)


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


class SiteInvalid(SiteError):
    """The site has problems that stop it from being served; `problems` lists each one."""

    def __init__(self, problems: list[SourceError]) -> None:
        count = len(problems)
        super().__init__(f"the site has {count} problem{'s' if count != 1 else ''}", None)
        self.problems = problems

    def __str__(self) -> str:
        return "\n".join(problem.headline() for problem in self.problems)


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
        (page.display, page.bundle) for page in site.pages() if page.bundle is not None
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
    with problems.collect():
        _check_hosts(brands)
    site = Site(root, brands)
    site.problems.extend(page.script_problem for page in site.pages() if page.script_problem)
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
    display = site_folder.display(folder)
    site_folder.check(folder / BRAND_FILE)
    settings = load_brand_settings(folder, f"{display}/{BRAND_FILE}")
    brand = Brand(settings=settings, folder=folder, display=display)

    for path in site_folder.files(folder / "components", ".html"):
        with problems.collect():
            name = path.relative_to(folder / "components").with_suffix("").as_posix()
            template, blocks = split_scripts(read_text(path, site_folder.display(path)),
                                             site_folder.display(path))
            brand.components[name] = TemplateSource(template, site_folder.display(path), 1)
            brand.component_scripts[name] = blocks
    for path in site_folder.files(folder / "modules", ".js"):
        name = path.relative_to(folder / "modules").with_suffix("").as_posix()
        with problems.collect():
            brand.modules[name] = (read_text(path, site_folder.display(path)),
                                   site_folder.display(path))

    for path in site_folder.files(folder / "pages", ".html"):
        with problems.collect():
            relative = PurePosixPath(path.relative_to(folder / "pages").as_posix())
            display = site_folder.display(path)
            source = load_page(relative, display, read_text(path, display))
            page = _compile_page(brand, source)
            brand.routes.add(source.route, page, source.display)
    for name in brand.components:
        with problems.collect():
            brand.env.get_template(name)
    return brand


def _compile_page(brand: Brand, source: PageSource) -> Page:
    body, blocks = split_scripts(source.body, source.display, first_line=source.first_line)
    template = brand.env.compile(body, source.display, first_line=source.first_line)
    seen: set[str] = set()  # component names already included
    parts = [*_layout_parts(brand, template, seen), (source.display, blocks)]
    parts += _component_parts(brand, template, seen)
    parts = [(display, blocks) for display, blocks in parts if blocks]
    page = Page(brand=brand, source=source, template=template, bundle=None)
    if parts:
        try:
            page.bundle = build_bundle(parts, brand.resolve_module)
        except ScriptError as exc:  # served anyway: the page renders, the error is recorded
            page.script_problem = exc
    return page


def _layout_parts(brand: Brand, template: Template, seen: set[str]) -> list:
    """Scripts of the layouts a template extends, outermost layout first."""
    name = template.extends
    if name is None or name in seen or name not in brand.components:
        return []
    seen.add(name)
    layout = brand.env.get_template(name)
    own = (brand.components[name].filename, brand.component_scripts[name])
    return [*_layout_parts(brand, layout, seen), own, *_component_parts(brand, layout, seen)]


def _component_parts(brand: Brand, template: Template, seen: set[str]) -> list:
    """Scripts of the components a template uses, each once, in order of first use."""
    parts = []
    for name in template.dependencies:
        if name == template.extends or name in seen or name not in brand.components:
            continue
        seen.add(name)
        parts.append((brand.components[name].filename, brand.component_scripts[name]))
        parts += _component_parts(brand, brand.env.get_template(name), seen)
    return parts


def _check_hosts(brands: dict[str, Brand]) -> None:
    owners: dict[str, str] = {}
    for brand in brands.values():
        for domain in brand.settings.domains:
            if domain in owners:
                raise SiteError(
                    f"{brand.display}/brand.toml: domain '{domain}' is also served by brand "
                    f"'{owners[domain]}'; a host name belongs to one brand",
                    None,
                )
            owners[domain] = brand.id
    defaults = [brand.id for brand in brands.values() if brand.settings.default]
    if len(defaults) > 1:
        raise SiteError(
            f"brands {', '.join(defaults)} all say default = true; at most one brand may", None
        )


def split_scripts(source: str, filename: str,
                  first_line: int = 1) -> tuple[str, list[ScriptBlock]]:
    """A template's backend script blocks, and the template without them.

    Each block becomes a template comment of the same lines and columns, so the template
    engine drops lines that held only a script and error positions stay those of the file.
    A block inside a `{{-- --}}` comment is commented out: removed, never run. Comments are
    found in the template as the engine will see it, every block blanked: a `{{--` or `--}}`
    inside a script's code is code. A block that never ends is a SiteError.
    """
    blocks = find_backend_scripts(source, first_line, filename=filename)
    if not blocks:
        return source, []
    masked = "".join(_pieces(source, blocks, lambda block, text: _blank(text, as_comment=False)))
    comments = [match.span() for match in _TEMPLATE_COMMENT.finditer(masked)]
    running = [b for b in blocks if not any(start < b.start < end for start, end in comments)]
    starts = {block.start for block in running}
    template = "".join(_pieces(source, blocks,
                               lambda block, text: _blank(text, as_comment=block.start in starts)))
    return template, running


def _pieces(source: str, blocks: list[ScriptBlock],
            replace: Callable[[ScriptBlock, str], str]) -> Iterator[str]:
    """`source` with each block's text replaced by `replace(block, text)`."""
    position = 0
    for block in blocks:
        yield source[position:block.start]
        yield replace(block, source[block.start:block.end])
        position = block.end
    yield source[position:]


def _blank(removed: str, *, as_comment: bool) -> str:
    """Text with the newlines of `removed` and the same length of its last line."""
    newlines = removed.count("\n")
    tail = len(removed) - removed.rfind("\n") - 1 if newlines else len(removed)
    if not as_comment:
        return "\n" * newlines + " " * tail
    if newlines == 0:
        return "{{--" + " " * max(tail - 8, 0) + "--}}"
    return "{{--" + "\n" * newlines + " " * max(tail - 4, 0) + "--}}"
