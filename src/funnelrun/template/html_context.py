"""Where each `{{ }}` output of a template sits in its HTML: text, a tag, an attribute value
(and how it is quoted), a <script> or <style>, or a comment.

The compiler picks each output's escaping from this, and refuses the few outputs that no
escaping can make safe. The scanner follows the tokenizer of the HTML standard (WHATWG HTML
§13.2.5) over the template's text in document order — every branch of an @if, each loop body
once — with each output and each directive opaque. It tracks only what escaping needs, and
simplifies where that rarely matters:

- a template starts in text: a component, and a child template's block, are scanned on their
  own, not where they will be inserted;
- an output is assumed to print what its place expects (a name inside a tag, a value after
  `=`), never markup that changes the state (`{{ open_tag | raw }}`);
- raw text ends at the first `</script`, `</style`, … followed by a space, `/` or `>` (the
  "double escaped" `<!--<script>` state of scripts is not modelled); <noscript> and the
  content of <svg> and <math> are scanned as markup.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from funnelrun.template import nodes

# Context kinds.
TEXT = "text"  # text; also <textarea>, <title> and non-script raw text
TAG = "tag"  # inside a tag where an attribute name goes: <input {{ here }}>
DOUBLE_QUOTED = "double-quoted"  # attribute values
SINGLE_QUOTED = "single-quoted"
VALUE_START = "value-start"  # right after `=`: the output begins an unquoted value
UNQUOTED = "unquoted"  # inside an unquoted value that has begun
SCRIPT = "script"  # a <script> of JavaScript or JSON
STYLE = "style"
COMMENT = "comment"


@dataclass(frozen=True, slots=True)
class Context:
    """Where one output sits: one of the kinds above, and for attributes, which one."""

    kind: str
    attribute: str = ""  # for attribute values: the attribute's name, lower case

    @property
    def attribute_label(self) -> str:
        """The attribute's name as an error message shows it (outputs in it as `{{…}}`)."""
        return self.attribute.replace(_HOLE, "{{…}}")


# An output in the scanned text. A NUL of the template's own text is scanned as U+FFFD, as
# the HTML tokenizer reads it in most states.
_HOLE = "\x00"
_SPACE = "\t\n\f\r "
_DATA_STOP = re.compile("[<\x00]")
_TAG_NAME = re.compile("[^\t\n\f\r />\x00]*")
_ATTRIBUTE_NAME = re.compile("[^\t\n\f\r />=\x00]*")
_UNQUOTED_VALUE = re.compile("[^\t\n\f\r >\x00]*")
_QUOTED_STOP = {'"': re.compile('["\x00]'), "'": re.compile("['\x00]")}
_COMMENT_STOP = re.compile("\x00|--!?>")
_BOGUS_COMMENT_STOP = re.compile("[>\x00]")

# Elements whose content is text up to their end tag, and the context an output there has.
_RAW_TEXT = {
    "script": SCRIPT, "style": STYLE, "textarea": TEXT, "title": TEXT, "xmp": TEXT,
    "iframe": TEXT, "noembed": TEXT, "noframes": TEXT,
}
# <script type> values whose content is JavaScript or JSON (WHATWG's JavaScript MIME types,
# module, and the JSON ones); any other type (text/template, …) is text to the browser.
_SCRIPT_TYPES = frozenset({
    "", "module", "importmap", "speculationrules", "application/json", "application/ld+json",
    "application/ecmascript", "application/javascript", "application/x-ecmascript",
    "application/x-javascript", "text/ecmascript", "text/javascript", "text/javascript1.0",
    "text/javascript1.1", "text/javascript1.2", "text/javascript1.3", "text/javascript1.4",
    "text/javascript1.5", "text/jscript", "text/livescript", "text/x-ecmascript",
    "text/x-javascript",
})


def output_contexts(tree: nodes.Template) -> dict[int, Context]:
    """The context of every output in `tree`, keyed by the id() of its Output node."""
    pieces: list[str] = []
    outputs: list[nodes.Output] = []
    for node in _text_and_outputs(tree):
        if isinstance(node, nodes.Text):
            pieces.append(node.value.replace(_HOLE, "\ufffd"))
        else:
            pieces.append(_HOLE)
            outputs.append(node)
    contexts = _Scanner("".join(pieces)).run()
    return {id(node): context for node, context in zip(outputs, contexts, strict=True)}


def _text_and_outputs(node: nodes.Node) -> Iterator[nodes.Text | nodes.Output]:
    """The Text and Output nodes below `node` in document order (expressions left out)."""
    for child in node.children():
        if isinstance(child, nodes.Text | nodes.Output):
            yield child
        elif isinstance(child, nodes.Stmt):
            yield from _text_and_outputs(child)


