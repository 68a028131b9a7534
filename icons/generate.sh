#!/usr/bin/env bash
# Makes every icon the bundles and the window need from the one source, icon.svg: the
# hicolor sizes the .deb and .rpm install (16 to 512 pixels), the window's, the .ico and
# the UI's. Needs rsvg-convert (librsvg2-bin) and ImageMagick's convert.
set -euo pipefail
cd "$(dirname "$0")"
for size in 16 32 48 64 128 256 512; do
  rsvg-convert -w "$size" -h "$size" icon.svg -o "${size}x${size}.png"
done
rsvg-convert -w 256 -h 256 icon.svg -o 128x128@2x.png
cp 512x512.png icon.png
convert icon.png -define icon:auto-resize=256,128,64,48,32,16 icon.ico
cp 128x128.png ../ui/public/icon.png
