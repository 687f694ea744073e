# SPDX-License-Identifier: GPL-2.0-only
"""Reports of a regress run in the formats CI systems and people read.

  report.py regress OUT NAME... [--backend B] [--seconds S]
      OUT/jobs/NAME/ (harness/report/job.sh's record of each scenario) ->
      OUT/junit.xml    a testsuite per scenario, a testcase per expectation
      OUT/regress.json every scenario's verdicts and metrics
      OUT/index.html   the table, failing expectations first; a page per
                       scenario in OUT/scenarios/NAME/ with its plots and logs
      and prints the totals, the last line "N passed, N failed, N skipped".
      Exit 1 when a scenario did not pass (or none ran).
  report.py runs OUT BACKEND RUN_DIR...
      OUT/junit.xml of bare run directories (make compare, make sweep): a
      testsuite per run, a testcase per expectation.
  report.py breakage TSV OUT
      harness/tests/breakage.sh's breakage.tsv -> OUT/junit.xml (a testsuite
      per scenario, a testcase per row: MISSED is a failure) and index.html.

Only the standard library: the files are checked elsewhere (test-report.sh
validates junit.xml against harness/report/junit.xsd and opens the pages in
a headless Chromium).
"""
import datetime
import html
import json
import os
import shutil
import socket
import sys
import xml.etree.ElementTree as ET

# The per-step metrics the table shows: (key, how the steps combine, label,
# format).
KEY_METRICS = [
    ("time_to_90_s", max, "t90 (s)", "%.2f"),
    ("rate_mean_mibs", min, "rate (MiB/s)", "%.0f"),
    ("cycles", sum, "cycles", "%d"),
    ("band_mib", max, "band (MiB)", "%.1f"),
    ("stall_mib", max, "stall (MiB)", "%.1f"),
    ("rss_returned", min, "rss returned", "%.2f"),
]
# What a run directory holds that the scenario's page shows or links.
RUN_IMAGES = ["convergence.png", "rate.png"]
RUN_FILES = ["console.log", "events.log", "curve.tsv", "metrics.tsv",
             "summary.json"]


def die(msg):
    sys.stderr.write("report: %s\n" % msg)
    sys.exit(2)


def read(path, default=""):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return default


def num(v):
    """A JSON number as text: integers without a fraction."""
    if v is None:
        return "-"
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return "%d" % v
    if isinstance(v, float):
        return "%.6g" % v
    return str(v)


def job(out, name):
    """One scenario's record: verdict, run directory, summary."""
    jd = os.path.join(out, "jobs", name)
    rc = read(os.path.join(jd, "rc"))
    run = read(os.path.join(jd, "run"))
    if run and not os.path.isabs(run):
        run = os.path.join(jd, run)
    summary = None
    if run:
        try:
            with open(os.path.join(run, "summary.json")) as f:
                summary = json.load(f)
        except (OSError, ValueError):
            summary = None
    log = read(os.path.join(jd, "harness.log"))
    reason = ""
    if rc == "":
        verdict, reason = "error", "lost: the job did not finish (host down?)"
    elif rc == "3":
        verdict = "skipped"
        reason = " ".join(l[len("harness: "):] for l in log.splitlines()
                          if l.startswith("harness: ")) or "skipped"
    elif summary is not None and summary.get("verdict") in ("pass", "fail"):
        verdict = summary["verdict"]
        if verdict == "pass" and rc != "0":
            verdict, reason = "error", "harness exit %s" % rc
    else:
        verdict = "error"
        # The harness's own words: its error, else its last lines.
        tail = [l for l in log.splitlines() if l.strip()][-3:]
        reason = (summary or {}).get("error") or "; ".join(
            ["harness exit %s" % rc] + tail)[:2000]
    steps = []
    for st in (summary or {}).get("steps", []):
        steps.append({"name": st.get("name"),
                      "metrics": st.get("metrics") or {}})
    keym = {}
    for key, comb, _, _ in KEY_METRICS:
        vals = [s["metrics"][key] for s in steps
                if isinstance(s["metrics"].get(key), (int, float))]
        keym[key] = comb(vals) if vals else None
    return {
        "name": name,
        "verdict": verdict,
        "reason": reason,
        "rc": int(rc) if rc.lstrip("-").isdigit() else None,
        "host": read(os.path.join(jd, "host")) or None,
        "seconds": float(read(os.path.join(jd, "seconds"), "0") or 0),
        "run_dir": run or None,
        "file": (summary or {}).get("file", "scenarios/%s.ini" % name),
        "duration_s": (summary or {}).get("duration_s"),
        "key_metrics": keym,
        "steps": steps,
        "expectations": (summary or {}).get("expectations", []),
        "log": os.path.join(jd, "harness.log"),
    }


