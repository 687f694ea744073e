#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""hostile_qemu.py - a fake QEMU that misbehaves on purpose.

The harness is pointed at it with `--qemu` (through a two-line wrapper,
see hostile.sh) and starts it exactly as it starts QEMU: the console is our
stdout, the agent and QMP are the Unix sockets named by the -chardev
options.  It speaks just enough QMP and agent protocol for a short run
(greeting, qmp_capabilities, query-balloon, balloon, qom-get/set, quit;
ping, stats, exec) and then breaks the rule chosen by HOSTILE_MODE:

  ok                 behaves (the control case: the run passes)
  qmp-truncated      query-balloon gets a truncated JSON line
  qmp-huge-line      query-balloon gets 4 MiB without a newline
  qmp-close-mid-reply  half a reply, then the QMP socket is closed
  qmp-odd-events     unknown events, bad BALLOON_CHANGEs, stray replies
                     around every reply (tolerated: the run passes)
  qmp-event-flood    events without end
  console-flood      the guest console never stops talking
  agent-flood        the agent sends replies nobody asked for, forever
  agent-huge-line    the agent answers with 4 MiB without a newline
  agent-big-values   stats whose sizes overflow 64 bits once in bytes
                     (balloon_2m_entries=2^60, memfree_kb=2^62)
  agent-silent       the agent answers the first requests, then never again
  balloon-change-flood  BALLOON_CHANGE events without end, each a new value
  sleep              behaves, and the guest runs until the harness ends it
                     (hostile.sh stops or kills the processes itself)
  no-seccomp         refuses -sandbox, as a QEMU built without seccomp

Every mode prints on the console the modes of the socket directory and of
the two sockets as created (before the harness connects): "TB-SOCKETS dir=700
qmp=600 agent=600", and who it runs as: "TB-IDENTITY uid=999 gid=995
groups=995 sandbox=on,...".

