#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The license header on every tracked source file: `tests/spdx.sh` lists the files that lack
# one (exit 1 if any), `tests/spdx.sh --fix` adds it in each file's own comment style (after a
# #! or #compdef line, which must stay first). Data (fuzz corpus, case tables), docs and
# debian/ (covered by debian/copyright) are not sources here.
cd "$(dirname "$0")/.." || exit 1
ID='SPDX-License-Identifier: GPL-2.0-or-later'

# The files that need the header, one per line.
sources() {
	git ls-files -- '*.c' '*.h' '*.sh' '*.8' '*.bash' '*.fish' 'completions/_*' \
		Makefile .ci/run debian/rules 'dist/*'
}

# The header line for a file.
header() {
	case $1 in
	*.c) echo "// $ID" ;;
	*.h) echo "/* $ID */" ;;
	*.8) echo ".\\\" $ID" ;;
	*) echo "# $ID" ;;
	esac
}

# A header counts within the first three lines (after #!, #compdef).
has_header() { head -n 3 -- "$1" | grep -q "$ID"; }

missing=0
while IFS= read -r f; do
	[ -f "$f" ] || continue
	has_header "$f" && continue
	if [ "${1:-}" = --fix ]; then
		h=$(header "$f")
		h=${h//\\/\\\\} # sed's a and i commands take a backslash as an escape
		case $(head -n 1 -- "$f") in
		'#!'* | '#compdef'*) sed -i "1a\\$h" -- "$f" ;;
		*) sed -i "1i\\$h" -- "$f" ;;
		esac
		has_header "$f" || { echo "spdx: could not add the header to $f" >&2; missing=$((missing + 1)); }
	else
		echo "$f"
		missing=$((missing + 1))
	fi
done < <(sources)
[ "$missing" = 0 ]
