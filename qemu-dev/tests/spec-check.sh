#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# spec-check.sh PROTO_H SPEC_TXT: the spec's register list (offset, access,
# name) must be exactly core/tb_proto.h's enum tb_reg, in order.
set -eu
proto=${1:?usage: spec-check.sh PROTO_H SPEC_TXT}
spec=${2:?usage: spec-check.sh PROTO_H SPEC_TXT}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# "	TB_REG_MAGIC		= 0x00,	/* RO TB_MAGIC */" -> "0x00 RO MAGIC"
sed -n 's/^[[:space:]]*TB_REG_\([A-Z0-9_]*\)[[:space:]]*=[[:space:]]*\(0x[0-9a-f]*\),[[:space:]]*\/\*[[:space:]]*\(R[OW]\|WO\).*/\2 \3 \1/p' \
	"$proto" > "$tmp/proto"
# "0x00 (RO) : MAGIC, ..." -> "0x00 RO MAGIC"
sed -n 's/^\(0x[0-9a-f][0-9a-f]\) (\(R[OW]\|WO\)) : \([A-Z0-9_]*\).*/\1 \2 \3/p' \
	"$spec" > "$tmp/spec"

[ -s "$tmp/proto" ] || { echo "spec-check: no registers found in $proto" >&2; exit 1; }
if ! diff -u "$tmp/proto" "$tmp/spec" > "$tmp/diff"; then
	echo "spec-check: $spec disagrees with $proto (- proto, + spec):" >&2
	cat "$tmp/diff" >&2
	exit 1
fi
echo "spec-check: $(wc -l < "$tmp/proto") registers agree"