def from_run(name, run):
    """A record like job()'s of a bare run directory (compare, sweep)."""
    try:
        with open(os.path.join(run, "summary.json")) as f:
            summ = json.load(f)
    except (OSError, ValueError) as e:
        summ = {"verdict": "error", "error": "no summary.json: %s" % e}
    v = summ.get("verdict")
    steps = [{"name": st.get("name"), "metrics": st.get("metrics") or {}}
             for st in summ.get("steps", [])]
    return {"name": name, "verdict": v if v in ("pass", "fail") else "error",
            "reason": summ.get("error") or "", "rc": None, "host": None,
            "seconds": float(summ.get("duration_s") or 0), "run_dir": run,
            "file": summ.get("file", "?"),
            "duration_s": summ.get("duration_s"), "key_metrics": {},
            "steps": steps, "expectations": summ.get("expectations", []),
            "log": os.path.join(run, "events.log")}


def fail_text(e):
    return ("measured %s, wanted %s, tolerance %s at %s: %s"
            % (num(e.get("measured")), num(e.get("want")),
               num(e.get("tolerance")), e.get("where", "?"),
               e.get("detail", "")))


def case_name(e):
    return "%s %s (%s)" % (e.get("step", "global"), e.get("key", "?"),
                           e.get("where", "?"))


def rel(path, start):
    return os.path.relpath(path, start) if path else path


