#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# A fan-out job on a remote host (harness/report/fanout.sh: GNU parallel
# runs it there, in the fan-out's work dir, which holds this script, the
# `make dist` tarball and any other file sent as --basefile, and the job's
# scenario and specs/ID as --transferfile):
#   sh remote.sh ID SHA TARBALL HARNESS [harness args...]
# The tarball is unpacked once per host into ../tree-SHA (under a lock:
# jobs on one host start together); the work dir links its build/ and
# harness/ and copies the scenarios the sent one may include, so the paths
# of this machine's harness arguments hold there; then harness/report/
# job.sh runs the spec's runs into jobs/ID/ (the runs in jobs/ID/runs/),
# which parallel brings back with --return.
set -u
id=$1 sha=$2 tarball=$3
shift 3
tree=$(cd .. && pwd)/tree-$sha
if [ ! -f "$tree/.complete" ]; then
	(
		flock 9
		[ -f "$tree/.complete" ] && exit 0
		rm -rf "$tree.new" && mkdir -p "$tree.new" &&
			tar -xzf "$tarball" -C "$tree.new" &&
			touch "$tree.new/.complete" && mv "$tree.new" "$tree"
	) 9>"$tree.lock" || { echo "remote: $(hostname): cannot unpack $tarball" >&2; exit 1; }
fi
for d in build harness; do
	[ -e "$d" ] || ln -s "$tree/$d" "$d" 2>/dev/null || [ -e "$d" ] || exit 1
done
mkdir -p scenarios
# Copies, not links: the harness refuses an include through a link.
for f in "$tree"/scenarios/*; do
	b=${f##*/}
	[ -e "scenarios/$b" ] && continue
	cp "$f" "scenarios/.$b.$$" && mv -n "scenarios/.$b.$$" "scenarios/$b"
	rm -f "scenarios/.$b.$$"
done
exec sh harness/report/job.sh "jobs/$id" "specs/$id" "$@" --results "jobs/$id/runs"
