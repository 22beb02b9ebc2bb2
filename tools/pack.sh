#!/usr/bin/env bash
# Packs every library (DataPrep.Core, .Parquet, .Testing, .Interactive, and any other packable project) and the
# `dataprep` .NET tool into one local NuGet folder that notebooks and `dotnet tool install` can use.
#
#   bash tools/pack.sh [--version V] [--output DIR] [--configuration Release|Debug] [--no-build]
#
# Defaults: the version in Directory.Build.props, output artifacts/packages, Release. Then, in a notebook:
#   #i "nuget: /abs/path/to/artifacts/packages"
#   #r "nuget: DataPrep.Core, 0.1.0"
# and for the CLI:  dotnet tool install --global --add-source artifacts/packages DataPrep.Cli
#
# NuGet caches a package by id and version: re-packing the same version does not replace what a machine has
# already cached. Give each pack of changed code a new version (e.g. --version 0.1.1-local.$(date +%s)).
set -euo pipefail
cd "$(dirname "$0")/.."

version="" output="artifacts/packages" configuration=Release build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --version) version="$2"; shift 2 ;;
    --output) output="$2"; shift 2 ;;
    --configuration|-c) configuration="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "error: unknown argument '$1'; expected --version V, --output DIR, --configuration C or --no-build" >&2; exit 2 ;;
  esac
done

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
mkdir -p "$output"
output=$(cd "$output" && pwd)
args=(DataPrep.sln -c "$configuration" -nologo -v quiet "-p:PackageOutputPath=$output/")
# PackageVersion (not Version) so that --no-build can pack binaries already built by `dotnet build -c Release`.
[ -n "$version" ] && args+=("-p:PackageVersion=$version")
[ "$build" = 0 ] && args+=(--no-build)
dotnet pack "${args[@]}"
ls -1 "$output"/*.nupkg
