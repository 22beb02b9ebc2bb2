#!/bin/bash
# SageMaker notebook instance lifecycle configuration: ON CREATE.
# Runs once, as root, when the notebook instance is created (before on-start.sh's first run).
#
# Installs into /home/ec2-user/SageMaker, the only folder that survives a stop and start:
#   .dotnet/                 the .NET SDK (dotnet-install.sh)
#   .dotnet-tools/           the .NET Interactive tool (the Jupyter kernel)
#   .nuget/packages/         the NuGet cache, so `#r "nuget: …"` does not download everything after each start
#   dataprep/packages/       DataPrep's .nupkg files (from `bash tools/pack.sh`), a local NuGet source
#   dataprep/tools/          the `dataprep` CLI
#   dataprep/env.sh          paths and settings, sourced by on-start.sh and by login shells
# The downloads can take longer than the 5 minutes SageMaker allows a lifecycle script, so they run in the
# background (nohup); follow them in /home/ec2-user/SageMaker/dataprep/install.log. When they finish,
# dataprep/.installed exists and on-start.sh registers the kernel (it waits for that on the first start).
# Running it again is harmless: every step checks what is already there.
set -euo pipefail

# ---- Settings: edit before pasting into the lifecycle configuration -------------------------------------
# Where DataPrep's packages come from: an S3 prefix holding the .nupkg files of `bash tools/pack.sh`
# (`aws s3 sync artifacts/packages s3://BUCKET/dataprep/packages/`), an https NuGet feed, or empty to skip.
DATAPREP_PACKAGES="s3://YOUR-BUCKET/dataprep/packages/"
DATAPREP_VERSION="0.1.0"                 # the version tools/pack.sh wrote (--version)
DOTNET_CHANNEL="10.0"                    # .NET SDK channel for dotnet-install.sh
DOTNET_INTERACTIVE_VERSION="1.0.712001"  # Microsoft.dotnet-interactive tool version
# ----------------------------------------------------------------------------------------------------------

PERSIST=/home/ec2-user/SageMaker
BASE="$PERSIST/dataprep"
mkdir -p "$BASE/packages" "$BASE/tools" "$PERSIST/.dotnet" "$PERSIST/.dotnet-tools" "$PERSIST/.nuget/packages"

# Settings and paths in one place (rewritten on every run of this script, so edits above take effect).
cat > "$BASE/env.sh" <<EOF
# Written by on-create.sh. Sourced by the install job, by on-start.sh and by ec2-user's login shells.
export DATAPREP_HOME="$BASE"
export DATAPREP_PACKAGES="$DATAPREP_PACKAGES"
export DATAPREP_VERSION="$DATAPREP_VERSION"
export DOTNET_CHANNEL="$DOTNET_CHANNEL"
export DOTNET_INTERACTIVE_VERSION="$DOTNET_INTERACTIVE_VERSION"
export DOTNET_ROOT="$PERSIST/.dotnet"
export DOTNET_TOOLS="$PERSIST/.dotnet-tools"
export NUGET_PACKAGES="$PERSIST/.nuget/packages"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# No ICU on the image is needed: DataPrep formats with the invariant culture anyway.
export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1
case ":\$PATH:" in *":$PERSIST/.dotnet:"*) ;; *) export PATH="$PERSIST/.dotnet:$PERSIST/.dotnet-tools:$BASE/tools:\$PATH" ;; esac
EOF

# The install job itself, run as ec2-user in the background.
cat > "$BASE/install.sh" <<'EOF'
#!/bin/bash
# Installs or updates the .NET SDK, .NET Interactive and DataPrep (written by on-create.sh; safe to rerun).
set -euo pipefail
# shellcheck source=/dev/null
source /home/ec2-user/SageMaker/dataprep/env.sh
log() { echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) $*"; }
rm -f "$DATAPREP_HOME/.installed"

if "$DOTNET_ROOT/dotnet" --list-sdks 2>/dev/null | grep -q "^$DOTNET_CHANNEL"; then
  log ".NET SDK $DOTNET_CHANNEL already installed"
else
  log "installing the .NET SDK $DOTNET_CHANNEL into $DOTNET_ROOT"
  curl -fsSL --retry 3 https://dot.net/v1/dotnet-install.sh -o "$DATAPREP_HOME/dotnet-install.sh"
  bash "$DATAPREP_HOME/dotnet-install.sh" --channel "$DOTNET_CHANNEL" --install-dir "$DOTNET_ROOT" --no-path
fi

if dotnet tool list --tool-path "$DOTNET_TOOLS" | grep -qi "^microsoft.dotnet-interactive *$DOTNET_INTERACTIVE_VERSION "; then
  log ".NET Interactive $DOTNET_INTERACTIVE_VERSION already installed"
else
  log "installing .NET Interactive $DOTNET_INTERACTIVE_VERSION into $DOTNET_TOOLS"
  dotnet tool uninstall --tool-path "$DOTNET_TOOLS" Microsoft.dotnet-interactive >/dev/null 2>&1 || true
  dotnet tool install --tool-path "$DOTNET_TOOLS" Microsoft.dotnet-interactive --version "$DOTNET_INTERACTIVE_VERSION"
fi

source_for_dataprep=""
case "$DATAPREP_PACKAGES" in
  s3://*)
    log "copying DataPrep packages from $DATAPREP_PACKAGES"
    aws s3 sync "$DATAPREP_PACKAGES" "$DATAPREP_HOME/packages" --exclude '*' --include '*.nupkg'
    source_for_dataprep="$DATAPREP_HOME/packages" ;;
  http://*|https://*) source_for_dataprep="$DATAPREP_PACKAGES" ;;
  /*)
    cp -f "$DATAPREP_PACKAGES"/*.nupkg "$DATAPREP_HOME/packages/"
    source_for_dataprep="$DATAPREP_HOME/packages" ;;
  "") log "DATAPREP_PACKAGES is empty: DataPrep not installed (notebooks can still #i a folder of your own)" ;;
  *) log "DATAPREP_PACKAGES=$DATAPREP_PACKAGES is not s3://…, https://… or an absolute folder: DataPrep not installed" ;;
esac

if [ -n "$source_for_dataprep" ]; then
  log "installing the dataprep CLI $DATAPREP_VERSION into $DATAPREP_HOME/tools"
  dotnet tool install --tool-path "$DATAPREP_HOME/tools" --add-source "$source_for_dataprep" DataPrep.Cli --version "$DATAPREP_VERSION" \
    || dotnet tool update --tool-path "$DATAPREP_HOME/tools" --add-source "$source_for_dataprep" DataPrep.Cli --version "$DATAPREP_VERSION"
fi

touch "$DATAPREP_HOME/.installed"
log "install finished"
EOF

chmod +x "$BASE/install.sh"
chown -R ec2-user:ec2-user "$BASE" "$PERSIST/.dotnet" "$PERSIST/.dotnet-tools" "$PERSIST/.nuget"

# Start the install as ec2-user and return at once (nohup keeps it running after this script ends).
sudo -u ec2-user -i <<'EOF'
nohup bash /home/ec2-user/SageMaker/dataprep/install.sh >> /home/ec2-user/SageMaker/dataprep/install.log 2>&1 &
EOF
echo "on-create: install started in the background; see /home/ec2-user/SageMaker/dataprep/install.log"
