"""Spec prose -> docstring text: HTML and Markdown links reduced to plain words, wrapped, safely quoted."""

from __future__ import annotations

import html
import re
import textwrap
from collections.abc import Sequence

_TAG = re.compile(r"<[^>]+>")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_BLANK_LINES = re.compile(r"\n\s*\n")


def count(number: int, noun: str) -> str:
    """``"1 operation"``, ``"4 operations"``."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def clean(text: str | None) -> str:
    if not text:
        return ""
    text = html.unescape(_TAG.sub("", _LINK.sub(r"\1", text)))
    return text.replace("\\", "/").replace('"""', "'''").strip()


_LIST_ITEM = re.compile(r"^[ \t]*(?:[-*]|\d+\.)[ \t]+", re.M)


def paragraphs(text: str | None, limit: int = 3) -> list[str]:
    """Paragraphs with their whitespace folded; a Markdown list keeps one item per line."""
    parts = []
    for block in _BLANK_LINES.split(clean(text)):
        starts = [m.start() for m in _LIST_ITEM.finditer(block)]
        if starts and not block[: starts[0]].strip():
            items = [block[a:b] for a, b in zip(starts, [*starts[1:], len(block)], strict=True)]
            parts.append("\n".join(" ".join(item.split()) for item in items))
        else:
            parts.append(" ".join(block.split()))
    return [p for p in parts if p][:limit]


def first_sentence(text: str | None, max_length: int = 160) -> str:
    paras = paragraphs(text, 1)
    if not paras:
        return ""
    sentence = re.split(r"(?<=[.!?])\s", paras[0], maxsplit=1)[0]
    if len(sentence) > max_length:
        sentence = sentence[: max_length - 3].rsplit(" ", 1)[0] + "..."
    return sentence


def wrap(text: str, indent: str, width: int = 110) -> list[str]:
    """Wrapped lines; each line of ``text`` (a list item) wraps on its own, continuing under its first word."""
    lines: list[str] = []
    for line in text.split("\n"):
        hanging = " " * (len(line) - len(_LIST_ITEM.sub("", line, count=1))) if _LIST_ITEM.match(line) else ""
        lines += textwrap.wrap(
            line,
            width=width - len(indent),
            subsequent_indent=hanging,
            break_long_words=False,
            break_on_hyphens=False,
        )
    return lines or [""]


def docstring(paras: list[str], indent: str, args: Sequence[tuple[str, str]] = ()) -> list[str]:
    """A docstring as source lines (empty list for no text): the paragraphs, then an ``Args:`` section of
    ``(name, description)`` pairs if any are given."""
    if not paras:
        return []
    lines = _paragraph_lines(paras, indent)
    if args:
        lines += ["", "Args:", *_args_lines(args, indent + "    ")]
    elif len(lines) == 1 and len(indent) + len(lines[0]) + 6 <= 110:
        return [f'{indent}"""{lines[0]}"""']
    out = [f'{indent}"""{lines[0]}']
    out.extend(f"{indent}{line}" if line else "" for line in lines[1:])
    out.append(f'{indent}"""')
    return out


def _paragraph_lines(paras: list[str], indent: str) -> list[str]:
    lines: list[str] = []
    for i, para in enumerate(paras):
        if i:
            lines.append("")
        lines.extend(wrap(para, indent))
    if lines[-1].endswith('"'):
        lines[-1] += " "  # a closing quote must not touch the docstring's own quotes
    return lines


def _args_lines(args: Sequence[tuple[str, str]], indent: str) -> list[str]:
    """``name: description``, each indented under ``Args:``, its continuation lines once more."""
    lines = []
    for name, doc in args:
        first, *rest = wrap(f"{name}: {doc}".rstrip(": "), indent)
        lines += [f"    {first}", *(f"        {line}" for line in rest)]
    return lines
