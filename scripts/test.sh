#!/usr/bin/env bash
# The test command behind `make test` and CI: installs and starts what is
# missing, builds the ECharts asset, then runs every test with the race
# detector. With CI=true a missing database or browser fails the run
# instead of skipping tests.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
make --no-print-directory assets

# Check every REST request the bot makes against Discord's OpenAPI spec when
# the shared copy is beside the project (it is not part of the repository).
if [ -z "${DISCORD_OPENAPI_SPEC:-}" ] && [ -f ../shared/discord-api/openapi.json ]; then
  export DISCORD_OPENAPI_SPEC="$(cd ../shared/discord-api && pwd)/openapi.json"
fi

go vet ./...
go test -race -count=1 -timeout 30m ./...
