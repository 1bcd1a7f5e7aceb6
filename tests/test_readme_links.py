"""The README links only files inside the repository (issue 20): a clone alone has no
``../shared/DESIGN.md``; the contract is named in words and docs/ holds the project's
own account of its design and where it differs."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _local_links(text: str) -> list[str]:
    return [
        target
        for target in LINK.findall(text)
        if not re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) and not target.startswith("#")
    ]


def test_readme_links_only_files_inside_the_repository():
    links = _local_links((ROOT / "README.md").read_text())
    assert links
    for target in links:
        path = (ROOT / target.split("#")[0]).resolve()
        assert path.is_relative_to(ROOT), target
        assert path.exists(), target
    assert "../" not in " ".join(links)


def test_readme_points_to_the_differences_from_the_contract():
    text = (ROOT / "README.md").read_text()
    assert "docs/architecture.md#differences-from-designmd" in text
    assert "## Differences from DESIGN.md" in (ROOT / "docs/architecture.md").read_text()