def _starts_tag_name(char: str) -> bool:
    return (char.isascii() and char.isalpha()) or char == _HOLE


def _is_script(type_attribute: str | None) -> bool:
    """Whether a <script> with this `type` holds JavaScript or JSON (unknown counts as yes)."""
    if type_attribute is None or _HOLE in type_attribute:
        return True
    return type_attribute.split(";")[0].strip(_SPACE).lower() in _SCRIPT_TYPES


class _Scanner:
    """The tokenizer's states as methods; each call reads at least one character or changes
    state, until the text ends."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.state: Callable[[], None] = self.data
        self.contexts: list[Context] = []
        self.tag = ""  # the name of the tag being read, lower case
        self.end_tag = False
        self.attribute = ""  # the name of the attribute being read, lower case
        self.value: list[str] = []  # the text of its value so far
        self.script_type: str | None = None  # the tag's `type` attribute, if it has one
        self.raw_text_stop = _DATA_STOP
        self.raw_text_kind = TEXT

    def run(self) -> list[Context]:
        while self.pos < len(self.text):
            self.state()
        return self.contexts

    def peek(self) -> str:
        return self.text[self.pos : self.pos + 1]

    def hole(self, kind: str, attribute: str = "") -> None:
        """An output at the current position: record its context and step over it."""
        self.contexts.append(Context(kind, attribute))
        self.pos += 1

    def take(self, run: re.Pattern[str]) -> str:
        """Step over the text at the current position that `run` (`[…]*`) matches, perhaps
        none, and return it."""
        match = run.match(self.text, self.pos)
        if match is None:
            return ""
        self.pos = match.end()
        return match.group()

    def skip_space(self) -> str:
        """Step over whitespace; the character after it ('' at the end)."""
        while self.pos < len(self.text) and self.text[self.pos] in _SPACE:
            self.pos += 1
        return self.peek()

    # -- text, comments, raw text ----------------------------------------------------------

    def data(self) -> None:
        match = _DATA_STOP.search(self.text, self.pos)
        if match is None:
            self.pos = len(self.text)
        elif match.group() == _HOLE:
            self.pos = match.start()
            self.hole(TEXT)
        else:
            self.pos = match.start()
            self.tag_open()

    def tag_open(self) -> None:
        """At a `<` in text."""
        text, pos = self.text, self.pos
        following = text[pos + 1 : pos + 2]
        if text.startswith("<!--", pos):
            self.pos = pos + 4
            for empty_comment_end in (">", "->"):  # `<!-->` and `<!--->`
                if text.startswith(empty_comment_end, self.pos):
                    self.pos += len(empty_comment_end)
                    return
            self.state = self.comment
        elif following in ("!", "?"):  # <!DOCTYPE …>, <![CDATA[…]]>, <?xml …?>
            self.pos = pos + 2
            self.state = self.bogus_comment
        elif following == "/":
            self.end_tag_open()
        elif _starts_tag_name(following):
            self.pos = pos + 1
            self.begin_tag(end_tag=False)
        else:
            self.pos = pos + 1  # a `<` that opens nothing is text

    def end_tag_open(self) -> None:
        """At `</`."""
        after = self.text[self.pos + 2 : self.pos + 3]
        self.pos += 2
        if _starts_tag_name(after):
            self.begin_tag(end_tag=True)
        elif after == ">":
            self.pos += 1  # `</>` is dropped
        elif after:
            self.state = self.bogus_comment

    def comment(self) -> None:
        if (stop := self.scan_to(_COMMENT_STOP, COMMENT)) is not None:
            self.pos = stop.end()
            self.state = self.data

    def bogus_comment(self) -> None:
        if (stop := self.scan_to(_BOGUS_COMMENT_STOP, COMMENT)) is not None:
            self.pos = stop.end()
            self.state = self.data

    def raw_text(self) -> None:
        """Inside <script>, <style>, <textarea>, …: text up to the element's end tag."""
        if (stop := self.scan_to(self.raw_text_stop, self.raw_text_kind)) is not None:
            self.pos = stop.start()
            self.state = self.data  # which reads the end tag

    def scan_to(self, stop: re.Pattern[str], kind: str) -> re.Match[str] | None:
        """Move to the next match of `stop` and return it. None when an output comes first
        (it sits in context `kind`; the scan resumes after it) or the text ends."""
        match = stop.search(self.text, self.pos)
        if match is None:
            self.pos = len(self.text)
            return None
        if match.group() == _HOLE:
            self.pos = match.start()
            self.hole(kind)
            return None
        return match

    # -- tags ------------------------------------------------------------------------------

    def begin_tag(self, *, end_tag: bool) -> None:
        self.tag, self.end_tag, self.script_type = "", end_tag, None
        self.state = self.tag_name

    def tag_name(self) -> None:
        self.tag += self.take(_TAG_NAME).lower()
        if self.peek() == _HOLE:
            self.tag += _HOLE  # a name we cannot know: no raw-text element
            self.hole(TAG)
        else:
            self.tag_punctuation()

    def tag_punctuation(self) -> None:
        """After a name or a quoted value: whitespace, `/` or `>` (or the text's end)."""
        char = self.peek()
        if not char:
            return
        self.pos += 1
        if char == ">":
            self.emit_tag()
        elif char == "/":
            self.state = self.self_closing
        else:
            self.state = self.before_attribute_name

    def before_attribute_name(self) -> None:
        char = self.skip_space()
        if char in ("/", ">"):
            self.tag_punctuation()
        elif char == _HOLE:
            self.begin_attribute(_HOLE)
            self.hole(TAG)
        elif char:
            self.begin_attribute(char if char == "=" else "")  # `<a =x>`: a name starting '='
            self.pos += len(self.attribute)

    def begin_attribute(self, name: str) -> None:
        self.attribute, self.value = name, []
        self.state = self.attribute_name

    def attribute_name(self) -> None:
        self.attribute += self.take(_ATTRIBUTE_NAME).lower()
        char = self.peek()
        if char == _HOLE:
            self.attribute += _HOLE
            self.hole(TAG)
        elif char == "=":
            self.pos += 1
            self.state = self.before_value
        elif char in ("/", ">"):
            self.end_attribute()
            self.tag_punctuation()
        elif char:
            self.end_attribute()
            self.state = self.after_attribute_name

    def after_attribute_name(self) -> None:
        char = self.skip_space()
        if char == "=":
            self.pos += 1
            self.state = self.before_value
        else:
            self.state = self.before_attribute_name

    def before_value(self) -> None:
        char = self.skip_space()
        if char in ('"', "'"):
            self.pos += 1
            self.state = self.double_quoted if char == '"' else self.single_quoted
        elif char == ">":
            self.end_attribute()
            self.tag_punctuation()
        elif char == _HOLE:
            self.value.append(_HOLE)
            self.hole(VALUE_START, self.attribute)
            self.state = self.unquoted
        elif char:
            self.state = self.unquoted

    def double_quoted(self) -> None:
        self.quoted('"', DOUBLE_QUOTED)

    def single_quoted(self) -> None:
        self.quoted("'", SINGLE_QUOTED)

    def quoted(self, quote: str, kind: str) -> None:
        match = _QUOTED_STOP[quote].search(self.text, self.pos)
        end = len(self.text) if match is None else match.start()
        self.value.append(self.text[self.pos : end])
        self.pos = end
        if match is None:
            return
        if match.group() == _HOLE:
            self.value.append(_HOLE)
            self.hole(kind, self.attribute)
            return
        self.pos += 1
        self.end_attribute()
        self.state = self.after_quoted_value

    def after_quoted_value(self) -> None:
        if self.peek() in ("/", ">") or self.peek() in _SPACE:
            self.tag_punctuation()
        else:
            self.state = self.before_attribute_name  # `a="1"b="2"`: no space needed

    def unquoted(self) -> None:
        self.value.append(self.take(_UNQUOTED_VALUE))
        char = self.peek()
        if char == _HOLE:
            self.value.append(_HOLE)
            self.hole(UNQUOTED, self.attribute)
        elif char:
            self.end_attribute()
            self.tag_punctuation()

    def self_closing(self) -> None:
        if self.peek() == ">":
            self.tag_punctuation()
        else:
            self.state = self.before_attribute_name

    def end_attribute(self) -> None:
        if self.attribute == "type" and self.script_type is None:
            self.script_type = "".join(self.value)

    def emit_tag(self) -> None:
        """After a tag's `>`: a start tag of a raw-text element begins its text."""
        kind = None if self.end_tag else _RAW_TEXT.get(self.tag)
        if kind is None:
            self.state = self.data
            return
        if kind == SCRIPT and not _is_script(self.script_type):
            kind = TEXT
        self.raw_text_kind = kind
        self.raw_text_stop = re.compile(f"\x00|</{self.tag}(?=[\t\n\f\r />])", re.IGNORECASE)
        self.state = self.raw_text
