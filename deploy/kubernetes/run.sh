#!/usr/bin/env bash
# Runs `dataprep convert` on Kubernetes: one Indexed Job per step of the run (job.yaml, TASKS completions, each
# pod's task in JOB_COMPLETION_INDEX), applied when the step before has completed. Stops at the first step that
# fails.
set -euo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
# shellcheck source=../steps.sh
source "$here/../steps.sh"

usage() {
  cat <<'EOF'
Usage: run.sh --workers N --image IMAGE [options] -- INPUT... --out s3://BUCKET/PREFIX/ [convert options]

Applies one Indexed Job per step of `dataprep convert … --workers N` (the steps come from
`dataprep convert … --workers N --steps`) and waits for each to complete before the next.
Prints one "STEP JOB_NAME" line per job once it has completed.

  --workers N               tasks of the parallel steps (required)
  --image IMAGE             the dataprep image (required)
  --name NAME               run name, the prefix of the Job names (default: dataprep-YYYYMMDD-HHMMSS, UTC)
  --namespace NS            the namespace (default: the kubectl context's)
  --service-account SA      the pods' service account, the one allowed to use the buckets (default: default)
  --cpu CPU                 CPU request per pod (default: 2)
  --memory SIZE             memory request and limit per pod (default: 8Gi); keep dataprep's --memory below it
  --parallelism P           pods of one step running at once (default: all of the step's tasks)
  --retries R               retries per task (default: 3)
  --timeout SECONDS         longest wait for one step (default: 86400)
  --print                   print the Jobs (YAML, "---" between them) instead of applying them

Environment:
  DATAPREP   the command that prints the steps (default: dataprep); the image works too:
             DATAPREP="docker run --rm IMAGE"
  the kubectl's own (KUBECONFIG, …)
EOF
}

workers="" image="" name="" namespace="" service_account=default cpu=2 memory=8Gi parallelism="" retries=3 timeout=86400 print=false
while (( $# > 0 )); do
  case $1 in
    --workers) dp_need_value "$@"; workers=$2; shift 2 ;;
    --image) dp_need_value "$@"; image=$2; shift 2 ;;
    --name) dp_need_value "$@"; name=$2; shift 2 ;;
    --namespace) dp_need_value "$@"; namespace=$2; shift 2 ;;
    --service-account) dp_need_value "$@"; service_account=$2; shift 2 ;;
    --cpu) dp_need_value "$@"; cpu=$2; shift 2 ;;
    --memory) dp_need_value "$@"; memory=$2; shift 2 ;;
    --parallelism) dp_need_value "$@"; parallelism=$2; shift 2 ;;
    --retries) dp_need_value "$@"; retries=$2; shift 2 ;;
    --timeout) dp_need_value "$@"; timeout=$2; shift 2 ;;
    --print) print=true; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; break ;;
    *) dp_usage_error "unknown option '$1' (the convert arguments go after '--')" ;;
  esac
done
[[ -n $workers ]] || dp_usage_error "--workers N is required"
[[ -n $image ]] || dp_usage_error "--image IMAGE is required"
[[ -z $parallelism || $parallelism =~ ^[1-9][0-9]*$ ]] || dp_usage_error "--parallelism '$parallelism': expected a whole number of at least 1"
[[ $retries =~ ^[0-9]+$ ]] || dp_usage_error "--retries '$retries': expected a whole number"
[[ $timeout =~ ^[1-9][0-9]*$ ]] || dp_usage_error "--timeout '$timeout': expected seconds, a whole number"
name=${name:-$(dp_default_name)}
dp_check_name "$name"
dp_check_convert_args "$@"
dp_steps "$workers" "$@"

kubectl_ns=(kubectl)
[[ -z $namespace ]] || kubectl_ns+=(--namespace "$namespace")
template=$(<"$here/job.yaml")

# render STEP TASKS CONVERT_ARGS...: the step's Job. Every placeholder becomes a JSON value; ARGS goes in last so
# that an argument such as '${X}' is not taken for a placeholder left unfilled.
render() {
  local step=$1 tasks=$2
  shift 2
  local job=$template
  fill() {
    local placeholder="\${$1}"
    job=${job//"$placeholder"/"$2"}
  }
  fill JOB_NAME "$(dp_json "$name-$step")"
  fill RUN_NAME "$(dp_json "$name")"
  fill STEP "$(dp_json "$step")"
  fill TASKS "$tasks"
  fill PARALLELISM "$(( ${parallelism:-$tasks} < tasks ? ${parallelism:-$tasks} : tasks ))"
  fill RETRIES "$retries"
  fill SERVICE_ACCOUNT "$(dp_json "$service_account")"
  fill IMAGE "$(dp_json "$image")"
  fill CPU "$(dp_json "$cpu")"
  fill MEMORY "$(dp_json "$memory")"
  local others=${job//"\${ARGS}"/}
  [[ ! $others =~ \$\{[A-Z_]+\} ]] || dp_fail "job.yaml has a placeholder this script does not fill: $(grep -o '[$]{[A-Z_]*}' <<< "$others" | sort -u | tr '\n' ' ')"
  # Kubernetes expands $(VAR) in args and reads $$ as $: every $ doubled keeps the arguments as they are.
  local -a args=()
  local a
  for a in convert "$@" --workers "$workers" --step "$step"; do args+=("${a//\$/\$\$}"); done
  fill ARGS "$(dp_json_array "${args[@]}")"
  printf '%s\n' "$job"
}

# wait_for JOB STEP: returns when the Job has completed; fails when it has failed or the timeout has passed.
wait_for() {
  local job=$1 step=$2 deadline=$((SECONDS + timeout)) failed
  while :; do
    # Short waits, so a failed Job is noticed without waiting out the timeout (`kubectl wait` watches one condition).
    if "${kubectl_ns[@]}" wait --for=condition=complete "job/$job" --timeout="$(( deadline - SECONDS < 60 ? deadline - SECONDS : 60 ))s" >/dev/null 2>&1; then
      return 0
    fi
    failed=$("${kubectl_ns[@]}" get "job/$job" -o 'jsonpath={range .status.conditions[?(@.type=="Failed")]}{.status} {.reason}: {.message}{end}')
    if [[ $failed == True* ]]; then
      dp_fail "step $step failed (job/$job: ${failed#True }); its pods' logs: kubectl logs${namespace:+ --namespace $namespace} -l dataprep/run=$name,dataprep/step=$step"
    fi
    (( SECONDS < deadline )) || dp_fail "step $step (job/$job) did not complete within $timeout s; it is still there: kubectl get${namespace:+ --namespace $namespace} job/$job"
  done
}

for i in "${!STEP_NAMES[@]}"; do
  step=${STEP_NAMES[i]}
  if $print; then
    (( i == 0 )) || echo ---
    render "$step" "${STEP_TASKS[i]}" "$@"
    continue
  fi
  job=$(render "$step" "${STEP_TASKS[i]}" "$@")
  "${kubectl_ns[@]}" apply -f - <<< "$job" >&2
  wait_for "$name-$step" "$step"
  echo "$step $name-$step"
done
