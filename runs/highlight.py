"""Failure texts as highlighted HTML: Python tracebacks, pytest reports and other stack traces.

Pygments escapes every character of the text; the page colours its token classes with the
theme's CSS variables (static/css/test_detail.css), so one markup reads in light and dark.
"""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import RegexLexer, bygroups
from pygments.lexers import PythonTracebackLexer
from pygments.token import Comment, Generic, Name, Number, Punctuation, String, Text

# Highlighting is linear but not free: longer texts are shown escaped, without colours.
HIGHLIGHT_MAX_CHARS = 200_000


class StackTraceLexer(RegexLexer):
    """Stack traces of any language: frames, file:line places, exception names, and pytest's
    ``E`` (error) and ``>`` (failing line) lines."""

    name = "Stack trace"
    aliases = ["stacktrace"]
    tokens = {
        "root": [
            (r"^E(   |\s*$).*\n?", Generic.Error),
            (r"^>.*\n?", Generic.Strong),
            (r"^([ \t]*at )([\w$.<>/-]+)", bygroups(Comment, Name.Function)),
            (r"^\s*(Caused by:|During handling|The above exception).*\n?", Generic.Subheading),
            (r"^\s*\.\.\. \d+ more\n?", Comment),
            (r"\b[\w.$]*(?:Error|Exception|Failure|Panic|Fault)\b", Name.Exception),
            (r"(\"[^\"\n]*\"|'[^'\n]*')", String),
            (
                r"([\w./\\-]+\.\w+)(:)(\d+)(?::(\d+))?",
                bygroups(Name.Namespace, Punctuation, Number, Number),
            ),
            (r"\(([\w$.-]+\.\w+):(\d+)\)", Name.Namespace),
            (r"\n", Text),
            (r"[ \t]+", Text),
            (r".", Text),
        ]
    }


_FORMATTER = HtmlFormatter(cssclass="hl", nowrap=True)


def failure_html(text: str) -> SafeString:
    """`text` escaped, with the tokens of a traceback or stack trace wrapped in classed spans."""
    if not text:
        return mark_safe("")
    if len(text) > HIGHLIGHT_MAX_CHARS:
        return escape(text)
    if "Traceback (most recent call last)" in text:
        lexer: RegexLexer = PythonTracebackLexer(stripnl=False, ensurenl=False)
    else:
        lexer = StackTraceLexer(stripnl=False, ensurenl=False)
    # Pygments escapes the text it is given (&, <, >, quotes) inside its spans.
    return mark_safe(highlight(text, lexer, _FORMATTER))  # noqa: S308
