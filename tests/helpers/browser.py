"""Where the browser tests find Debian's Chromium, and what a run says when it is missing."""

from __future__ import annotations

import os

# LEARNING_TEST_CHROMIUM names another binary (tests/test_suite.py uses it to check the missing case).
CHROMIUM = os.environ.get("LEARNING_TEST_CHROMIUM") or "/usr/bin/chromium"
CHROMIUM_MISSING = (
    "The browser tests need Debian's Chromium, which is not installed ({path} is missing). "
    "Install it with: apt-get install -y chromium   (then run the tests again; "
    "to run everything else only, add: -m 'not browser')"
)
