#!/usr/bin/env bash
# deb_test.sh: the Debian package as a gateway host's administrator installs it.
#
# Builds strait_*.deb from a copy of the tree with `dpkg-buildpackage -b -us -uc` (niced, one
# job, nocheck: the unit tests run in the suite), runs lintian on it (no error or warning
# tag), installs it into a fresh Debian 12 root (minbase and systemd) made by mmdebstrap
# with `apt-get install ./strait_*.deb` (dependencies from Debian), checks what it installed
# (binaries, man pages, the conffile, the unit), `systemd-analyze verify`s the unit, then
# starts the installed binary with the installed config in that root on the demo topology,
# and checks the demo's traffic, the installed straitctl, and a clean stop.
#
# Usage: deb_test.sh [STRAIT_BINARY]   (unused: the package builds its own)
#        STRAIT_DEB=strait_0.1.0-1_amd64.deb deb_test.sh: skip the build, test that package
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

e2e_require_root
missing=()
for c in dpkg-buildpackage dh lintian mmdebstrap systemd-analyze; do
	command -v "$c" >/dev/null || missing+=("$c")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "skip: ${missing[*]} missing (apt-get install dpkg-dev debhelper lintian mmdebstrap systemd)"
	E2E_FINISHED=1
	exit 77
fi

NPODS=3
EXT=$TOPO_EXT_ADDR
W=$(mktemp -d /tmp/strait-deb.XXXXXX)
ROOT=$W/root
deb_cleanup() {
	local m
	for m in dev sys proc; do
		umount -R "$ROOT/$m" 2>/dev/null || umount -l "$ROOT/$m" 2>/dev/null || true
	done
	# Never remove through a mount that is still there.
	if ! grep -q " $W/" /proc/mounts; then rm -rf --one-file-system "$W"; fi
}
trap 'rc=$?; topo_down; deb_cleanup; (exit $rc); _e2e_on_exit' EXIT

# ---- build (STRAIT_DEB=FILE: a package built as below, to re-run the rest) ----
if [ -n "${STRAIT_DEB:-}" ]; then
	cp "$STRAIT_DEB" "$W/"
	echo "# using $STRAIT_DEB"
else
	SRC=$W/strait-0.1.0
	mkdir -p "$SRC"
	tar -C "$E2E_ROOT" --exclude='./build*' --exclude=./.git --exclude='./obj-*' -cf - . |
		tar -C "$SRC" -xf -
	echo "# dpkg-buildpackage -b -us -uc (in $SRC)"
	rc=0
	(cd "$SRC" && nice -n 19 env DEB_BUILD_OPTIONS="nocheck parallel=1" dpkg-buildpackage -b -us -uc) \
		>"$W/build.log" 2>&1 || rc=$?
	[ $rc -eq 0 ] || tail -n 40 "$W/build.log"
	check_eq "dpkg-buildpackage -b -us -uc" 0 "$rc"
fi
deb=$(ls "$W"/strait_*.deb 2>/dev/null | head -n 1)
check "strait_*.deb built" test -f "$deb"
[ -f "$deb" ] || e2e_finish
echo "# $(basename "$deb"): $(stat -c %s "$deb") bytes"
dpkg-deb -c "$deb" | awk '{print "#   " $6}'
lint=$(lintian --tag-display-limit 0 "$deb" 2>&1 || true)
[ -z "$lint" ] || sed 's/^/# lintian: /' <<<"$lint"
# Clean: no error and no warning (debian/strait.lintian-overrides says why for the one left).
check_eq "lintian: no error or warning tag" "" "$(grep -E '^[EW]:' <<<"$lint" || true)"

# ---- install into a fresh Debian 12 root ----
echo "# mmdebstrap --variant=minbase bookworm, then apt-get install ./$(basename "$deb")"
rc=0
nice -n 19 mmdebstrap --quiet --variant=minbase --include=systemd \
	--customize-hook="copy-in $deb /tmp" \
	--customize-hook="chroot \"\$1\" sh -c 'cd /tmp && apt-get install -y -q ./$(basename "$deb")'" \
	bookworm "$ROOT" >"$W/install.log" 2>&1 || rc=$?
[ $rc -eq 0 ] || tail -n 30 "$W/install.log"
check_eq "apt-get install ./$(basename "$deb") in a fresh root" 0 "$rc"
for f in /usr/bin/strait /usr/bin/straitctl /usr/share/man/man8/strait.8.gz \
	/usr/share/man/man8/straitctl.8.gz /lib/systemd/system/strait.service /etc/default/strait \
	/usr/libexec/strait/hugepages; do
	check "installed: $f" test -e "$ROOT$f"
done
check_match "/etc/strait/strait.yaml is a conffile" '.*/etc/strait/strait.yaml [0-9a-f]{32}.*' \
	"$(chroot "$ROOT" dpkg-query -W -f='${Conffiles}' strait 2>&1 | tr '\n' ' ')"
check_eq "the installed strait --version" "strait 0.1.0" \
	"$(chroot "$ROOT" /usr/bin/strait --version 2>&1 | cut -d' ' -f1-2)"
# debian/rules builds with -Djemalloc=enabled, and the package pulls libjemalloc2 in.
check_match "the installed strait runs on jemalloc" '.*, malloc jemalloc [0-9].*' \
	"$(chroot "$ROOT" /usr/bin/strait --version 2>&1)"
# --man=no: man(1) is not in the root (the pages were checked above).
out=$(systemd-analyze --root="$ROOT" --man=no verify /lib/systemd/system/strait.service 2>&1) &&
	rc=0 || rc=$?
[ -z "$out" ] || sed 's/^/# systemd-analyze: /' <<<"$out"
check_eq "systemd-analyze verify strait.service" 0 "$rc"

# ---- the installed binary on the installed config, demo topology ----
mount -t proc proc "$ROOT/proc"
mount --rbind /sys "$ROOT/sys"
mount --rbind /dev "$ROOT/dev"
mkdir -p "$ROOT/run/strait" # strait.service's RuntimeDirectory
# strait_start runs a binary with a config path of this system: both into the root.
cat >"$W/strait" <<WRAP
#!/usr/bin/env bash
args=()
for a in "\$@"; do args+=("\${a#"$ROOT"}"); done
exec chroot "$ROOT" /usr/bin/strait "\${args[@]}"
WRAP
chmod +x "$W/strait"
topo_up "$NPODS"
topo_servers_start "$NPODS"
strait_start "$W/strait" "$ROOT/etc/strait/strait.yaml"
check "the installed strait is ready on /etc/strait/strait.yaml" grep -qF 'strait: ready' "$STRAIT_LOG"
for ((i = 1; i <= 3; i++)); do
	check_match "HTTP request $i to $EXT:8080 answered by a pod" 'pod-[0-2]' \
		"$(client_curl "http://$EXT:8080/" 2>&1 || true)"
done
for ((i = 0; i < NPODS; i++)); do
	check_eq "port $((32000 + i)) answered by pod-$i" "pod-$i" \
		"$(client_curl "http://$EXT:$((32000 + i))/" 2>&1 || true)"
done
msg="strait from the package $$"
check_eq "UDP echo through $EXT:7777" "$msg" "$(printf '%s' "$msg" | client_udp "$EXT" 7777 2>&1 || true)"
check_match "the installed straitctl on /run/strait/cli.sock" '.*net_af_packet0.*net_af_packet1.*' \
	"$(chroot "$ROOT" straitctl show ports 2>&1 | tr '\n' ' ' || true)"
rc=0
strait_stop || rc=$?
check_eq "strait stops cleanly (exit 0)" 0 "$rc"
e2e_finish
