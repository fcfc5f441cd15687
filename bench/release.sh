#!/usr/bin/env bash
# `npm run bench:release`: brings up the local environment, then bench/release.ts.
# shellcheck source=scripts/use-local-env
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/use-local-env"
phase "release benchmark" npx ts-node bench/release.ts
