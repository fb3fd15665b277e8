"""axe-core (Deque's accessibility engine, from npm) in the browser tests: where it is installed, what a run
says when it is not, and how a page is audited.

``tests/js/package.json`` pins it and ``npm ci --prefix tests/js`` (part of the README's test command and of
``.ci/run``) installs it. A run that selects a test using the ``axe`` fixture stops at collection when it is
missing or is not the pinned version (tests/conftest.py), naming that command: never a skip.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

JS = Path(__file__).resolve().parents[1] / "js"
INSTALL = "npm ci --prefix tests/js"
# LEARNING_TEST_AXE names another file (tests/test_suite.py uses it to check the missing case).
AXE = Path(os.environ.get("LEARNING_TEST_AXE") or JS / "node_modules" / "axe-core" / "axe.min.js")
AXE_MISSING = (
    "The accessibility tests inject axe-core from npm, which is not installed ({problem}). "
    f"Install it with: {INSTALL}   (needs node and npm: apt-get install -y nodejs npm; then run the tests again; "
    "to run everything else only, add: -m 'not browser')"
)
# WCAG 2.0, 2.1 and 2.2 at levels A and AA, and Deque's best practices (landmarks, headings, regions…).
TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice")


def axe_problem() -> str | None:
    """Why axe-core cannot be used as pinned (None when it can)."""
    if not AXE.is_file():
        return f"{AXE} is missing"
    if "LEARNING_TEST_AXE" in os.environ:
        return None
    pinned = json.loads((JS / "package.json").read_text(encoding="utf-8"))["dependencies"]["axe-core"]
    installed = json.loads((AXE.parent / "package.json").read_text(encoding="utf-8"))["version"]
    if installed != pinned:
        return f"axe-core {installed} is installed, tests/js/package.json pins {pinned}"
    return None


def audit(page: Page, source: str) -> dict[str, Any]:
    """Run axe-core on the page as it is now: its violations (rule, impact, help, nodes) and how many rules
    passed.

    The pages' CSP (``script-src 'self'``) refuses an injected ``<script>`` — Playwright's ``add_script_tag``
    included — so the engine's source is evaluated through the DevTools protocol (``page.evaluate``), which
    the page's CSP does not govern; axe itself needs no ``eval``."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(source)
    result: dict[str, Any] = page.evaluate(
        """async tags => {
             const options = {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']};
             const results = await axe.run(document, options);
             return {
               passes: results.passes.length,
               violations: results.violations.map(v => ({
                 id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                 nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary, html: n.html})),
               })),
             };
           }""",
        list(TAGS),
    )
    return result


def describe(violations: list[dict[str, Any]]) -> str:
    """One paragraph per violation: rule, impact, what it asks, then each element's selector and failure."""
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} — {violation['helpUrl']}")
        for node in violation["nodes"]:
            summary = " ".join(str(node["summary"]).split())
            lines.append(f"    {node['target']}: {summary}")
            lines.append(f"        {node['html'][:200]}")
    return "\n".join(lines)
