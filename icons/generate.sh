#!/usr/bin/env bash
# Makes every icon the bundles and the window need from the one source, icon.svg.
# Needs rsvg-convert (librsvg2-bin) and ImageMagick's convert.
set -euo pipefail
cd "$(dirname "$0")"
rsvg-convert -w 32 -h 32 icon.svg -o 32x32.png
rsvg-convert -w 128 -h 128 icon.svg -o 128x128.png
rsvg-convert -w 256 -h 256 icon.svg -o 128x128@2x.png
rsvg-convert -w 512 -h 512 icon.svg -o icon.png
convert icon.png -define icon:auto-resize=256,128,64,48,32,16 icon.ico
cp 128x128.png ../ui/public/icon.png