def junit_regress(out, jobs, backend, stamp):
    root = ET.Element("testsuites", name="regress " + backend)
    host = socket.gethostname()
    tot = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    total_time = 0.0
    for i, j in enumerate(jobs):
        cases = []
        for e in j["expectations"]:
            c = ET.Element("testcase", name=case_name(e),
                           classname="regress.%s" % j["name"], time="0")
            v = e.get("verdict")
            if v == "fail":
                f = ET.SubElement(c, "failure", type=e.get("key", "fail"),
                                  message=fail_text(e))
                f.text = fail_text(e)
                so = ET.SubElement(c, "system-out")
                so.text = "".join("[[ATTACHMENT|%s]]\n" % p for p in
                                  page_files(out, j, RUN_IMAGES))
            elif v != "pass":
                ET.SubElement(c, "skipped", message=e.get("detail") or
                              "%s (%s)" % (v, e.get("where", "")))
            cases.append(c)
        if j["verdict"] in ("skipped", "error") or not cases:
            c = ET.Element("testcase", name="%s run" % j["name"],
                           classname="regress.%s" % j["name"],
                           time="%.3f" % j["seconds"])
            if j["verdict"] == "skipped":
                ET.SubElement(c, "skipped", message=j["reason"])
            elif j["verdict"] == "error":
                er = ET.SubElement(c, "error", type="run",
                                   message=j["reason"] or "error")
                er.text = j["reason"]
            cases.insert(0, c)
        n_f = sum(1 for c in cases if c.find("failure") is not None)
        n_e = sum(1 for c in cases if c.find("error") is not None)
        n_s = sum(1 for c in cases if c.find("skipped") is not None)
        t = j["seconds"]
        s = ET.SubElement(root, "testsuite", name=j["name"],
                          tests=str(len(cases)), failures=str(n_f),
                          errors=str(n_e), skipped=str(n_s),
                          time="%.3f" % t, timestamp=stamp,
                          hostname=j["host"] or host, id=str(i),
                          package="regress")
        props = ET.SubElement(s, "properties")
        for k, v in [("verdict", j["verdict"]), ("backend", backend),
                     ("file", j["file"])]:
            ET.SubElement(props, "property", name=k, value=str(v))
        for st in j["steps"]:
            for k in sorted(st["metrics"]):
                v = st["metrics"][k]
                if v is not None:
                    ET.SubElement(props, "property",
                                  name="%s.%s" % (st["name"], k),
                                  value=num(v))
        for c in cases:
            s.append(c)
        so = ET.SubElement(s, "system-out")
        lines = ["harness log: %s" % j["log"]]
        if j["run_dir"]:
            lines.append("run directory: %s" % j["run_dir"])
        for f in RUN_FILES + RUN_IMAGES:
            p = os.path.join(j["run_dir"] or "", f)
            if j["run_dir"] and os.path.exists(p):
                lines.append("%s: %s" % (f, p))
        pg = os.path.join(out, "scenarios", j["name"], "index.html")
        if os.path.exists(pg) or os.path.isdir(os.path.join(out, "jobs")):
            lines.append("report page: %s" % pg)
        if j["reason"]:
            lines.append(j["reason"])
        so.text = "\n".join(lines) + "\n"
        ET.SubElement(s, "system-err").text = ""
        for k, key in [("tests", "tests"), ("failures", "failures"),
                       ("errors", "errors"), ("skipped", "skipped")]:
            tot[k] += int(s.get(key))
        total_time += t
    for k, v in tot.items():
        root.set(k, str(v))
    root.set("time", "%.3f" % total_time)
    ET.indent(root)
    ET.ElementTree(root).write(os.path.join(out, "junit.xml"),
                               encoding="UTF-8", xml_declaration=True)


def page_files(out, j, names):
    """The copies on the scenario's page of a run's files that exist."""
    d = os.path.join(out, "scenarios", j["name"])
    return [os.path.join(d, n) for n in names
            if os.path.exists(os.path.join(d, n))]


def copy_run(out, j):
    """The run's plots and logs beside its page (a self-contained report)."""
    d = os.path.join(out, "scenarios", j["name"])
    os.makedirs(d, exist_ok=True)
    srcs = [(os.path.join(j["run_dir"], f), f)
            for f in RUN_IMAGES + RUN_FILES] if j["run_dir"] else []
    srcs.append((j["log"], "harness.log"))
    for src, f in srcs:
        dst = os.path.join(d, f)
        if not os.path.isfile(src):
            continue
        if os.path.exists(dst):
            os.unlink(dst)
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)


CSS = """
body{font:15px/1.4 system-ui,sans-serif;margin:1em auto;max-width:1200px;
padding:0 1em;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.4em}
table{border-collapse:collapse;margin:.5em 0;width:100%}
.wrap{overflow-x:auto}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;
vertical-align:top}
th{background:#f2f2f2}td.n{text-align:right;font-variant-numeric:tabular-nums}
.pass{color:#060}.fail,.error{color:#b00;font-weight:bold}
.skipped{color:#777}
.failures{border:3px solid #b00;background:#fff0f0;padding:.3em 1em;
margin:1em 0}
.failures h2{color:#b00;margin-top:.3em}
.ok{border:2px solid #060;background:#f0fff0;padding:.3em 1em}
img{max-width:100%;height:auto;border:1px solid #ddd}
img.thumb{width:160px}
.plots{display:flex;flex-wrap:wrap;gap:1em}
.plots figure{margin:0;flex:1 1 480px}
code{font-size:.92em}
@media (max-width:700px){.failures table,.failures tbody,.failures tr,
.failures td{display:block;border:0}.failures tr:first-child{display:none}
.failures tr{border-top:1px solid #e99;padding:.3em 0}
.failures td{padding:.05em 0;text-align:left}
.failures td::before{content:attr(data-label) ": ";color:#666}}
"""


