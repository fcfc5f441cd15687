#!/usr/bin/env bash
# `npm run bench:fleet`: brings up the local environment, then bench/fleet.ts (BENCH_FLEET_SIZES,
# BENCH_FLEET_REAL_SIZES and BENCH_ROUNDS choose what it measures; see there).
# shellcheck source=scripts/use-local-env
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/use-local-env"
phase "fleet benchmark" npx ts-node bench/fleet.ts
