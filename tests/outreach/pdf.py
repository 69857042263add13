"""The text of a PDF as a reader sees it (poppler's pdftotext), and its page count."""

import shutil
import subprocess

from tests.conftest import need


def pdf_text(data: bytes, *, first: int | None = None, last: int | None = None) -> str:
    need(shutil.which("pdftotext") is not None, "pdftotext (poppler-utils) is not installed")
    args = ["pdftotext", "-layout"]
    if first:
        args += ["-f", str(first)]
    if last:
        args += ["-l", str(last)]
    out = subprocess.run([*args, "-", "-"], input=data, capture_output=True, check=True)
    return " ".join(out.stdout.decode().split())  # one line: sentences wrap anywhere


def pdf_pages(data: bytes) -> int:
    need(shutil.which("pdfinfo") is not None, "pdfinfo (poppler-utils) is not installed")
    out = subprocess.run(["pdfinfo", "-"], input=data, capture_output=True, check=True).stdout.decode()
    return int(next(line.split()[1] for line in out.splitlines() if line.startswith("Pages:")))
