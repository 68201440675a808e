#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Fetches the arm64 kernel that tests/integration/test_arch.sh boots under qemu: Debian's
# linux-image-cloud-arm64 (21 MB; the installer's netboot package, the other choice, is 128 MB
# and boots no faster), through apt with a private state under DIR: no multiarch set-up, nothing
# installed, the host's apt sources. Writes DIR/vmlinuz (an uncompressed arm64 Image).
#   fetch-kernel.sh [DIR]     (default build/aarch64)
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${1:-build/aarch64}
[ -s "$dir/vmlinuz" ] && exit 0
mkdir -p "$dir/apt/lists/partial" "$dir/apt/cache/archives/partial" "$dir/kernel"
dir=$(cd "$dir" && pwd)
apt_opts=(-o APT::Architecture=arm64 -o APT::Architectures::=arm64
	-o "Dir::State::Lists=$dir/apt/lists" -o "Dir::Cache=$dir/apt/cache"
	-o Dir::State::status=/dev/null -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
apt-get "${apt_opts[@]}" -qq update
# The meta package names the current image package.
image=$(apt-cache "${apt_opts[@]}" show linux-image-cloud-arm64 |
	sed -n 's/^Depends: \(linux-image-[^ ,]*\).*/\1/p' | head -n 1)
if [ -z "$image" ]; then
	echo "fetch-kernel: no linux-image-cloud-arm64 in the apt sources" >&2
	exit 1
fi
(cd "$dir/kernel" && rm -f ./*.deb && apt-get "${apt_opts[@]}" -qq download "$image")
dpkg-deb --fsys-tarfile "$dir"/kernel/*.deb | tar -x -C "$dir/kernel" --wildcards './boot/vmlinuz-*'
mv "$dir"/kernel/boot/vmlinuz-* "$dir/vmlinuz.tmp"
mv "$dir/vmlinuz.tmp" "$dir/vmlinuz"
rm -rf "$dir/kernel" "$dir/apt"
echo "  KERNEL  $dir/vmlinuz ($image)"
