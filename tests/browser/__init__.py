"""Browser tests (Playwright + Debian's Chromium). A package so the browser closes when these tests end."""
