#!/usr/bin/env bash
# Build every Kepu image: infra/docker/build-all.sh <registry> <tag>
# e.g. infra/docker/build-all.sh registry.kepu.example.cn/kepu 0.1.0
# The names match the charts' default image: <global.image.registry>/kepu-<component>:<tag>.
set -euo pipefail
registry="${1:?registry, e.g. registry.kepu.example.cn/kepu}"
tag="${2:?tag, e.g. 0.1.0}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
for component in identity talent reporting projects assessment gateway; do
  docker build -f "$root/infra/docker/Dockerfile" --build-arg SERVICE="$component" \
    -t "$registry/kepu-$component:$tag" "$root"
done
