#!/usr/bin/env bash
# Makes sure the services the tests use answer on this machine: PostgreSQL on 127.0.0.1:5432
# (user postgres, trust auth) and Redis on 127.0.0.1:6379. Starts the machine's own when they
# do not answer; installs nothing. Each test run then makes a fresh database of its own.
set -euo pipefail

wait_for() { # name, command...
  local name=$1
  shift
  for _ in $(seq 1 30); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  echo "== $name does not answer" >&2
  return 1
}

if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  echo "== starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
  wait_for PostgreSQL pg_isready -h 127.0.0.1 -p 5432 -q
fi
echo "== PostgreSQL: $(psql -h 127.0.0.1 -U postgres -Atc 'SHOW server_version')"

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "== starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no
  wait_for Redis redis-cli -h 127.0.0.1 -p 6379 ping
fi
echo "== Redis: $(redis-cli -h 127.0.0.1 -p 6379 INFO server | grep -m1 redis_version | tr -d '\r')"
