#!/usr/bin/env bash
# `npm run bench:autoscaling`: brings up the local environment, then bench/autoscaling.ts.
# shellcheck source=scripts/use-local-env
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/use-local-env"
phase "autoscaling benchmark" npx ts-node bench/autoscaling.ts
