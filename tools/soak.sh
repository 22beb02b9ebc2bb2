#!/usr/bin/env bash
# Runs every FsCheck property of the test suite with 20x the usual test count and fresh random seeds (one per
# property and run), to find rare failures before a user's first `bash tools/test.sh` does. A failure prints the
# seed; replay it with  DATAPREP_PROPERTY_REPLAY="SEED,GAMMA" dotnet test … --filter "FullyQualifiedName~ThatTest".
# Usage: bash tools/soak.sh [SCALE]   (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export DATAPREP_PROPERTY_SCALE="${1:-20}"
dotnet build tests/DataPrep.Tests -c Release -nologo -v quiet
# The properties are the tests that FsCheck runs: list them by their attribute rather than by hand.
mapfile -t classes < <(grep -rl --include='*.cs' '\[Property' tests/DataPrep.Tests | grep -v '/obj/\|/bin/' | xargs -n1 basename | sed 's/\.cs$//' | sort -u)
filter=$(printf 'FullyQualifiedName~.%s.|' "${classes[@]}")
filter=${filter%|}
echo "soak: ${#classes[@]} classes with properties, test counts x${DATAPREP_PROPERTY_SCALE}" >&2
dotnet test tests/DataPrep.Tests -c Release --no-build -nologo --filter "$filter"
