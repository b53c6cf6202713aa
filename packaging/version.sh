#!/bin/sh
# Prints the version that make build and make deb stamp into rollcall and
# its Debian package: X.Y.Z on a commit tagged vX.Y.Z; otherwise the last
# tag (or 0.0.0) followed by +git<commit time>.<commit>, which Debian sorts
# after that tag and before the next; with uncommitted changes, a dirty
# suffix. Outside a git checkout: 0.0.0+unknown.
set -eu
cd "$(dirname "$0")/.."
if ! git rev-parse --git-dir >/dev/null 2>&1; then
	echo "0.0.0+unknown"
	exit 0
fi
dirty=""
if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
	dirty="dirty"
fi
if tag=$(git describe --tags --exact-match --match 'v[0-9]*' 2>/dev/null); then
	v=${tag#v}
	[ -z "$dirty" ] || v="$v+$dirty"
else
	base=$(git describe --tags --abbrev=0 --match 'v[0-9]*' 2>/dev/null || echo v0.0.0)
	when=$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y%m%d%H%M%S)
	v="${base#v}+git$when.$(git rev-parse --short=12 HEAD)"
	[ -z "$dirty" ] || v="$v.$dirty"
fi
echo "$v"
