"""Suite ``lighthouse``: Google Lighthouse's scores of the main page types (issue 22's targets).

One ``learning serve`` (granian, 1 worker, a throwaway embedded PostgreSQL and data folder under
``bench/.work/lighthouse/``) with the shipped content synced at start. Lighthouse (npm, pinned in
``bench/lighthouse-node/``, installed there with ``npm ci`` when missing) drives Debian's Chromium
(``CHROME_PATH``, ``/usr/bin/chromium`` by default) over the home page, a module, a video lesson, the webinar
series, a session with its replay, a search and the sign-in page, once with its phone emulation (the default:
a Moto G Power, simulated slow 4G and a 4× slower CPU) and once with its desktop preset.

Scores are out of 100. Each row compares a score with its target (the "baseline" column): accessibility 100,
best practices ≥ 96, SEO ≥ 95, so a ratio ≥ 1.00 meets it. Performance is informational (its simulated
throttling is computed from timings taken on this shared, noisy machine): its baseline is the best score,
100. The audits that lost points are listed in the notes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.harness import ROOT, Result, SuiteReport, bench_database, publish, running_app, suite_command

PORT = 18400
NODE_DIR = ROOT / "bench" / "lighthouse-node"
CLI = NODE_DIR / "node_modules" / "lighthouse" / "cli" / "index.js"
MODULE = "comprendre-la-co-construction-territoriale"
SERIES = "innovation-territoriale-en-actions-2019"
PAGES = {
    "home": "/",
    "module": f"/modules/{MODULE}",
    "video lesson": f"/modules/{MODULE}/lecons/la-co-construction-en-quelques-mots",
    "series": f"/webinaires/{SERIES}",
    "session": f"/webinaires/{SERIES}/2019-01-lancement-du-cycle",
    "search": "/recherche?q=territoire",
    "sign-in": "/connexion",
}
# category id → (label, target score; None: informational against the best score)
CATEGORIES = {
    "accessibility": ("accessibility", 100),
    "best-practices": ("best practices", 96),
    "seo": ("SEO", 95),
    "performance": ("performance", None),
}
FORM_FACTORS = {"phone": [], "desktop": ["--preset=desktop"]}
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage"


@dataclass(frozen=True)
class Audit:
    page: str
    form_factor: str
    scores: dict[str, float]
    lost: dict[str, list[str]]  # category → audits that scored below 1, with their score
    command: str


def ensure_lighthouse() -> tuple[str, str]:
    """``node`` and the path of Lighthouse's CLI, after ``npm ci --prefix bench/lighthouse-node`` if needed."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        raise RuntimeError("Lighthouse needs node (≥ 18.20) and npm: apt-get install -y nodejs npm")
    if not CLI.is_file():
        print("  npm ci --prefix bench/lighthouse-node", flush=True)
        argv = [npm, "ci", "--prefix", str(NODE_DIR), "--no-audit", "--no-fund", "--loglevel=error"]
        subprocess.run(argv, check=True, timeout=600)
    return node, str(CLI)


def chrome_path() -> str:
    chrome = os.environ.get("CHROME_PATH") or "/usr/bin/chromium"
    if not Path(chrome).exists():
        raise RuntimeError(f"{chrome} is missing: apt-get install -y chromium (or set CHROME_PATH)")
    return chrome


def lighthouse_version() -> str:
    data = json.loads((CLI.parents[1] / "package.json").read_text(encoding="utf-8"))
    return str(data["version"])


