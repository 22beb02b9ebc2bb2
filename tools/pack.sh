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
# The tool is three packages (.NET 10 RID-specific tools): DataPrep.Cli (the pointer `dotnet tool install` reads),
# DataPrep.Cli.linux-x64 (Native AOT: the fast one, ~2x the framework-dependent build on W1, no .NET runtime
# needed) and DataPrep.Cli.any (framework-dependent, for every other platform). The native package is compiled
# here, so it needs a linux-x64 machine and a C toolchain (gcc or clang); it takes a few minutes.
# --no-build packs what `dotnet build -c Release` built: the libraries and the framework-dependent tool alone
# (one package, DataPrep.Cli, as before .NET 10), without compiling anything.
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
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "error: unknown argument '$1'; expected --version V, --output DIR, --configuration C or --no-build" >&2; exit 2 ;;
  esac
done

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
mkdir -p "$output"
output=$(cd "$output" && pwd)
common=(-c "$configuration" -nologo -v quiet "-p:PackageOutputPath=$output/")
# PackageVersion (not Version) so that --no-build can pack binaries already built by `dotnet build -c Release`.
[ -n "$version" ] && common+=("-p:PackageVersion=$version")
if [ "$build" = 0 ]; then
  # No RID-specific packages: the classic framework-dependent tool package, from the binaries already built.
  dotnet pack DataPrep.sln "${common[@]}" --no-build -p:ToolPackageRuntimeIdentifiers= -p:PublishAot=false
else
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) ;;
    *) echo "error: the Native AOT package (DataPrep.Cli.linux-x64) is compiled on linux-x64; this is $(uname -s)-$(uname -m). Use --no-build after dotnet build for the framework-dependent tool alone" >&2; exit 2 ;;
  esac
  # The libraries and the tool's pointer package (PublishAot: `dotnet pack` writes only the pointer for the tool) ...
  dotnet pack DataPrep.sln "${common[@]}"
  # ... the native tool (ILC links with clang, or gcc when clang is missing) ...
  dotnet pack src/DataPrep.Cli "${common[@]}" -r linux-x64
  # ... and the framework-dependent fallback for every other RID.
  dotnet pack src/DataPrep.Cli "${common[@]}" -r any -p:PublishAot=false
fi
ls -1 "$output"/*.nupkg
