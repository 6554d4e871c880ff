#!/usr/bin/env bash
# The local base image `debian:bookworm-slim`: no image registry is reachable here, so every image of the
# stack starts from a Debian 12 root file system made by debootstrap and imported into Docker. Reused when
# present (`--force` rebuilds it). The host's extra CA certificates (a TLS-inspecting proxy in front of
# PyPI, say) are installed in it, so apt and pip inside builds trust what the host trusts.
set -euo pipefail
TAG="${GISPORTAL_BASE_IMAGE:-debian:bookworm-slim}"
MIRROR="${GISPORTAL_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
say() { printf '\033[1m[docker-base]\033[0m %s\n' "$*"; }

if [ "${1:-}" != "--force" ] && docker image inspect "$TAG" >/dev/null 2>&1; then
  say "$TAG is present (--force rebuilds it)"
  exit 0
fi
command -v debootstrap >/dev/null || { say "installing debootstrap"; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
root="$(mktemp -d /tmp/gisportal-rootfs.XXXXXX)"
trap 'rm -rf "$root"' EXIT
say "debootstrap bookworm (minbase) from $MIRROR"
debootstrap --variant=minbase --include=ca-certificates bookworm "$root" "$MIRROR" >/tmp/gisportal-debootstrap.log 2>&1 \
  || { tail -20 /tmp/gisportal-debootstrap.log; exit 1; }
# the host's own CA certificates (if any) join Debian's bundle
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
  chroot "$root" update-ca-certificates >/dev/null 2>&1 || true
fi
cat > "$root/etc/apt/sources.list" <<SRC
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
SRC
# slim: no documentation or apt lists in the image
cat > "$root/etc/dpkg/dpkg.cfg.d/01-slim" <<'CFG'
path-exclude /usr/share/doc/*
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-include /usr/share/doc/*/copyright
CFG
printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' > "$root/etc/apt/apt.conf.d/01-norecommends"
chroot "$root" apt-get clean
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/usr/share/doc/* "$root"/usr/share/man/*
say "importing into docker as $TAG"
tar -C "$root" -c . | docker import \
  -c 'ENV LANG=C.UTF-8 PIP_CERT=/etc/ssl/certs/ca-certificates.crt REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt' \
  -c 'CMD ["/bin/bash"]' - "$TAG" >/dev/null
say "done: $(docker image inspect "$TAG" --format '{{.Size}}' | awk '{printf "%.0f MB", $1/1e6}')"
