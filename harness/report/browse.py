# SPDX-License-Identifier: GPL-2.0-only
"""Open report pages in a real headless Chromium, as a person would.

  browse.py PAGE.html...

For each page, over the DevTools protocol (python3-websocket): load it at
a desktop (1280 px) and a narrow (400 px) width; fail on any console error,
uncaught exception or failed load, an image that did not load, a local
link to a file that does not exist, a page wider than the narrow window,
or a page with failures whose failure box is not the first thing under the
title.  Screenshots go beside the page: NAME-desktop.png, NAME-narrow.png.
Chromium is Debian's (`chromium`); CHROMIUM=path overrides it.
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

import websocket

WIDTHS = [("desktop", 1280, 900), ("narrow", 400, 800)]
TIMEOUT = 30


class Tab:
    def __init__(self, url):
        self.ws = websocket.create_connection(url, timeout=TIMEOUT)
        self.n = 0
        self.events = []

    def call(self, method, **params):
        self.n += 1
        mid = self.n
        self.ws.send(json.dumps({"id": mid, "method": method,
                                 "params": params}))
        end = time.time() + TIMEOUT
        while time.time() < end:
            m = json.loads(self.ws.recv())
            if m.get("id") == mid:
                if "error" in m:
                    raise RuntimeError("%s: %s" % (method, m["error"]))
                return m.get("result", {})
            if "method" in m:
                self.events.append(m)
        raise RuntimeError("%s: no answer in %ds" % (method, TIMEOUT))

    def wait(self, event):
        end = time.time() + TIMEOUT
        for i, m in enumerate(self.events):
            if m["method"] == event:
                del self.events[i]
                return m
        while time.time() < end:
            m = json.loads(self.ws.recv())
            if m.get("method") == event:
                return m
            if "method" in m:
                self.events.append(m)
        raise RuntimeError("no %s in %ds" % (event, TIMEOUT))

    def js(self, expr):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True,
                      awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError("%s: %s" % (expr, r["exceptionDetails"]))
        return r["result"].get("value")


def start_browser(profile):
    exe = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if not exe:
        sys.exit("browse: no chromium (Debian package chromium: make deps)")
    proc = subprocess.Popen(
        [exe, "--headless=new", "--no-sandbox", "--disable-gpu",
         "--no-first-run", "--no-default-browser-check",
         "--disable-extensions", "--hide-scrollbars",
         "--remote-debugging-address=127.0.0.1",
         "--remote-debugging-port=0", "--user-data-dir=" + profile,
         "about:blank"],
        stdout=subprocess.DEVNULL, stderr=open(os.path.join(profile, "..",
                                                            "chromium.log"),
                                               "w"))
    port_file = os.path.join(profile, "DevToolsActivePort")
    end = time.time() + TIMEOUT
    while time.time() < end:
        if proc.poll() is not None:
            sys.exit("browse: chromium exited %d" % proc.returncode)
        try:
            port = int(open(port_file).read().split()[0])
            break
        except (OSError, ValueError, IndexError):
            time.sleep(0.1)
    else:
        proc.kill()
        sys.exit("browse: chromium gave no DevTools port in %ds" % TIMEOUT)
    return proc, port


def page_target(port):
    end = time.time() + TIMEOUT
    while time.time() < end:
        with urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port,
                                    timeout=5) as r:
            for t in json.load(r):
                if t.get("type") == "page":
                    return t["webSocketDebuggerUrl"]
        time.sleep(0.1)
    raise RuntimeError("no page target")


PROBE = r"""(() => {
  const imgs = Array.from(document.images).map(i =>
    ({src: i.getAttribute('src'), ok: i.complete && i.naturalWidth > 0}));
  const links = Array.from(document.querySelectorAll('a[href]')).map(a =>
    a.href);
  const kids = Array.from(document.body.children).filter(e =>
    !['H1', 'P'].includes(e.tagName) || e.classList.contains('failures'));
  const box = document.querySelector('.failures');
  return {imgs, links,
          width: document.documentElement.scrollWidth,
          height: document.documentElement.scrollHeight,
          failures: !!box,
          first: kids.length ? kids[0].className : '',
          boxTop: box ? box.getBoundingClientRect().top : null};
})()"""


def check(tab, path):
    problems = []
    url = "file://" + urllib.parse.quote(os.path.abspath(path))
    base = os.path.splitext(path)[0]
    for label, w, h in WIDTHS:
        tab.events = []
        tab.call("Emulation.setDeviceMetricsOverride", width=w, height=h,
                 deviceScaleFactor=1, mobile=w < 600)
        tab.call("Page.navigate", url=url)
        tab.wait("Page.loadEventFired")
        p = tab.js(PROBE)
        # Console errors and failed loads arrive as events; let them land.
        tab.js("new Promise(r => setTimeout(r, 200))")
        for m in tab.events:
            prm = m.get("params", {})
            if m["method"] == "Runtime.exceptionThrown":
                problems.append("%s: exception %s" % (label, prm.get(
                    "exceptionDetails", {}).get("text")))
            elif (m["method"] == "Runtime.consoleAPICalled" and
                  prm.get("type") in ("error", "assert")):
                problems.append("%s: console.%s %s" % (label, prm["type"], [
                    a.get("value") for a in prm.get("args", [])]))
            elif (m["method"] == "Log.entryAdded" and
                  prm.get("entry", {}).get("level") == "error"):
                problems.append("%s: %s %s" % (label, prm["entry"].get(
                    "text"), prm["entry"].get("url", "")))
        for i in p["imgs"]:
            if not i["ok"]:
                problems.append("%s: image %s did not load" % (label,
                                                               i["src"]))
        if label == "desktop":
            for href in p["links"]:
                u = urllib.parse.urlparse(href)
                if u.scheme != "file":
                    problems.append("link %s is not local" % href)
                elif not os.path.exists(urllib.parse.unquote(u.path)):
                    problems.append("link %s: no such file" % href)
        if p["width"] > w + 1:
            problems.append("%s: page %d px wide in a %d px window" %
                            (label, p["width"], w))
        if p["failures"] and ("failures" not in p["first"] or
                              p["boxTop"] > h / 2):
            problems.append("%s: the failures are not the first thing seen "
                            "(first %r, at %s px)" % (label, p["first"],
                                                      p["boxTop"]))
        full = min(p["height"], 6000)
        tab.call("Emulation.setDeviceMetricsOverride", width=w, height=full,
                 deviceScaleFactor=1, mobile=w < 600)
        shot = tab.call("Page.captureScreenshot", format="png")
        with open("%s-%s.png" % (base, label), "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        print("browse: %s %s: %d images, %d links, %dx%d%s" % (
            path, label, len(p["imgs"]), len(p["links"]), w, p["height"],
            ", failures first" if p["failures"] else ""))
    return problems


def main(pages):
    if not pages:
        sys.exit(__doc__)
    tmp = tempfile.mkdtemp(prefix="tb-browse.")
    profile = os.path.join(tmp, "profile")
    os.mkdir(profile)
    proc, port = start_browser(profile)
    bad = 0
    try:
        tab = Tab(page_target(port))
        for d in ("Page", "Runtime", "Log"):
            tab.call(d + ".enable")
        for path in pages:
            for pr in check(tab, path):
                print("browse: FAIL %s: %s" % (path, pr))
                bad += 1
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