def page(title, body):
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, "
            "initial-scale=1\"><title>%s</title><style>%s</style></head>"
            "<body>\n%s\n</body></html>\n"
            % (html.escape(title), CSS, body))


def esc(v):
    return html.escape(str(v))


def failures_box(rows, prefix):
    """rows: (scenario, expectation); links to the scenario pages."""
    if not rows:
        return ""
    out = ["<section class=\"failures\" id=\"failures\"><h2>%d failing "
           "expectation%s</h2><div class=\"wrap\"><table><tr><th>scenario</th>"
           "<th>step</th><th>expectation</th><th>measured</th><th>wanted</th>"
           "<th>tolerance</th><th>where</th><th>detail</th></tr>"
           % (len(rows), "" if len(rows) == 1 else "s")]
    for name, e in rows:
        if e is None:
            continue
        out.append("<tr><td data-label=scenario><a href=\"%s\">%s</a></td>"
                   "<td data-label=step>%s</td><td data-label=expectation>%s"
                   "</td><td class=n data-label=measured>%s</td>"
                   "<td class=n data-label=wanted>%s</td>"
                   "<td class=n data-label=tolerance>%s</td>"
                   "<td data-label=where><code>%s</code></td>"
                   "<td data-label=detail>%s</td></tr>" % (esc(prefix % name), esc(name),
                              esc(e.get("step", "")), esc(e.get("key", "")),
                              esc(num(e.get("measured"))),
                              esc(num(e.get("want"))),
                              esc(num(e.get("tolerance"))),
                              esc(e.get("where", "")),
                              esc(e.get("detail", ""))))
    out.append("</table></div></section>")
    return "".join(out)


def fmt(key, v):
    for k, _, _, f in KEY_METRICS:
        if k == key and v is not None:
            return f % v
    return "-" if v is None else num(v)


def html_regress(out, jobs, backend, run_id, totals):
    fails = [(j["name"], e) for j in jobs for e in j["expectations"]
             if e.get("verdict") == "fail"]
    errors = [j for j in jobs if j["verdict"] == "error"]
    body = ["<h1>regress %s &mdash; %s</h1>" % (esc(run_id), esc(backend)),
            "<p>%d passed, %d failed, %d skipped &middot; "
            "<a href=\"junit.xml\">junit.xml</a> &middot; "
            "<a href=\"regress.json\">regress.json</a></p>" % totals]
    body.append(failures_box(fails, "scenarios/%s/index.html"))
    if errors:
        body.append("<section class=\"failures\"><h2>%d scenario%s did not "
                    "run to a verdict</h2><ul>" %
                    (len(errors), "" if len(errors) == 1 else "s"))
        for j in errors:
            body.append("<li><a href=\"scenarios/%s/index.html\">%s</a>: %s"
                        "</li>" % (esc(j["name"]), esc(j["name"]),
                                   esc(j["reason"])))
        body.append("</ul></section>")
    if not fails and not errors:
        body.append("<p class=\"ok\">Every expectation held.</p>")
    body.append("<h2>Scenarios</h2><div class=\"wrap\"><table><tr>"
                "<th>scenario</th><th>verdict</th><th>expectations</th>" +
                "".join("<th>%s</th>" % esc(l) for _, _, l, _ in KEY_METRICS)
                + "<th>time (s)</th><th>convergence</th></tr>")
    for j in jobs:
        ex = j["expectations"]
        npass = sum(1 for e in ex if e.get("verdict") == "pass")
        nfail = sum(1 for e in ex if e.get("verdict") == "fail")
        thumb = ""
        if os.path.exists(os.path.join(out, "scenarios", j["name"],
                                       "convergence.png")):
            thumb = ("<a href=\"scenarios/%s/index.html\"><img class=thumb "
                     "src=\"scenarios/%s/convergence.png\" alt=\"%s "
                     "convergence\"></a>" % ((esc(j["name"]),) * 3))
        body.append(
            "<tr><td><a href=\"scenarios/%s/index.html\">%s</a></td>"
            "<td class=\"%s\">%s</td><td class=n>%s</td>%s"
            "<td class=n>%.1f</td><td>%s</td></tr>"
            % (esc(j["name"]), esc(j["name"]), esc(j["verdict"]),
               esc(j["verdict"]),
               "%d/%d" % (npass, len(ex)) + (" (%d failed)" % nfail
                                             if nfail else ""),
               "".join("<td class=n>%s</td>" % esc(fmt(k, j["key_metrics"][k]))
                       for k, _, _, _ in KEY_METRICS),
               j["duration_s"] or j["seconds"], thumb))
    body.append("</table></div><p>Metrics over a scenario's steps: t90 and "
                "band and stall the largest, rate and rss returned the "
                "smallest, cycles the sum.</p>")
    with open(os.path.join(out, "index.html"), "w") as f:
        f.write(page("regress %s" % run_id, "\n".join(body)))
    for j in jobs:
        scenario_page(out, j, backend, run_id)


