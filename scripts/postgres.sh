#!/usr/bin/env bash
# Start the machine's PostgreSQL for the test suite and make sure the current user
# (root here) has a superuser role. Tests connect over the Unix socket and create
# a database of their own per run. Under CI a missing PostgreSQL is an error;
# elsewhere the suite runs on SQLite alone and says so.
set -euo pipefail

fail() {
    if [ "${CI:-}" = "true" ]; then
        echo "postgres.sh: $1 (required under CI)" >&2
        exit 1
    fi
    echo "postgres.sh: $1; PostgreSQL tests will be skipped" >&2
    exit 0
}

command -v pg_lsclusters >/dev/null 2>&1 || fail "PostgreSQL is not installed"
cluster=$(pg_lsclusters --no-header | awk 'NR==1 {print $1" "$2}')
[ -n "$cluster" ] || fail "no PostgreSQL cluster found"
set -- $cluster
version=$1 name=$2
if ! pg_lsclusters --no-header | awk -v v="$version" -v n="$name" '$1==v && $2==n {print $4}' | grep -q online; then
    pg_ctlcluster "$version" "$name" start || fail "could not start cluster $version/$name"
fi
for _ in $(seq 1 30); do
    pg_isready -q && break
    sleep 0.5
done
pg_isready -q || fail "PostgreSQL did not become ready"
me=$(id -un)
if ! su postgres -c "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname='$me'\"" | grep -q 1; then
    su postgres -c "createuser -s $me"
fi
echo "postgres.sh: PostgreSQL $version/$name is running; role $me ready"
