#!/usr/bin/env python3
"""Render an evidence bundle's report/case.html in headless Chromium and check the result.

Python 3 standard library only (plus a Chromium binary), sharing no code with the C++ renderer
(tools/evidence/case_report.cc):
  1. screenshot: `chromium --headless --screenshot=OUT.png --window-size=1280,1600 file://...`,
     the PNG decoded here with zlib (8-bit RGB or RGBA, filter types 0-4, not interlaced) and
     checked not to be blank: at least MIN_INK_FRACTION of the pixels differ noticeably from the
     most common (background) colour, and there are dark (text) pixels;
  2. DOM: `chromium --headless --dump-dom file://...`; the page's visible text must contain the
     loan id, every expected amount (as a whole number, so "40,000.00" does not match inside
     "140,000.00") and the words "not evidence"; neither the file nor the DOM may contain
     "<script", and the page may not load anything from the network (no http(s) or
     protocol-relative src=, <link href=, url(...) or @import).
Each Chromium run is time-boxed (60 s by default; its process group is killed on timeout), runs
with a throw-away profile and with network access blocked (unresolvable host names, a dead proxy).

As a module: check_report(html_path, loan_id, amounts) -> list of problems (empty = good).
As a CLI:
  report_render.py --bundle B.zip --loan L --amount 40,000.00 --amount 8,000.00 ...
  report_render.py --html case.html --loan L ...          (check a loose HTML file)
prints each check as "ok: ..." or "FAIL: ..." and exits 0 only if there were no problems.
"""
import argparse
import collections
import html.parser
import itertools
import operator
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import urllib.parse
import zipfile
import zlib

WINDOW = (1280, 1600)
TIMEOUT = 60.0
MIN_INK_FRACTION = 0.02      # pixels that differ noticeably from the background colour
INK_DELTA = 48               # "noticeably": some channel differs by more than this
DARK_LEVEL = 100             # a pixel is dark if all of R, G, B are below this
MIN_DARK_PIXELS = 2000       # a page with real text has tens of thousands

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

# Chromium logs these on machines without a D-Bus session or GPU; they are not problems.
NOISE = re.compile(r"dbus|Failed to connect to the bus|NameHasOwner|gpu_init|viz_main|"
                   r"sandbox|Fontconfig|bytes written to file|GetVSyncParametersIfAvailable|"
                   r"unexpected operator|Floss|bluez|os_crypt|kwallet|gnome-keyring|"
                   r"libva|vaInitialize|dri3|ANGLE|egl|gl_surface|ozone", re.I)


# ---------------------------------------------------------------------------- Chromium

def find_chromium():
    """Path of the Chromium binary ($CHROMIUM overrides), or None."""
    env = os.environ.get("CHROMIUM")
    if env:
        return env if (os.path.isfile(env) and os.access(env, os.X_OK)) else shutil.which(env)
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


def run_group(argv, timeout):
    """Run argv in its own process group, time-boxed; on timeout kill the whole group.

    Returns (returncode or None on timeout, stdout bytes, stderr text, seconds)."""
    start = time.monotonic()
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True)
    except OSError as e:
        return -1, b"", "cannot start %s: %s" % (argv[0], e), 0.0
    try:
        out, err = proc.communicate(timeout=timeout)
        rc = proc.returncode
    except subprocess.TimeoutExpired:
        rc = None
    # Chromium forks zygote/renderer/GPU helpers into the same (new) process group; kill any
    # that are left (all of them on timeout) so none outlive the run or hold the pipes open.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if rc is None:
        out, err = proc.communicate()
    return rc, out, err.decode("utf-8", "replace"), time.monotonic() - start


_VERSION_CACHE = {}


def chromium_major(binary, timeout=TIMEOUT):
    """Chromium's major version (0 if unknown)."""
    if binary not in _VERSION_CACHE:
        rc, out, _err, _secs = run_group([binary, "--version"], min(15, timeout))
        m = re.search(r"(\d+)\.\d+\.\d+", out.decode("utf-8", "replace")) if rc == 0 else None
        _VERSION_CACHE[binary] = int(m.group(1)) if m else 0
    return _VERSION_CACHE[binary]


def headless_flag(binary, timeout=TIMEOUT):
    # --headless=new appeared in Chromium 109 (and is the only headless mode from 132 on);
    # older versions have only the old mode, spelled --headless.
    return "--headless=new" if chromium_major(binary, timeout) >= 109 else "--headless"