def run_lighthouse(node: str, cli: str, url: str, form_factor: str, page: str) -> Audit:
    """One Lighthouse run of ``url``: its four category scores and the audits that lost points."""
    categories = ",".join(CATEGORIES)
    flags = [*FORM_FACTORS[form_factor], f"--only-categories={categories}", f"--chrome-flags={CHROME_FLAGS}"]
    shown = f"CHROME_PATH={chrome_path()} lighthouse {url} {' '.join(flags[:-1])} --chrome-flags='{CHROME_FLAGS}'"
    with tempfile.TemporaryDirectory(prefix="learning-lighthouse-") as tmp:
        report = Path(tmp) / "report.json"
        argv = [node, cli, url, *flags, "--output=json", f"--output-path={report}", "--quiet"]
        env = {**os.environ, "CHROME_PATH": chrome_path(), "TMPDIR": tmp}
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300, check=False)
        if done.returncode != 0 or not report.is_file():
            raise RuntimeError(f"lighthouse failed on {url} ({form_factor}):\n{done.stdout}\n{done.stderr[-3000:]}")
        data = json.loads(report.read_text(encoding="utf-8"))
    if data.get("runtimeError"):
        raise RuntimeError(f"lighthouse could not audit {url}: {data['runtimeError']}")
    scores: dict[str, float] = {}
    lost: dict[str, list[str]] = {}
    for category, (_label, _target) in CATEGORIES.items():
        entry = data["categories"][category]
        scores[category] = round(100 * (entry["score"] or 0))
        failing = []
        for ref in entry["auditRefs"]:
            audit = data["audits"][ref["id"]]
            if ref["weight"] > 0 and audit["score"] is not None and audit["score"] < 1:
                failing.append(f"`{ref['id']}` {audit['score']:.2f}")
        lost[category] = failing
    return Audit(page, form_factor, scores, lost, shown)


def results(audits: Sequence[Audit]) -> tuple[list[Result], list[str]]:
    rows: list[Result] = []
    notes: list[str] = []
    for audit in audits:
        for category, (label, target) in CATEGORIES.items():
            rows.append(
                Result(
                    f"{audit.page} ({audit.form_factor}): {label}",
                    audit.scores[category],
                    float(target if target is not None else 100),
                    "score",
                    audit.command,
                    target=1.0 if target is not None else None,
                )
            )
            if audit.lost[category] and target is not None:
                lost = ", ".join(audit.lost[category])
                notes.append(f"{audit.page} ({audit.form_factor}), {label}: lost points on {lost}.")
    return rows, notes


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.lighthouse", description=__doc__)
    parser.add_argument("--pages", nargs="*", choices=list(PAGES), default=list(PAGES))
    parser.add_argument("--form-factors", nargs="*", choices=list(FORM_FACTORS), default=list(FORM_FACTORS))
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)

    node, cli = ensure_lighthouse()
    chrome_path()
    audits: list[Audit] = []
    missing: list[str] = []
    with bench_database() as database_url, running_app("lighthouse", database_url, port=PORT) as app:
        for form_factor in args.form_factors:
            for page in args.pages:
                audit = None
                for _attempt in range(2):  # once more after a failed load: the page may be fine the second time
                    try:
                        audit = run_lighthouse(node, cli, app.url(PAGES[page]), form_factor, page)
                        break
                    except RuntimeError as exc:
                        print(f"  {page:12} {form_factor:7} failed: {str(exc).strip()[:300]}", flush=True)
                if audit is None:
                    missing.append(f"{page} ({form_factor})")
                    continue
                audits.append(audit)
                shown = "  ".join(f"{CATEGORIES[c][0]} {s:.0f}" for c, s in audit.scores.items())
                print(f"  {page:12} {form_factor:7} {shown}", flush=True)
    rows, notes = results(audits)
    if missing:
        notes.append(f"**Not audited** (Lighthouse could not load the page twice): {', '.join(missing)}.")
    chromium = subprocess.run([chrome_path(), "--version"], capture_output=True, text=True, check=False).stdout
    notes.insert(
        0,
        f"Lighthouse {lighthouse_version()} (npm, `bench/lighthouse-node/`) driving {chromium.strip() or 'Chromium'} "
        "headless, against `learning serve` (granian, 1 worker) over the shipped content. Each row is one run; "
        "the baseline column is the target score (accessibility 100, best practices 96, SEO 95), so a ratio of "
        "at least 1.00 meets it; performance is informational against the best score, 100 (Lighthouse "
        "simulates its throttling from timings taken on this shared machine). Phone: Lighthouse's default "
        "mobile emulation; desktop: `--preset=desktop`.",
    )
    if not any(note for note in notes[1:]):
        notes.append("No audit of the accessibility, best-practices or SEO categories lost a point.")
    publish(
        SuiteReport(
            suite="lighthouse",
            title="Lighthouse scores of the main page types",
            project_label="score",
            baseline_label="target",
            results=rows,
            notes=notes,
            command=suite_command("lighthouse", argv),
        )
    )
    if missing:
        sys.exit(1)


if __name__ == "__main__":
    main()
