#!/usr/bin/python3
"""Opens runs' HTML reports in headless Chromium, as a reader would.

    html-check.py <run dir>...                                   each directory's report.html
    html-check.py --newest <captures> [<scenario> [<variant>]]   the newest run of each variant
    html-check.py                                                --newest with the repository's captures/
    html-check.py --capture <page.html>...                       pages of socklab ladder --html

For each report: the page loads, its DOM has the ladder (an <svg> with one arrow per packet of
report.json) and the expectations table, the diagram is drawn at its own size (not scaled down to
unreadable), and a 1280x2000 screenshot has text on it in more than one colour (with
SOCKLAB_KEEP_SCREENSHOT=1 it is left as report.png next to report.html, to look at). With --newest
the screenshot, most of a page's time, is taken of one family's page a variant (the others are
drawn by the same code from the same kind of report; their DOMs are checked each).

One Chromium serves every page: it is driven over the DevTools protocol on a pipe
(--remote-debugging-pipe), since starting it takes longer than loading a report. Debian's python3
with Pillow (python3-pil) reads the screenshots.
"""
import base64
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

from runs import newest_runs

HERE = os.path.dirname(os.path.abspath(__file__))
WIDTH, HEIGHT = 1280, 2000


class Failure(Exception):
    pass


class Chromium:
    """A headless Chromium and one DevTools session at a time, over fds 3 (to it) and 4 (from it)."""

    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix="socklab-chromium-")
        to_child, self.to_chromium = os.pipe()
        self.from_chromium, from_child = os.pipe()

        def wire():  # in the child, before exec: the pipe ends become fds 3 and 4
            high_in, high_out = fcntl.fcntl(to_child, fcntl.F_DUPFD, 10), fcntl.fcntl(from_child, fcntl.F_DUPFD, 10)
            os.dup2(high_in, 3)
            os.dup2(high_out, 4)

        self.log = open(os.path.join(self.profile, "chromium.log"), "w+")
        self.process = subprocess.Popen(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--hide-scrollbars", "--remote-debugging-pipe", "--user-data-dir=" + self.profile, "about:blank"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log, preexec_fn=wire, pass_fds=(3, 4))
        os.close(to_child)
        os.close(from_child)
        self.buffer = b""
        self.next_id = 0
        self.events = []  # events read while waiting for a reply, for wait_event
        self.page = None  # the DevTools session of the one page, made at the first open()

    def close(self):
        os.close(self.to_chromium)
        os.close(self.from_chromium)
        self.process.kill()
        self.process.wait()
        shutil.rmtree(self.profile, ignore_errors=True)

    def _read_message(self):
        while b"\0" not in self.buffer:
            chunk = os.read(self.from_chromium, 1 << 20)
            if not chunk:
                self.log.seek(0)
                raise Failure("Chromium ended:\n" + self.log.read()[-2000:])
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method, session=None, **params):
        """Sends one command and returns its result; events that arrive meanwhile are kept."""
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self.to_chromium, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read_message()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise Failure("%s: %s" % (method, reply["error"].get("message")))
                return reply["result"]
            self.events.append(reply)

    def wait_event(self, name, session):
        while True:
            for event in self.events:
                if event.get("method") == name and event.get("sessionId") == session:
                    self.events.remove(event)
                    return event
            self.events.append(self._read_message())

    def open(self, url, screenshot=True):
        """Loads url in the one 1280x2000 page; returns the DOM after load and, if asked, a PNG of
        the page (the screenshot is most of a page's time)."""
        if self.page is None:
            target = self.call("Target.createTarget", url="about:blank")["targetId"]
            self.page = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
            self.call("Page.enable", self.page)
            self.call("Emulation.setDeviceMetricsOverride", self.page, width=WIDTH, height=HEIGHT,
                      deviceScaleFactor=1, mobile=False)
        navigated = self.call("Page.navigate", self.page, url=url)
        if "errorText" in navigated:
            raise Failure("Chromium could not load %s: %s" % (url, navigated["errorText"]))
        self.wait_event("Page.loadEventFired", self.page)
        dom = self.call("Runtime.evaluate", self.page, expression="document.documentElement.outerHTML",
                        returnByValue=True)["result"]["value"]
        if not screenshot:
            return dom, None
        return dom, base64.b64decode(self.call("Page.captureScreenshot", self.page, format="png")["data"])


def page_problem(dom, report):
    """What is missing from the page's DOM, or None."""
    if "<svg" not in dom or 'id="ladder"' not in dom:
        return 'the page has no ladder diagram (<svg id="ladder">)'
    if '<table id="expectations">' not in dom:
        return "the page has no expectations table"
    svg = dom[dom.index("<svg"):dom.index("</svg>")]
    arrows = svg.count('<g class="packet')
    packets, entries = len(report.get("packets", [])), len(report.get("timeline", []))
    if entries <= 400 and arrows != packets:
        return "the diagram has %d packet arrows, report.json %d packets" % (arrows, packets)
    width = int(re.search(r'<svg[^>]* width="(\d+)"', dom).group(1))
    if width > WIDTH - 40:
        return "the diagram is %d px wide: a %d px window would scale its text down" % (width, WIDTH)
    rows = dom.count('<span class="badge ')
    if rows != len(report.get("expectations", [])):
        return "the expectations table has %d verdicts, report.json %d expectations" % (
            rows, len(report["expectations"]))
    return None