def chromium_argv(binary, profile_dir, timeout=TIMEOUT):
    return [
        binary, headless_flag(binary, timeout),
        "--no-sandbox",                      # root cannot use the setuid/namespace sandbox
        "--disable-gpu", "--disable-dev-shm-usage",
        "--user-data-dir=" + profile_dir,
        "--no-first-run", "--no-default-browser-check", "--disable-extensions",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-default-apps", "--disable-breakpad", "--metrics-recording-only",
        "--mute-audio", "--hide-scrollbars", "--force-device-scale-factor=1",
        "--password-store=basic",
        # No network: no host name resolves, and anything else (IP literals) goes to a proxy
        # on the discard port that refuses the connection. file:// is unaffected.
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
    ]


def run_chromium(binary, extra, url, timeout=TIMEOUT):
    """Run one headless Chromium with a throw-away profile.

    Returns (returncode or None on timeout, stdout bytes, stderr text, seconds)."""
    profile = tempfile.mkdtemp(prefix="report-render-profile-")
    try:
        return run_group(chromium_argv(binary, profile, timeout) + list(extra) + [url], timeout)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def stderr_tail(err, lines=6):
    useful = [l for l in err.splitlines() if l.strip() and not NOISE.search(l)]
    return " | ".join(useful[-lines:]) if useful else "(stderr had only routine noise)"


# ---------------------------------------------------------------------------- PNG

class PngError(Exception):
    pass


