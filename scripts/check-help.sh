#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# check-help.sh MAKE: every .PHONY target of the Makefiles appears in
# `make help` as "make <target>" (make's own database gives the list, so
# continuation lines and every included .mk count).
set -eu
make=${1:-make}
help=$($make -s help)
phony=$($make -pRrq -f Makefile : 2>/dev/null | sed -n 's/^\.PHONY: //p' | tr ' ' '\n' | sort -u)
missing=""
for t in $phony; do
	printf '%s\n' "$help" | grep -Eq "^  make (.* )?$t( |$)" || missing="$missing $t"
done
if [ -n "$missing" ]; then
	echo "check-help: not in 'make help':$missing" >&2
	exit 1
fi
echo "check-help: all $(printf '%s\n' $phony | wc -l) .PHONY targets are in 'make help'"