def scenario_page(out, j, backend, run_id):
    d = os.path.join(out, "scenarios", j["name"])
    os.makedirs(d, exist_ok=True)
    fails = [(j["name"], e) for e in j["expectations"]
             if e.get("verdict") == "fail"]
    body = ["<p><a href=\"../../index.html\">&larr; regress %s</a></p>"
            % esc(run_id),
            "<h1>%s &mdash; <span class=\"%s\">%s</span></h1>"
            % (esc(j["name"]), esc(j["verdict"]), esc(j["verdict"]))]
    body.append(failures_box(fails, "%.0s#expectations"))
    if j["reason"]:
        cls = "failures" if j["verdict"] == "error" else "skipped"
        body.append("<p class=\"%s\">%s</p>" % (cls, esc(j["reason"])))
    body.append("<p><code>%s</code> on %s (host %s), %.1f s</p>"
                % (esc(j["file"]), esc(backend), esc(j["host"] or "?"),
                   j["duration_s"] or j["seconds"]))
    links = [f for f in RUN_FILES + ["harness.log"]
             if os.path.exists(os.path.join(d, f))]
    body.append("<p>" + " &middot; ".join(
        "<a href=\"%s\">%s</a>" % (esc(f), esc(f)) for f in links) + "</p>")
    imgs = [f for f in RUN_IMAGES if os.path.exists(os.path.join(d, f))]
    if imgs:
        body.append("<div class=\"plots\">" + "".join(
            "<figure><a href=\"%s\"><img src=\"%s\" alt=\"%s\"></a>"
            "<figcaption>%s</figcaption></figure>" % ((esc(f),) * 4)
            for f in imgs) + "</div>")
    if j["expectations"]:
        body.append("<h2 id=\"expectations\">Expectations</h2><div "
                    "class=\"wrap\"><table><tr><th>verdict</th><th>step</th>"
                    "<th>expectation</th><th>measured</th><th>wanted</th>"
                    "<th>tolerance</th><th>where</th><th>detail</th></tr>")
        order = sorted(j["expectations"],
                       key=lambda e: e.get("verdict") != "fail")
        for e in order:
            v = e.get("verdict", "")
            body.append("<tr><td class=\"%s\">%s</td><td>%s</td><td>%s</td>"
                        "<td class=n>%s</td><td class=n>%s</td>"
                        "<td class=n>%s</td><td><code>%s</code></td>"
                        "<td>%s</td></tr>"
                        % (esc("skipped" if v not in ("pass", "fail") else v),
                           esc(v), esc(e.get("step", "")),
                           esc(e.get("key", "")), esc(num(e.get("measured"))),
                           esc(num(e.get("want"))),
                           esc(num(e.get("tolerance"))),
                           esc(e.get("where", "")), esc(e.get("detail", ""))))
        body.append("</table></div>")
    steps = [s for s in j["steps"]
             if any(v is not None for v in s["metrics"].values())]
    if steps:
        keys = sorted({k for s in steps for k in s["metrics"]})
        body.append("<h2>Step metrics</h2><div class=\"wrap\"><table><tr>"
                    "<th>step</th>" + "".join("<th>%s</th>" % esc(k)
                                              for k in keys) + "</tr>")
        for s in steps:
            body.append("<tr><td>%s</td>%s</tr>" % (esc(s["name"]), "".join(
                "<td class=n>%s</td>" % esc(num(s["metrics"].get(k)))
                for k in keys)))
        body.append("</table></div>")
    with open(os.path.join(d, "index.html"), "w") as f:
        f.write(page("%s %s" % (j["name"], j["verdict"]), "\n".join(body)))


