#!/bin/sh
# Runs PostgreSQL the way components/dev-services does: as uid 70, read-only root filesystem, the
# cluster in $PGDATA on a volume, socket and lock file in /var/run/postgresql.
#
# First start ($PGDATA has no PG_VERSION): creates $PGDATA (a directory below the volume's mount
# point, which may hold lost+found and so cannot be the cluster itself), runs initdb with
# POSTGRES_USER (default postgres) as the superuser and POSTGRES_PASSWORD as its password
# (scram-sha-256, required: every login needs a password, local or remote), accepts connections
# from any address with a password, and creates the database POSTGRES_DB (default: the user's name)
# through a server listening on the socket only. Later starts use the cluster as it is; changing
# the variables then changes nothing.
#
# Arguments: none or options (`-c name=value`) start the server with them; anything else (pg_dump,
# psql, sh) runs as given, which is how the backup Job uses this image.
set -eu

if [ "$#" -eq 0 ] || [ "${1#-}" != "$1" ]; then
  set -- postgres "$@"
fi
if [ "$1" != postgres ]; then
  exec "$@"
fi

: "${PGDATA:=/var/lib/postgresql/data}"
export PGDATA

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  user=${POSTGRES_USER:-postgres}
  db=${POSTGRES_DB:-$user}
  if [ -z "${POSTGRES_PASSWORD:-}" ]; then
    echo "POSTGRES_PASSWORD: required to initialise $PGDATA (set it to the superuser's password)" >&2
    exit 1
  fi
  mkdir -p "$PGDATA"
  chmod 0700 "$PGDATA"
  # A half-made cluster would be taken for a finished one on the next start: clear it on failure.
  trap 'pg_ctl --pgdata="$PGDATA" --mode=immediate --silent stop >/dev/null 2>&1 || true; find "$PGDATA" -mindepth 1 -delete' EXIT
  printf '%s\n' "$POSTGRES_PASSWORD" | initdb --pgdata="$PGDATA" --username="$user" --pwfile=/dev/stdin \
    --auth=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  printf '%s\n' "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  printf '%s\n' "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
  if [ "$db" != postgres ]; then
    pg_ctl --pgdata="$PGDATA" --options="-c listen_addresses=''" --wait --silent start
    # %I quotes the name as an identifier, whatever it contains.
    printf '%s\n' "SELECT format('CREATE DATABASE %I', :'db') \\gexec" \
      | PGPASSWORD=$POSTGRES_PASSWORD psql --quiet --no-psqlrc --set=ON_ERROR_STOP=1 --set=db="$db" \
          --username="$user" --dbname=postgres >/dev/null
    pg_ctl --pgdata="$PGDATA" --mode=fast --wait --silent stop
  fi
  trap - EXIT
  echo "initialised $PGDATA: superuser $user, database $db" >&2
fi

# PID 1 is postgres itself: it gets the pod's stop signal (SIGINT, a fast shutdown) directly.
exec "$@"
