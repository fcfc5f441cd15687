#!/bin/sh
# No arguments, or options only (`--save 60 1 --appendonly no`, as Kubernetes passes `args`):
# redis-server in the foreground as PID 1, writing to /data, with those options last so they win.
# Anything else (redis-cli, sh) runs as given.
#
# Protected mode is off: it would refuse every client but the loopback, since the dev Redis has no
# password. What keeps other clients out is the namespace's network policy and the ClusterIP
# Service; this image is for the dev stack, not for data that matters.
set -eu

if [ "$#" -eq 0 ] || [ "${1#-}" != "$1" ]; then
  set -- redis-server --dir /data --protected-mode no "$@"
fi
exec "$@"
