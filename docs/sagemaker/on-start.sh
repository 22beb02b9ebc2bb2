#!/bin/bash
# SageMaker notebook instance lifecycle configuration: ON START.
# Runs as root on every start, including the first one right after on-create.sh.
#
# Everything outside /home/ec2-user/SageMaker is reset when a notebook instance stops, including the Jupyter
# kernel list and ec2-user's shell profile. This script puts back what on-create.sh's install needs:
#   - ec2-user's login shells source dataprep/env.sh (PATH with dotnet, dotnet-interactive, dataprep);
#   - DataPrep's package folder is a NuGet source, so notebooks can `#r "nuget: DataPrep.Core, VERSION"`;
#   - the .NET Interactive kernels (C#, F#, PowerShell) are registered with Jupyter, their kernel.json pointing
#     at the persisted dotnet with the environment it needs (Jupyter does not read ~/.bashrc).
# SageMaker stops a lifecycle script after 5 minutes, and on the first start the install may still be running,
# so the registration runs in the background (nohup): it waits for dataprep/.installed, then registers.
# Log: /home/ec2-user/SageMaker/dataprep/start.log. Kernels appear in Jupyter after a browser refresh.
# This script never fails the start: problems are logged.
set -uo pipefail

BASE=/home/ec2-user/SageMaker/dataprep
if [ ! -f "$BASE/env.sh" ]; then
  echo "on-start: $BASE/env.sh is missing; attach on-create.sh as the on-create script (or run it once as root)."
  exit 0
fi

cat > "$BASE/register-kernel.sh" <<'EOF'
#!/bin/bash
# Registers the .NET Interactive Jupyter kernels (written by on-start.sh on every start).
set -euo pipefail
# shellcheck source=/dev/null
source /home/ec2-user/SageMaker/dataprep/env.sh
log() { echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) $*"; }

waited=0
until [ -f "$DATAPREP_HOME/.installed" ]; do
  if [ "$waited" -ge 3600 ]; then log "gave up waiting for the install (see install.log)"; exit 1; fi
  sleep 10; waited=$((waited + 10))
done

# `dotnet interactive jupyter install` calls `jupyter kernelspec`: use the Jupyter that serves the notebooks.
if [ -x /home/ec2-user/anaconda3/envs/JupyterSystemEnv/bin/jupyter ]; then
  export PATH="/home/ec2-user/anaconda3/envs/JupyterSystemEnv/bin:$PATH"
fi

if [ -d "$DATAPREP_HOME/packages" ] && ls "$DATAPREP_HOME"/packages/*.nupkg >/dev/null 2>&1; then
  if ! dotnet nuget list source | grep -q "dataprep-local"; then
    dotnet nuget add source "$DATAPREP_HOME/packages" --name dataprep-local
  fi
fi

log "registering the .NET Interactive kernels"
dotnet interactive jupyter install

# Jupyter starts kernels with its own environment: point kernel.json at the persisted dotnet and pass the
# variables dotnet-interactive needs (DOTNET_ROOT, tools on PATH, the persisted NuGet cache).
python3 - <<'PY'
import glob, json, os
home = os.path.expanduser("~")
for path in glob.glob(os.path.join(home, ".local/share/jupyter/kernels/.net-*/kernel.json")):
    with open(path) as f:
        spec = json.load(f)
    if spec.get("argv") and spec["argv"][0] == "dotnet":
        spec["argv"][0] = os.path.join(os.environ["DOTNET_ROOT"], "dotnet")
    env = spec.setdefault("env", {})
    for name in ("DOTNET_ROOT", "NUGET_PACKAGES", "PATH", "DOTNET_CLI_TELEMETRY_OPTOUT", "DOTNET_NOLOGO",
                 "DOTNET_SYSTEM_GLOBALIZATION_INVARIANT", "DATAPREP_HOME"):
        env[name] = os.environ.get(name, "")
    with open(path, "w") as f:
        json.dump(spec, f, indent=1)
    print("patched", path)
PY
log "kernels registered: refresh the Jupyter page"
EOF
chmod +x "$BASE/register-kernel.sh"
chown ec2-user:ec2-user "$BASE/register-kernel.sh"

sudo -u ec2-user -i <<'EOF'
# Login shells (terminals) get dotnet, dotnet-interactive and dataprep on PATH.
grep -q 'dataprep/env.sh' ~/.bashrc 2>/dev/null || echo 'source /home/ec2-user/SageMaker/dataprep/env.sh' >> ~/.bashrc
nohup bash /home/ec2-user/SageMaker/dataprep/register-kernel.sh >> /home/ec2-user/SageMaker/dataprep/start.log 2>&1 &
EOF
echo "on-start: kernel registration started in the background; see $BASE/start.log"
exit 0