def regress(argv):
    import argparse
    ap = argparse.ArgumentParser(prog="report.py regress")
    ap.add_argument("out")
    ap.add_argument("names", nargs="*")
    ap.add_argument("--backend", default="emu")
    ap.add_argument("--seconds", type=float, default=0)
    ap.add_argument("--hosts", default="")
    a = ap.parse_args(argv)
    if not os.path.isdir(a.out):
        die("%s: no such directory" % a.out)
    run_id = os.path.basename(os.path.normpath(a.out))
    stamp = datetime.datetime.now().strftime("%Y-%m-%dT%H:%M:%S")
    jobs = [job(a.out, n) for n in a.names]
    for j in jobs:
        copy_run(a.out, j)
    p = sum(1 for j in jobs if j["verdict"] == "pass")
    s = sum(1 for j in jobs if j["verdict"] == "skipped")
    f = len(jobs) - p - s
    junit_regress(a.out, jobs, a.backend, stamp)
    doc = {"run_id": run_id, "backend": a.backend, "timestamp": stamp,
           "seconds": a.seconds, "hosts": a.hosts or None,
           "passed": p, "failed": f, "skipped": s, "scenarios": jobs}
    with open(os.path.join(a.out, "regress.json"), "w") as fh:
        json.dump(doc, fh, indent=2, sort_keys=True)
        fh.write("\n")
    html_regress(a.out, jobs, a.backend, run_id, (p, f, s))
    for j in jobs:
        if j["verdict"] == "error" and j["rc"] is None:
            print("%-20s %s" % (j["name"], j["reason"]))
    print("regress: %d/%d scenarios passed%s in %ds (report %s)"
          % (p, len(jobs) - s, " (%d skipped: not for backend %s)"
             % (s, a.backend) if s else "", a.seconds,
             os.path.join(a.out, "index.html")))
    print("%d passed, %d failed, %d skipped" % (p, f, s))
    return 0 if jobs and f == 0 and p + s > 0 else 1


