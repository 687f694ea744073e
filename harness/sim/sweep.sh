#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# One scenario, one parameter, several values: a run per value, the curves
# overlaid in one plot, and a table of convergence time and final error.
#
#   sweep.sh --harness H --results DIR --name NAME --param KEY \
#            --values a,b,c [--backend B] -- HARNESS-ARGS... [SET...]
#
# KEY is any key the scenario accepts on the command line: a global one
# (max-balloon), a driver parameter (driver.batch), a step's (squeeze.target).
# Exit status: 0 if every run passed its expectations, 1 otherwise, 2 when
# a run could not be made at all.
set -eu

harness= results=results name= param= values= backend=sim
while [ $# -gt 0 ]; do
	case $1 in
	--harness) harness=$2; shift 2 ;;
	--results) results=$2; shift 2 ;;
	--name) name=$2; shift 2 ;;
	--param) param=$2; shift 2 ;;
	--values) values=$2; shift 2 ;;
	--backend) backend=$2; shift 2 ;;
	--) shift; break ;;
	*) echo "sweep: unknown option '$1'" >&2; exit 2 ;;
	esac
done
usage="usage: make sweep NAME=scenario PARAM=key VALUES=a,b,c [BACKEND=sim]"
[ -n "$name" ] && [ -n "$param" ] && [ -n "$values" ] || { echo "sweep: $usage" >&2; exit 2; }
[ -f "scenarios/$name.ini" ] || { echo "sweep: no scenarios/$name.ini" >&2; exit 2; }
command -v jq >/dev/null || { echo "sweep: jq is needed to read summary.json" >&2; exit 2; }

stamp=$(date +%Y%m%d-%H%M%S)
safe_param=$(printf '%s' "$param" | tr -c 'A-Za-z0-9_.-' '_')
runs="" status=0
table=$(mktemp)
trap 'rm -f "$table"' EXIT

for v in $(printf '%s' "$values" | tr ',' ' '); do
	safe_v=$(printf '%s' "$v" | tr -c 'A-Za-z0-9_.-' '_')
	id="sweep-$stamp-$safe_param-$safe_v-$backend"
	echo "sweep: $name $param=$v on $backend"
	rc=0
	"$harness" "$@" --backend "$backend" --run-id "$id" \
		"scenarios/$name.ini" "$param=$v" >"$results/.sweep-$id.log" 2>&1 || rc=$?
	dir="$results/$name/$id"
	if [ ! -f "$dir/summary.json" ]; then
		echo "sweep: $param=$v: no summary (exit $rc); see $results/.sweep-$id.log" >&2
		tail -5 "$results/.sweep-$id.log" >&2
		status=2
		continue
	fi
	rm -f "$results/.sweep-$id.log"
	[ $rc -eq 0 ] || [ $status -ne 0 ] || status=1
	runs="$runs $id"
	jq -r --arg v "$v" '[$v, .verdict,
		(if .convergence_s == null then "-" else (.convergence_s * 100 | round / 100 | tostring) end),
		(if .final_error == null then "-" else (.final_error / 1048576 * 10 | round / 10 | tostring) end),
		([.steps[] | select(.target != null) | .rate_mibs | fabs] | max // 0 | . * 10 | round / 10 | tostring),
		(.passed | tostring), (.failed | tostring)] | @tsv' \
		"$dir/summary.json" >>"$table"
done

[ -n "$runs" ] || { echo "sweep: no run completed" >&2; exit 2; }
# shellcheck disable=SC2086
sh harness/plot.sh --overlay "$results/$name" $runs || echo "sweep: plotting failed" >&2

echo
printf '%-14s %-8s %14s %16s %14s %7s\n' "$param" verdict convergence_s final_error_mib max_rate_mibs passed
awk -F'\t' '{ printf "%-14s %-8s %14s %16s %14s %4s/%s\n", $1, $2, $3, $4, $5, $6, $6 + $7 }' "$table"
echo
echo "sweep: curves overlaid in $results/$name/overlay-convergence.png"
exit $status
