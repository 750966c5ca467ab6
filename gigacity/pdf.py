"""PDF files printed by the system Chromium from a page the app has rendered already.

Why Chromium rather than a PDF library: the PDF is then exactly the print view people see in the
browser (one layout, one template), Chinese text is shaped, broken into lines and set in the CJK
fonts of the machine (Noto CJK on Debian) with the fonts embedded, and tables split across pages
with their header repeated — which the pure-Python libraries do not do for Chinese without a font
file shipped alongside. The price is a program on the server: Debian's `chromium` and
`fonts-noto-cjk` (the Dockerfile installs them). Where Chromium is missing, `html_to_pdf` raises
`PdfUnavailable` (503) with a message saying so and what to use instead, never a server error.

The page is written to a private temporary directory and opened from there: Chromium never asks the
app for anything, so it needs no session. The page carries a Content-Security-Policy that allows no
script and no network at all; user text in it is escaped by the template like on any page.
"""

from __future__ import annotations

import io
import logging
import os
import re
import shutil
import subprocess
import tempfile
import unicodedata
from pathlib import Path

import pypdf
from django.conf import settings
from django.utils.translation import gettext as _

from .errors import ApplicationError

logger = logging.getLogger(__name__)

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Chromium starts in about a second; a long form prints in a few more. Past this, something is wrong.
TIMEOUT_SECONDS = 60
# What the page may load while it is printed: nothing but its own inline styles and data: images.
PRINT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:"


class PdfUnavailable(ApplicationError):
    """No PDF can be printed on this server now (no Chromium, or it failed)."""

    status_code = 503
    code = "pdf_unavailable"


def chromium() -> str | None:
    """The Chromium program: GIGACITY_CHROMIUM when set, else the first of the usual names on PATH."""
    configured = getattr(settings, "GIGACITY_CHROMIUM", "")
    if configured:
        return configured if os.access(configured, os.X_OK) else shutil.which(configured)
    return next((path for name in CANDIDATES if (path := shutil.which(name))), None)


def available() -> bool:
    return chromium() is not None


def html_to_pdf(html: str, *, timeout: int = TIMEOUT_SECONDS) -> bytes:
    """Print a complete HTML page (A4 and margins come from its CSS `@page`) to PDF bytes."""
    program = chromium()
    if program is None:
        raise PdfUnavailable(
            _(
                "PDF files cannot be produced on this server because Chromium is not installed. Open the print "
                "view and use the browser's “Save as PDF”, or ask the administrator to install Chromium."
            )
        )
    with tempfile.TemporaryDirectory(prefix="gigacity-pdf-") as directory:
        folder = Path(directory)
        page, out = folder / "page.html", folder / "page.pdf"
        page.write_text(html, encoding="utf-8")
        command = [
            program,
            "--headless",
            # Chromium's sandbox needs user namespaces, which containers and root rarely have; the page
            # is our own rendering, with no script and no network allowed (PRINT_CSP).
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-sync",
            "--no-first-run",
            "--no-default-browser-check",
            "--mute-audio",
            f"--user-data-dir={folder / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={out}",
            page.as_uri(),
        ]
        environment = {"HOME": directory, "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
        try:
            result = subprocess.run(command, capture_output=True, timeout=timeout, env=environment, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            logger.warning("chromium could not print a PDF: %s", exc)
            raise _failed() from None
        if not out.exists() or out.stat().st_size == 0:
            logger.warning("chromium printed no PDF (exit %s): %s", result.returncode, result.stderr[-2000:])
            raise _failed()
        return searchable(out.read_bytes())


# Noto CJK draws 青 and the radical ⻘ (and 山 and ⼭, …) with one glyph, and Chromium's PDF says
# each such glyph is the radical: copied or searched text would read "⼭东省⻘岛市". The radicals'
# unified ideographs: the Kangxi radicals by NFKC, the CJK Radicals Supplement from this table (the
# whole characters among them, from Unicode's EquivalentUnifiedIdeograph.txt).
RADICALS = {
    0x2EA0: "民", 0x2EC4: "西", 0x2EC5: "见", 0x2EC6: "角", 0x2EC9: "贝", 0x2ECB: "车", 0x2ED1: "長",
    0x2ED3: "长", 0x2ED4: "门", 0x2ED8: "青", 0x2ED9: "韦", 0x2EDA: "页", 0x2EDB: "风", 0x2EDC: "飞",
    0x2EDD: "食", 0x2EDF: "食", 0x2EE2: "马", 0x2EE3: "骨", 0x2EE4: "鬼", 0x2EE5: "鱼", 0x2EE6: "鸟",
    0x2EE7: "卤", 0x2EE8: "麦", 0x2EE9: "黄", 0x2EEC: "齐", 0x2EEE: "齿", 0x2EF0: "龙",
}  # fmt: skip
_DESTINATION = re.compile(rb"(<[0-9A-Fa-f]+>\s*)<([0-9A-Fa-f]{4})>")


def ideograph(code: int) -> int:
    """The unified ideograph a radical's glyph stands for (the code itself when it is no radical)."""
    if 0x2F00 <= code <= 0x2FD5 or 0x2E80 <= code <= 0x2EFF:
        text = RADICALS.get(code) or unicodedata.normalize("NFKC", chr(code))
        if len(text) == 1 and 0x2E80 <= code <= 0x2FDF and not (0x2E80 <= ord(text) <= 0x2FDF):
            return ord(text)
    return code


def searchable(content: bytes) -> bytes:
    """The PDF with every font's ToUnicode map saying ideographs where it said radicals."""
    reader = pypdf.PdfReader(io.BytesIO(content))
    writer = pypdf.PdfWriter(clone_from=reader)
    changed = False
    for page in writer.pages:
        fonts = page.get("/Resources", {}).get("/Font", {})
        for font in fonts.values():
            cmap = font.get_object().get("/ToUnicode")
            if cmap is None:
                continue
            stream = cmap.get_object()
            data = stream.get_data()

            def fix(match: re.Match) -> bytes:
                code = int(match.group(2), 16)
                return match.group(1) + b"<%04X>" % ideograph(code)

            fixed = _DESTINATION.sub(fix, data)
            if fixed != data:
                stream.set_data(fixed)
                changed = True
    if not changed:
        return content
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _failed() -> PdfUnavailable:
    return PdfUnavailable(
        _(
            "The PDF could not be produced just now. Try again in a moment, or open the print view and use the "
            "browser's “Save as PDF”."
        )
    )
