#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# A regress job on a remote host (GNU parallel runs it there, in the run's
# work dir, which holds this script and the `make dist` tarball it sent as
# --basefile, and scenarios/NAME.ini as --transferfile):
#   sh remote.sh NAME SHA TARBALL SET HARNESS [harness args...]
# The tarball is unpacked once per host into ../tree-SHA (under a lock:
# jobs on one host start together); the work dir links its build/ and
# harness/ and copies the scenarios the sent one may include, so the paths of this
# machine's harness arguments hold there; then harness/report/job.sh runs
# the scenario into jobs/NAME/ (the run in jobs/NAME/runs/), which parallel
# brings back with --return.
set -u
name=$1 sha=$2 tarball=$3 set=$4
shift 4
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
SET=$set exec sh harness/report/job.sh "jobs/$name" "scenarios/$name.ini" \
	"$@" --results "jobs/$name/runs"
