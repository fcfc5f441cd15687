#!/usr/bin/env bash
# `npm run bench:engine`: brings up the local environment, then bench/engine.ts.
# shellcheck source=scripts/use-local-env
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/use-local-env"
phase "engine benchmark" npx ts-node bench/engine.ts