A fake peer rather than a proxy in front of the real QEMU: each fault is
exact and repeatable, and a case takes seconds instead of a guest boot.
The real QEMU and guest faults (killed QEMU, panic, agent killed) are in
faults.sh.
"""
import json
import os
import socket
import sys
import threading
import time

MODE = os.environ.get("HOSTILE_MODE", "ok")
BIG = 4 << 20

# A QEMU built without seccomp: -sandbox is an error, even with --version.
if MODE == "no-seccomp" and "-sandbox" in sys.argv:
    sys.stderr.write("qemu-system-x86_64: -sandbox support is not enabled "
                     "in this QEMU binary\n")
    sys.exit(1)

if "--version" in sys.argv:
    print("QEMU emulator version 0.0 (hostile_qemu.py, mode %s)" % MODE)
    sys.exit(0)


def chardev_path(ident):
    for i, a in enumerate(sys.argv):
        if a == "-chardev" and ("id=%s," % ident) in sys.argv[i + 1]:
            for part in sys.argv[i + 1].split(","):
                if part.startswith("path="):
                    return part[5:]
    sys.exit("hostile_qemu: no -chardev id=%s" % ident)


def memory_bytes():
    return int(sys.argv[sys.argv.index("-m") + 1]) << 20


def listen(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(1)
    return s


state = {"actual": memory_bytes(), "target": memory_bytes()}
out_lock = threading.Lock()


def console(line):
    with out_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def send(conn, obj):
    conn.sendall((json.dumps(obj) + "\n").encode())


def lines(conn):
    buf = b""
    while True:
        data = conn.recv(65536)
        if not data:
            return
        buf += data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            yield line.decode(errors="replace").strip()


def odd_events(conn):
    send(conn, {"event": "TOTALLY_UNKNOWN", "data": {"x": [1, 2, 3]}})
    send(conn, {"event": 42})
    send(conn, {"event": "BALLOON_CHANGE", "data": {"actual": "lots"}})
    send(conn, {"event": "BALLOON_CHANGE", "data": {"actual": -5}})
    send(conn, {"event": "BALLOON_CHANGE"})
    send(conn, {"return": {"actual": 1}, "id": 999999})   # stray reply
    send(conn, {"return": {"actual": 2}})                 # no id at all
    send(conn, {"neither": "event nor reply"})


def qmp_server(srv):
    conn, _ = srv.accept()
    send(conn, {"QMP": {"version": {"qemu": {"major": 0, "minor": 0,
                                              "micro": 0}},
                        "capabilities": []}})
    for line in lines(conn):
        if not line:
            continue
        cmd = json.loads(line)
        name, ident = cmd.get("execute"), cmd.get("id")
        args = cmd.get("arguments", {})
        reply = {}
        if name == "quit":
            send(conn, {"return": {}, "id": ident})
            os._exit(0)
        if name == "query-balloon":
            if MODE == "qmp-truncated":
                conn.sendall(b'{"return": {"actual": 26843\n')
                continue
            if MODE == "qmp-huge-line":
                conn.sendall(b"x" * BIG)
                continue
            if MODE == "qmp-close-mid-reply":
                conn.sendall(b'{"return": {"act')
                conn.close()
                while True:        # alive, console open: only QMP is gone
                    time.sleep(1)
            reply = {"actual": state["actual"]}
        elif name == "balloon":
            state["target"] = state["actual"] = int(args["value"])
            send(conn, {"event": "BALLOON_CHANGE",
                        "data": {"actual": state["actual"]},
                        "timestamp": {"seconds": 0, "microseconds": 0}})
        elif name == "qom-get":
            prop = args.get("property")
            # Our device's batch log, empty: the harness insists on it.
            reply = {} if prop == "stats" else {
                "log-id": 1, "clock-ns": 0, "first-seq": 1, "next-seq": 1,
                "from": 1, "records": []} if prop == "batch-log" else 0
        if MODE == "qmp-odd-events":
            odd_events(conn)
        send(conn, {"return": reply, "id": ident})
        if MODE == "qmp-event-flood" and name == "query-balloon":
            while True:
                send(conn, {"event": "FLOOD", "data": {}})
        if MODE == "balloon-change-flood" and name == "query-balloon":
            v = state["actual"]
            while True:
                v = v - 4096 if v > 1 << 20 else memory_bytes()
                send(conn, {"event": "BALLOON_CHANGE",
                            "data": {"actual": v}})


requests = [0]


def agent_server(srv):
    conn, _ = srv.accept()
    conn.sendall(b"event ready\n")
    for line in lines(conn):
        if not line:
            continue
        if MODE == "agent-flood":
            while True:
                conn.sendall(b"ok nobody asked for this\n" * 100)
        if MODE == "agent-huge-line":
            conn.sendall(b"ok " + b"y" * BIG)
            while True:
                time.sleep(1)
        word = line.split()[0]
        requests[0] += 1
        if word == "ping":
            conn.sendall(b"ok pong\n")
        elif MODE == "agent-silent" and requests[0] > 3:
            continue               # read, never answered
        elif word == "stats" and MODE == "agent-big-values":
            conn.sendall(("ok memtotal_kb=%d memfree_kb=%d memavail_kb=1 "
                          "balloon_2m_entries=%d balloon_4k_entries=0 "
                          "oom_kill=0\n" % (1 << 62, 1 << 62, 1 << 60))
                         .encode())
        elif word == "stats":
            kb = state["actual"] >> 10
            conn.sendall(("ok memtotal_kb=%d memfree_kb=%d memavail_kb=%d "
                          "oom_kill=0\n" % (kb, kb // 2, kb // 2)).encode())
        else:
            conn.sendall(b"ok 0\n")


qmp_path, agent_path = chardev_path("qmp"), chardev_path("agent")
qmp_sock, agent_sock = listen(qmp_path), listen(agent_path)
console("TB-SOCKETS dir=%o qmp=%o agent=%o" % tuple(
    os.stat(p).st_mode & 0o777 for p in
    (os.path.dirname(qmp_path), qmp_path, agent_path)))
sandbox = (sys.argv[sys.argv.index("-sandbox") + 1]
           if "-sandbox" in sys.argv else "none")
console("TB-IDENTITY uid=%d gid=%d groups=%s sandbox=%s" % (
    os.getuid(), os.getgid(),
    ",".join(str(g) for g in os.getgroups()) or "-", sandbox))
threading.Thread(target=qmp_server, args=(qmp_sock,), daemon=True).start()
threading.Thread(target=agent_server, args=(agent_sock,),
                 daemon=True).start()
console("fake guest booting")
console("TB-READY driver=ok kernel=hostile")
if MODE == "console-flood":
    chunk = "flood " * 200
    while True:
        console(chunk)
while True:
    time.sleep(1)