def capture_page_problem(dom):
    """What is missing from a socklab ladder page's DOM, or None: its table of connections, and
    each diagram with as many arrows as its data-packets says and the inferred states' look."""
    if '<table id="connections">' not in dom:
        return "the page has no table of connections"
    svgs = re.findall(r'<svg[^>]*class="ladder"[^>]*>.*?</svg>', dom, re.S)
    if not svgs:
        return "the page has no ladder diagram"
    for svg in svgs:
        expected = int(re.search(r'data-packets="(\d+)"', svg).group(1))
        arrows = svg.count('<g class="packet')
        if arrows != min(expected, 400) and expected <= 400:
            return "a diagram has %d packet arrows, its connection %d packets" % (arrows, expected)
        if '<g class="state inferred">' not in svg or "inferred from the capture" not in svg:
            return "a diagram does not draw its states as inferred"
        width = int(re.search(r'<svg[^>]* width="(\d+)"', svg).group(1))
        if width > WIDTH - 40:
            return "a diagram is %d px wide: a %d px window would scale its text down" % (width, WIDTH)
    return None


def ink(png_path):
    """Sampled pixels that are not background, and how many colours there are."""
    from PIL import Image
    image = Image.open(png_path).convert("RGB")
    width, height = image.size
    rows = image.resize((width, height // 4), Image.NEAREST)  # every 4th row is plenty
    dark, colours = 0, set()
    for count, (r, g, b) in rows.getcolors(rows.width * rows.height):
        colours.add((r >> 4, g >> 4, b >> 4))
        if r + g + b < 600:
            dark += count
    return width, height, dark, len(colours)


def check_screenshot(html, png, chromium, keep_as):
    shot = os.path.join(chromium.profile, "report.png")
    with open(shot, "wb") as f:
        f.write(png)
    width, height, dark, colours = ink(shot)
    # A page that failed to draw is blank or one colour; a legible one has text (dark pixels, well
    # over 0.5% of those sampled) in several colours (verdicts, arrows, states).
    if (width, height) != (WIDTH, HEIGHT):
        raise Failure("the screenshot of %s is %dx%d" % (html, width, height))
    if dark <= 3200:
        raise Failure("the screenshot of %s is nearly blank (%d dark pixels sampled)" % (html, dark))
    if colours <= 8:
        raise Failure("the screenshot of %s has only %d colours" % (html, colours))
    if os.environ.get("SOCKLAB_KEEP_SCREENSHOT") == "1":
        shutil.copy(shot, keep_as)
    return width, height, dark, colours


def check_capture_page(chromium, html):
    html = os.path.abspath(html)
    if not os.path.isfile(html):
        raise Failure("%s does not exist (socklab ladder CAPTURE --html %s writes it)" % (html, html))
    dom, png = chromium.open("file://" + html)
    problem = capture_page_problem(dom)
    if problem:
        raise Failure("%s: %s" % (html, problem))
    width, height, dark, colours = check_screenshot(html, png, chromium, html[:-5] + ".png")
    print("ok: %s loads in Chromium with its table and %d diagrams (%d packet arrows); screenshot %dx%d, "
          "%d dark pixels sampled, %d colours" % (html, dom.count('class="ladder"'), dom.count('<g class="packet'),
                                                  width, height, dark, colours))


def check_run(chromium, run, shot=None):
    """shot: the (scenario, variant)s already screenshotted, to take one a variant; None: every run."""
    run = os.path.abspath(run)
    html = os.path.join(run, "report.html")
    if not os.path.isfile(os.path.join(run, "report.json")):
        raise Failure("%s has no report.json: not a run directory" % run)
    if not os.path.isfile(html):
        raise Failure("%s has no report.html (socklab show %s writes it)" % (run, run))
    report = json.load(open(os.path.join(run, "report.json")))
    variant = (report.get("scenario"), report.get("variant"))
    screenshot = shot is None or variant not in shot
    if shot is not None:
        shot.add(variant)
    dom, png = chromium.open("file://" + html, screenshot)
    problem = page_problem(dom, report)
    if problem:
        raise Failure("%s: %s" % (html, problem))
    seen = "loads in Chromium with its diagram (%d packet arrows) and expectations" % dom.count('<g class="packet')
    if not screenshot:
        print("ok: %s %s" % (html, seen))
        return
    width, height, dark, colours = check_screenshot(html, png, chromium, os.path.join(run, "report.png"))
    print("ok: %s %s; screenshot %dx%d, %d dark pixels sampled, %d colours" % (html, seen, width, height, dark, colours))


def main(args):
    if not shutil.which("chromium"):
        raise Failure("chromium is not installed: apt-get install -y --no-install-recommends chromium")
    try:
        import PIL  # noqa: F401
    except ImportError:
        raise Failure("Pillow is needed to read the screenshots: apt-get install -y python3-pil")
    if args and args[0] == "--capture":
        if not args[1:]:
            raise Failure("--capture needs the pages of socklab ladder --html")
        chromium = Chromium()
        try:
            for page in args[1:]:
                check_capture_page(chromium, page)
        finally:
            chromium.close()
        return
    if not args or args[0] == "--newest":
        where = args[1:4] if args else [os.path.join(HERE, "..", "captures")]
        if not where:
            raise Failure("--newest needs the captures directory")
        if not os.path.isdir(where[0]):
            raise Failure("no captures directory %s (run socklab run first)" % where[0])
        runs = newest_runs(*where)
    else:
        runs = args
    if not runs:
        raise Failure("no runs to check (run socklab run first)")
    chromium = Chromium()
    # With --newest, one screenshot a variant: its families' pages are drawn alike, and their DOMs
    # are still checked each.
    shot = set() if not args or args[0] == "--newest" else None
    try:
        for run in runs:
            check_run(chromium, run, shot)
    finally:
        chromium.close()


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except Failure as e:
        print("FAIL: %s" % e, file=sys.stderr)
        sys.exit(1)
