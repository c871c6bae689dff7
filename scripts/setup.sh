#!/usr/bin/env bash
# Installs everything rt-liver needs on a Debian 12 machine (root, or sudo), then the npm packages.
# Idempotent and quick once done: apt runs only for missing packages, `npm ci` only when
# package-lock.json changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/.."

# Browser for the e2e tests, a real PACS, DICOM validators, and the PyTorch training stack.
APT_PACKAGES=(
  chromium
  orthanc orthanc-dicomweb
  dicom3tools dcmtk libgdcm-tools
  python3-torch python3-onnx python3-numpy python3-scipy python3-pydicom python3-nibabel python3-pytest python3-pil
)

missing=()
for package in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'ok installed' || missing+=("$package")
done
if ((${#missing[@]})); then
  SUDO=''
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  echo "setup: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Orthanc's Debian package may start a system-wide daemon on 8042; ours runs on its own config and port.
stamp=node_modules/.rt-liver-lock.sha256
wanted=$(sha256sum package-lock.json | cut -c1-64)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
  echo "setup: installing npm packages (npm ci)"
  # Two packages declare newer Node engines than they need here: @ohif/app (>= 24) is served as a
  # prebuilt static bundle that Node never runs, and dcmjs (>= 22.13) is tested on Node 20 by the whole
  # suite. npm's notices for them would be the only output a user must decode, so only errors are shown.
  # No dependency's install script runs (package.json allowScripts): none is needed here, and
  # onnxruntime-node's would try to download CUDA binaries.
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error
  echo "$wanted" >"$stamp"
fi

# The rt-liver command runs compiled JavaScript (cli/dist/rt-liver.cjs): build it now, so that running
# it needs no build tool (esbuild is a dev dependency, used here only).
npm run --silent build:cli >/dev/null
