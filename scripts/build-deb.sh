#!/usr/bin/env bash
# Builds the Debian package (dpkg-deb, no debhelper): /usr/lib/mxspool (the built dist/ and the
# production node_modules, copied from this checkout as `npm ls --omit=dev` lists them: no
# download), /usr/bin/mxspool, /etc/mxspool/mxspool.yaml (a conffile, loopback only),
# /var/lib/mxspool (the mxspool user's, made in postinst), the systemd unit, the docs.
# Packaging files are in packaging/debian/. Output: $OUT (default build/deb)/mxspool_<version>_<arch>.deb,
# its path printed last. Reuses dist/ when it is newer than the sources.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-build/deb}"
VERSION=$(node -p 'require("./package.json").version')
ARCH=$(dpkg --print-architecture) # node_modules holds native builds (msgpackr-extract): not "all"
[ -f dist/src/cli/main.js ] && [ -z "$(find src queues policies -newer dist/src/cli/main.js -name '*.ts' -print -quit)" ] || npm run build --silent

STAGE=$(mktemp -d "${TMPDIR:-/tmp}/mxspool-deb-XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
R="$STAGE/root"
L="$R/usr/lib/mxspool"
mkdir -p "$L/dist" "$L/node_modules" "$R/usr/bin" "$R/etc/mxspool" "$R/var/lib/mxspool" "$R/lib/systemd/system" "$R/usr/share/doc/mxspool" "$R/DEBIAN"

cp -a dist/src dist/queues dist/policies "$L/dist/"
cp package.json package-lock.json "$L/"
# production dependencies only: each top-level package (its own nested node_modules come along)
modules=$(readlink -f node_modules)
npm ls --omit=dev --all --parseable 2>/dev/null | while read -r dir; do
  rel=${dir#"$(pwd)/node_modules/"}
  rel=${rel#"$modules/"}
  case "$rel" in /*|*/node_modules/*) continue ;; esac # the project itself, nested ones
  mkdir -p "$L/node_modules/$(dirname "$rel")"
  cp -a "node_modules/$rel" "$L/node_modules/$rel"
done
[ -d "$L/node_modules/bullmq" ] || { echo "build-deb: production node_modules missing (run npm ci)" >&2; exit 1; }

install -m 0755 packaging/debian/mxspool "$R/usr/bin/mxspool"
install -m 0644 packaging/debian/mxspool.yaml "$R/etc/mxspool/mxspool.yaml"
install -m 0644 packaging/debian/mxspool.service "$R/lib/systemd/system/mxspool.service"
install -m 0644 README.md policies/mxspool.example.yaml "$R/usr/share/doc/mxspool/"
printf 'mxspool\n\nLicense: MIT (see package.json)\n' > "$R/usr/share/doc/mxspool/copyright"
chmod 0750 "$R/var/lib/mxspool"
for s in postinst prerm postrm; do install -m 0755 "packaging/debian/$s" "$R/DEBIAN/$s"; done
echo /etc/mxspool/mxspool.yaml > "$R/DEBIAN/conffiles"
SIZE=$(du -sk --exclude=DEBIAN "$R" | cut -f1)
sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$ARCH/" -e "s/@SIZE@/$SIZE/" packaging/debian/control.in > "$R/DEBIAN/control"

mkdir -p "$OUT"
DEB="$OUT/mxspool_${VERSION}_${ARCH}.deb"
dpkg-deb --root-owner-group -Zgzip -z1 --build "$R" "$DEB" >/dev/null
echo "$DEB"
