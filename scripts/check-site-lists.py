#!/usr/bin/env python3
"""Checks the HTML that `mkdocs build` wrote for lists that collapsed.

Python-Markdown needs a blank line before a list and four spaces of indent
for a nested one; GitHub's renderer forgives both, so a list that reads well
on GitHub can come out of mkdocs as one run-on paragraph. This fails when:

- a paragraph holds a list marker at the start of one of its lines ("- x",
  "* x", "+ x", "2. x", "3) x"): a list that was never made one;
- a list item ends with ":" but holds no list (or code, table) of its own,
  and more items of the same list follow it: its sub-items came out as the
  outer list's next items, a nested list that came out flat.

Usage: check-site-lists.py SITE_DIR
Prints one line per problem (page, what, the text) and exits 1 if any;
uses only the standard library.
"""

import re
import sys
from html.parser import HTMLParser
from pathlib import Path

MARKER = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+\S")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
BLOCKS = {"ul", "ol", "pre", "table", "div", "blockquote", "dl"}
VERBATIM = {"pre", "code", "script", "style"}


class Page(HTMLParser):
    """Collects each <p>'s text and, per list, each item's own text (not
    that of lists or code inside it) and whether a block sits inside it."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []
        self.paragraphs = []
        self.lists = []  # finished lists: [ {"text": str, "block": bool} ]
        self._lists = []  # open lists, innermost last
        self._verbatim = 0

    def handle_starttag(self, tag, attrs):
        if tag in VOID:
            return
        if self._lists and self._lists[-1] and tag in BLOCKS and self._in_item():
            self._lists[-1][-1]["block"] = True
        self.stack.append(tag)
        if tag in VERBATIM:
            self._verbatim += 1
        if tag == "p":
            self.paragraphs.append([])
        elif tag in ("ul", "ol"):
            self._lists.append([])
        elif tag == "li" and self._lists:
            self._lists[-1].append({"text": "", "block": False})

    def _in_item(self):
        """Is the innermost open list's last item the nearest open <li>?"""
        for tag in reversed(self.stack):
            if tag == "li":
                return True
            if tag in ("ul", "ol"):
                return False
        return False

    def handle_endtag(self, tag):
        if tag in VOID or tag not in self.stack:
            return
        while self.stack:
            top = self.stack.pop()
            if top in VERBATIM and self._verbatim:
                self._verbatim -= 1
            if top in ("ul", "ol") and self._lists:
                self.lists.append(self._lists.pop())
            if top == tag:
                break

    def handle_data(self, data):
        if self._verbatim:
            return
        if "p" in self.stack and self.paragraphs:
            self.paragraphs[-1].append(data)
        if self._lists and self._lists[-1] and self._in_item():
            self._lists[-1][-1]["text"] += data


def problems(path, site):
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    name = path.relative_to(site).as_posix()
    found = []
    for parts in page.paragraphs:
        for line in "".join(parts).split("\n"):
            if MARKER.match(line):
                found.append(
                    f"{name}: a paragraph holds a list marker "
                    f"(a blank line missing before the list?): {line.strip()[:80]!r}"
                )
    for items in page.lists:
        for item, following in zip(items, items[1:]):
            text = " ".join(item["text"].split())
            if text.endswith(":") and not item["block"]:
                after = " ".join(following["text"].split())
                found.append(
                    f"{name}: a list item ending in ':' has no list inside it and is "
                    f"followed by items of its own list (a nested list indented less "
                    f"than 4 spaces?): {text[-60:]!r} then {after[:60]!r}"
                )
    return found


def main(argv):
    if len(argv) != 2 or not Path(argv[1]).is_dir():
        print("usage: check-site-lists.py SITE_DIR (the folder mkdocs build wrote)", file=sys.stderr)
        return 2
    site = Path(argv[1])
    pages = sorted(site.rglob("*.html"))
    if not pages:
        print(f"no HTML page under '{site}'; expected the output of mkdocs build", file=sys.stderr)
        return 2
    found = [p for page in pages for p in problems(page, site)]
    for line in found:
        print(line)
    print(f"checked {len(pages)} page(s): {len(found)} collapsed list(s)", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