def decode_png(data):
    """Decode an 8-bit RGB or RGBA, non-interlaced PNG.

    Returns (width, height, channels, pixels) with pixels a bytes object of height rows of
    width * channels bytes, top row first."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise PngError("not a PNG (bad signature)")
    pos, ihdr, idat = 8, None, []
    while pos + 8 <= len(data):
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if len(body) != length:
            raise PngError("truncated %s chunk" % ctype.decode("latin-1"))
        if zlib.crc32(ctype + body) != struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0]:
            raise PngError("bad CRC in %s chunk" % ctype.decode("latin-1"))
        if ctype == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif ctype == b"IDAT":
            idat.append(body)
        elif ctype == b"IEND":
            break
        pos += 12 + length
    if ihdr is None or not idat:
        raise PngError("missing IHDR or IDAT")
    width, height, depth, colour, _compression, _filter, interlace = ihdr
    if depth != 8 or colour not in (2, 6):
        raise PngError("unsupported PNG: bit depth %d, colour type %d (want 8-bit RGB/RGBA)"
                       % (depth, colour))
    if interlace != 0:
        raise PngError("unsupported PNG: interlaced")
    bpp = 3 if colour == 2 else 4
    stride = width * bpp
    raw = zlib.decompress(b"".join(idat))
    if len(raw) < height * (stride + 1):
        raise PngError("image data too short: %d < %d" % (len(raw), height * (stride + 1)))
    out = bytearray(height * stride)
    prev = bytes(stride)
    mask = (255).__and__
    for y in range(height):
        ftype = raw[y * (stride + 1)]
        line = raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)]
        if ftype == 0:                                   # None
            cur = bytearray(line)
        elif ftype == 1:                                 # Sub: per-channel prefix sums
            cur = bytearray(stride)
            for c in range(bpp):
                cur[c::bpp] = bytes(map(mask, itertools.accumulate(line[c::bpp])))
        elif ftype == 2:                                 # Up
            cur = bytearray(map(mask, map(operator.add, line, prev)))
        elif ftype == 3:                                 # Average
            cur = bytearray(line)
            for i in range(stride):
                left = cur[i - bpp] if i >= bpp else 0
                cur[i] = (cur[i] + ((left + prev[i]) >> 1)) & 255
        elif ftype == 4:                                 # Paeth
            cur = bytearray(line)
            for i in range(stride):
                b = prev[i]
                if i >= bpp:
                    a, c = cur[i - bpp], prev[i - bpp]
                else:
                    a = c = 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                if pa <= pb and pa <= pc:
                    pred = a
                elif pb <= pc:
                    pred = b
                else:
                    pred = c
                cur[i] = (cur[i] + pred) & 255
        else:
            raise PngError("bad filter type %d in row %d" % (ftype, y))
        out[y * stride:(y + 1) * stride] = cur
        prev = cur
    return width, height, bpp, bytes(out)


def _count(channel, predicate):
    """Bit mask (as an int, one bit per pixel) of the pixels whose channel value satisfies
    predicate; computed with bytes.translate so that it runs at C speed."""
    table = bytes(1 if predicate(v) else 0 for v in range(256))
    return int.from_bytes(channel.translate(table), "big")


def popcount(x):
    return bin(x).count("1")


def analyse_screenshot(data):
    """Return a dict describing the screenshot: size, background, ink fraction, dark pixels."""
    width, height, bpp, px = decode_png(data)
    r, g, b = px[0::bpp], px[1::bpp], px[2::bpp]
    if bpp == 4:
        a = px[3::bpp]
        if a.count(255) != len(a):                       # composite over white
            r, g, b = (bytes((v * al + 255 * (255 - al)) // 255 for v, al in zip(ch, a))
                       for ch in (r, g, b))
    n = width * height
    background, bg_count = collections.Counter(zip(r, g, b)).most_common(1)[0]
    ink = 0
    for ch, bgv in zip((r, g, b), background):
        ink |= _count(ch, lambda v, bgv=bgv: abs(v - bgv) > INK_DELTA)
    dark = -1
    for ch in (r, g, b):
        dark &= _count(ch, lambda v: v < DARK_LEVEL)
    red = (_count(r, lambda v: v >= 140) & _count(g, lambda v: v < 70)
           & _count(b, lambda v: v < 70))
    return {
        "width": width, "height": height, "channels": bpp, "pixels": n,
        "background": background, "background_fraction": bg_count / n,
        "ink_fraction": popcount(ink) / n, "dark_pixels": popcount(dark),
        "red_pixels": popcount(red),
    }


# ---------------------------------------------------------------------------- DOM

class _TextExtractor(html.parser.HTMLParser):
    """Collects the text a reader sees: everything outside <head>, <style>, <script>, etc."""
    HIDDEN = {"head", "style", "script", "title", "template", "noscript"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.parts = []

    def handle_starttag(self, tag, attrs):
        if tag in self.HIDDEN:
            self.depth += 1
        elif tag in ("br", "p", "div", "tr", "td", "th", "li", "h1", "h2", "h3", "table"):
            self.parts.append(" ")

    def handle_endtag(self, tag):
        if tag in self.HIDDEN and self.depth:
            self.depth -= 1
        elif tag in ("p", "div", "tr", "td", "th", "li", "h1", "h2", "h3", "table"):
            self.parts.append(" ")

    def handle_data(self, data):
        if not self.depth:
            self.parts.append(data)


def visible_text(dom):
    parser = _TextExtractor()
    parser.feed(dom)
    parser.close()
    return " ".join("".join(parser.parts).replace("\xa0", " ").split())


EXTERNAL = re.compile(
    r"""(?:\bsrc\s*=\s*["']?\s*(?:https?:)?//"""        # <img src="http://..."> etc.
    r"""|<link\b[^>]*\bhref\s*=\s*["']?\s*(?:https?:)?//"""
    r"""|url\(\s*["']?\s*(?:https?:)?//"""
    r"""|@import)""", re.I)


def amount_present(text, amount):
    pattern = r"(?<![\d,.])" + re.escape(amount) + r"(?![\d])"
    return re.search(pattern, text) is not None


# ---------------------------------------------------------------------------- checks

def run_checks(html_path, loan_id, amounts, screenshot_out=None, timeout=TIMEOUT):
    """All checks as a list of (ok, message)."""
    results = []
    html_path = os.path.abspath(html_path)
    if not os.path.isfile(html_path):
        return [(False, "report not found: %s" % html_path)]
    binary = find_chromium()
    if binary is None:
        return [(False, "chromium not found (looked for %s on PATH; set $CHROMIUM to override); "
                        "cannot render %s" % (", ".join(CANDIDATES), html_path))]
    url = "file://" + urllib.parse.quote(html_path)
    with open(html_path, "rb") as f:
        source = f.read().decode("utf-8", "replace")

    # 1. screenshot
    with tempfile.TemporaryDirectory(prefix="report-render-") as tmp:
        png_path = os.path.join(tmp, "case.png")
        rc, _out, err, secs = run_chromium(
            binary, ["--screenshot=" + png_path, "--window-size=%d,%d" % WINDOW], url, timeout)
        if rc is None:
            results.append((False, "screenshot: chromium did not finish within %.0f s (killed)"
                                   % timeout))
        elif not os.path.isfile(png_path) or os.path.getsize(png_path) == 0:
            results.append((False, "screenshot: chromium exited %s without writing a PNG: %s"
                                   % (rc, stderr_tail(err))))
        else:
            with open(png_path, "rb") as f:
                data = f.read()
            if screenshot_out:
                shutil.copyfile(png_path, screenshot_out)
            try:
                s = analyse_screenshot(data)
            except (PngError, zlib.error, struct.error) as e:
                results.append((False, "screenshot: cannot decode PNG: %s" % e))
            else:
                desc = ("%dx%d, background #%02x%02x%02x, %.1f%% of pixels differ from it, "
                        "%d dark pixels, %d red pixels; chromium took %.2f s (exit %s)"
                        % (s["width"], s["height"], *s["background"], 100 * s["ink_fraction"],
                           s["dark_pixels"], s["red_pixels"], secs, rc))
                if s["ink_fraction"] < MIN_INK_FRACTION:
                    results.append((False, "screenshot looks blank: only %.2f%% of pixels differ "
                                           "from the background (need %.0f%%); %s"
                                    % (100 * s["ink_fraction"], 100 * MIN_INK_FRACTION, desc)))
                elif s["dark_pixels"] < MIN_DARK_PIXELS:
                    results.append((False, "screenshot has no dark text: %d dark pixels (need "
                                           "%d); %s" % (s["dark_pixels"], MIN_DARK_PIXELS, desc)))
                else:
                    results.append((True, "screenshot not blank: " + desc))

    # 2. DOM
    rc, out, err, secs = run_chromium(binary, ["--dump-dom"], url, timeout)
    dom = out.decode("utf-8", "replace")
    if rc is None:
        results.append((False, "dump-dom: chromium did not finish within %.0f s (killed)"
                               % timeout))
        return results
    if "<html" not in dom.lower():
        results.append((False, "dump-dom: chromium exited %s without a DOM: %s"
                               % (rc, stderr_tail(err))))
        return results
    results.append((True, "dump-dom: %d characters; chromium took %.2f s (exit %s)"
                          % (len(dom), secs, rc)))
    text = visible_text(dom)
    results.append((loan_id in text,
                    "loan id %s %s the page text" % (loan_id, "in" if loan_id in text
                                                     else "missing from")))
    missing = [a for a in amounts if not amount_present(text, a)]
    if amounts:
        if missing:
            results.append((False, "amounts missing from the page text: %s (of %s)"
                                   % (", ".join(missing), ", ".join(amounts))))
        else:
            results.append((True, "amounts in the page text: %s" % ", ".join(amounts)))
    notice = "not evidence" in text.lower()
    results.append((notice, "the words \"not evidence\" %s the page text"
                            % ("in" if notice else "missing from")))
    scripts = [name for name, body in (("the file", source), ("the DOM", dom))
               if "<script" in body.lower()]
    results.append((not scripts, "\"<script\" found in %s" % " and ".join(scripts) if scripts
                    else "no \"<script\" in the file or the DOM"))
    external = sorted({m.group(0) for m in EXTERNAL.finditer(source + dom)})
    results.append((not external, "external resources referenced: %s" % ", ".join(external)
                    if external else "no external resources referenced"))
    return results


def check_report(html_path, loan_id, amounts, screenshot_out=None, timeout=TIMEOUT):
    """Render html_path in headless Chromium; return a list of problems (empty = good)."""
    return [msg for ok, msg in run_checks(html_path, loan_id, amounts, screenshot_out, timeout)
            if not ok]


# ---------------------------------------------------------------------------- CLI

def safe_extract(zf, dest):
    root = os.path.realpath(dest)
    for name in zf.namelist():
        target = os.path.realpath(os.path.join(dest, name))
        if target != root and not target.startswith(root + os.sep):
            raise ValueError("unsafe path in bundle: %r" % name)
    zf.extractall(dest)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--bundle", help="evidence bundle (.zip); checks its report/case.html")
    src.add_argument("--html", help="an HTML file to check directly")
    ap.add_argument("--loan", required=True, help="loan id the page must show")
    ap.add_argument("--amount", action="append", default=[],
                    help="an amount the page must show, e.g. 40,000.00 (repeatable)")
    ap.add_argument("--screenshot", help="also save the screenshot PNG here")
    ap.add_argument("--timeout", type=float, default=TIMEOUT,
                    help="seconds per Chromium run (default %(default)s)")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="report-render-bundle-") as tmp:
        if args.bundle:
            try:
                with zipfile.ZipFile(args.bundle) as zf:
                    safe_extract(zf, tmp)
            except (OSError, zipfile.BadZipFile, ValueError) as e:
                print("FAIL: cannot unzip %s: %s" % (args.bundle, e))
                return 1
            html_path = os.path.join(tmp, "report", "case.html")
            if not os.path.isfile(html_path):
                print("FAIL: %s has no report/case.html" % args.bundle)
                return 1
        else:
            html_path = args.html
        results = run_checks(html_path, args.loan, args.amount,
                             screenshot_out=args.screenshot, timeout=args.timeout)
    for ok, msg in results:
        print(("ok: " if ok else "FAIL: ") + msg)
    failed = sum(1 for ok, _ in results if not ok)
    print("report render: %d check(s), %d failed" % (len(results), failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