def breakage(argv):
    if len(argv) != 2:
        die("usage: report.py breakage TSV OUT")
    tsv, out = argv
    rows = []
    with open(tsv) as fh:
        head = fh.readline().rstrip("\n").split("\t")
        for n, line in enumerate(fh, 2):
            cols = line.rstrip("\n").split("\t")
            if len(cols) != len(head):
                die("%s:%d: %d columns, want %d" % (tsv, n, len(cols),
                                                   len(head)))
            rows.append(dict(zip(head, cols)))
    stamp = datetime.datetime.now().strftime("%Y-%m-%dT%H:%M:%S")
    root = ET.Element("testsuites", name="breakage")
    by = {}
    for r in rows:
        by.setdefault(r["scenario"], []).append(r)
    tot = {"tests": 0, "failures": 0, "skipped": 0}
    for i, (name, rs) in enumerate(by.items()):
        s = ET.SubElement(root, "testsuite", name=name, tests=str(len(rs)),
                          failures=str(sum(r["result"] == "MISSED"
                                           for r in rs)),
                          errors="0",
                          skipped=str(sum(r["result"] in ("skipped", "none")
                                          for r in rs)),
                          time="0", timestamp=stamp,
                          hostname=socket.gethostname(), id=str(i),
                          package="breakage")
        ET.SubElement(s, "properties")
        for r in rs:
            c = ET.SubElement(s, "testcase", classname="breakage.%s" % name,
                              name="%s %s (scenarios/%s.ini:%s) under %s"
                              % (r["step"], r["expectation"], name,
                                 r["line"], r["breakage"]), time="0")
            if r["result"] == "MISSED":
                msg = ("breakage %s left the expectation %s (verdict %s) at "
                       "scenarios/%s.ini:%s" % (r["breakage"],
                                                r["expectation"],
                                                r["verdict"], name,
                                                r["line"]))
                ET.SubElement(c, "failure", type="missed",
                              message=msg).text = msg
            elif r["result"] in ("skipped", "none"):
                ET.SubElement(c, "skipped", message=r["breakage"])
        ET.SubElement(s, "system-out").text = "table: %s\n" % tsv
        ET.SubElement(s, "system-err").text = ""
        for k in tot:
            tot[k] += int(s.get(k))
    for k, v in tot.items():
        root.set(k, str(v))
    root.set("errors", "0")
    root.set("time", "0")
    ET.indent(root)
    os.makedirs(out, exist_ok=True)
    ET.ElementTree(root).write(os.path.join(out, "junit.xml"),
                               encoding="UTF-8", xml_declaration=True)
    missed = [r for r in rows if r["result"] == "MISSED"]
    body = ["<h1>breakage %s</h1>" % esc(os.path.basename(out)),
            "<p>%d rows: %d caught, %d missed &middot; <a href=\"junit.xml\">"
            "junit.xml</a> &middot; <a href=\"%s\">breakage.tsv</a></p>"
            % (len(rows), sum(r["result"] == "caught" for r in rows),
               len(missed), esc(rel(tsv, out)))]
    if missed:
        body.append("<section class=\"failures\"><h2>%d expectation%s a "
                    "breakage did not fail</h2><ul>%s</ul></section>"
                    % (len(missed), "" if len(missed) == 1 else "s",
                       "".join("<li>%s [%s] %s (line %s) under <code>%s"
                               "</code>: %s</li>"
                               % tuple(esc(r[k]) for k in
                                       ("scenario", "step", "expectation",
                                        "line", "breakage", "verdict"))
                               for r in missed)))
    body.append("<div class=\"wrap\"><table><tr>%s</tr>" %
                "".join("<th>%s</th>" % esc(h) for h in head))
    for r in sorted(rows, key=lambda r: r["result"] != "MISSED"):
        body.append("<tr>%s</tr>" % "".join(
            "<td class=\"%s\">%s</td>" % (
                "fail" if r["result"] == "MISSED" and h == "result" else "",
                esc(r[h])) for h in head))
    body.append("</table></div>")
    with open(os.path.join(out, "index.html"), "w") as fh:
        fh.write(page("breakage", "\n".join(body)))
    return 0


def runs(argv):
    """junit.xml in OUT of the run directories of a compare or sweep."""
    if len(argv) < 3:
        die("usage: report.py runs OUT BACKEND RUN_DIR...")
    out, backend, dirs = argv[0], argv[1], argv[2:]
    os.makedirs(out, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y-%m-%dT%H:%M:%S")
    junit_regress(out, [from_run(os.path.basename(os.path.normpath(d)), d)
                        for d in dirs], backend, stamp)
    return 0


def main(argv):
    cmds = {"regress": regress, "breakage": breakage, "runs": runs}
    if len(argv) < 2 or argv[1] not in cmds:
        die("usage: report.py regress OUT NAME... | breakage TSV OUT | "
            "runs OUT BACKEND RUN_DIR...")
    return cmds[argv[1]](argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
