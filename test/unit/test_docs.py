# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The documents: a README read in ten minutes, and relative links that lead somewhere."""

from pathlib import Path
import re

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / 'README.md'] + sorted((ROOT / 'docs').glob('*.md'))
README_MAX_LINES = 300

#: ``[text](target)`` outside code; images too.
LINK = re.compile(r'!?\[[^\]]*\]\(([^)\s]+)\)')
FENCE = re.compile(r'^```.*?^```', re.S | re.M)
CODE_SPAN = re.compile(r'`[^`\n]*`')


def slug(heading: str) -> str:
    """Return GitHub's anchor of a heading: lower case, punctuation dropped, spaces to '-'."""
    text = heading.strip().lower().replace('`', '')
    text = re.sub(r'[^\w\- ]', '', text)
    return text.replace(' ', '-')


def anchors(path: Path) -> set:
    """Return the anchors of every heading of a markdown file (repeats get -1, -2, ...)."""
    seen = {}
    out = set()
    for line in FENCE.sub('', path.read_text()).splitlines():
        match = re.match(r'#{1,6}\s+(.*)', line)
        if not match:
            continue
        base = slug(match.group(1))
        count = seen.get(base, 0)
        seen[base] = count + 1
        out.add(base if count == 0 else f'{base}-{count}')
    return out


def links(path: Path):
    """Yield the link targets of a markdown file, leaving out code blocks and code spans."""
    text = CODE_SPAN.sub('', FENCE.sub('', path.read_text()))
    yield from LINK.findall(text)


def test_slug_is_githubs():
    assert slug('The face model (`face_tracker_get_model`)') == \
        'the-face-model-face_tracker_get_model'
    assert slug('First steps when something is wrong at 3 a.m.') == \
        'first-steps-when-something-is-wrong-at-3-am'


def test_readme_is_short():
    lines = (ROOT / 'README.md').read_text().splitlines()
    assert len(lines) <= README_MAX_LINES, \
        f'README.md has {len(lines)} lines; at most {README_MAX_LINES}: move details to docs/'


@pytest.mark.parametrize('path', DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(path):
    broken = []
    for target in links(path):
        if re.match(r'[a-z][a-z0-9+.-]*:', target):  # http:, https:, mailto:
            continue
        file_part, _, anchor = target.partition('#')
        dest = (path.parent / file_part).resolve() if file_part else path
        if not dest.exists():
            broken.append(f'{target}: no file {dest}')
        elif anchor and dest.suffix == '.md' and anchor not in anchors(dest):
            broken.append(f'{target}: no heading with anchor #{anchor} in {dest.name}')
    assert not broken, f'{path.name}: ' + '; '.join(broken)
