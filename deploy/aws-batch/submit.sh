#!/usr/bin/env bash
# Runs `dataprep convert` on AWS Batch, one job per step of the run. A step of TASKS > 1 tasks is an array job of
# that size (each child's task is its AWS_BATCH_JOB_ARRAY_INDEX), a step of one task a plain job; each job depends
# on the whole job of the step before, so a step starts when every task of the previous one has succeeded, and
# fails when one of them has failed.
set -euo pipefail
# shellcheck source=../steps.sh
source "$(dirname "${BASH_SOURCE[0]}")/../steps.sh"

usage() {
  cat <<'EOF'
Usage: submit.sh --workers N --queue QUEUE [options] -- INPUT... --out s3://BUCKET/PREFIX/ [convert options]

Submits one AWS Batch job per step of `dataprep convert … --workers N` (the steps come from
`dataprep convert … --workers N --steps`) and prints one "STEP JOB_ID" line per job, in run order.

  --workers N             tasks of the parallel steps (required)
  --queue QUEUE           the Batch job queue (required)
  --job-definition DEF    the registered job definition, NAME or NAME:REVISION (default: dataprep)
  --name NAME             run name, the prefix of the job names (default: dataprep-YYYYMMDD-HHMMSS, UTC)
  --wait                  then follow the jobs step by step; exit 1 when one fails
  --poll-seconds S        --wait: seconds between status checks (default 30)

Environment:
  DATAPREP   the command that prints the steps (default: dataprep); the image works too:
             DATAPREP="docker run --rm ACCOUNT.dkr.ecr.REGION.amazonaws.com/dataprep:TAG"
  the aws CLI's own (AWS_PROFILE, AWS_REGION, …)
EOF
}

workers="" queue="" definition=dataprep name="" wait=false poll=30
while (( $# > 0 )); do
  case $1 in
    --workers) dp_need_value "$@"; workers=$2; shift 2 ;;
    --queue) dp_need_value "$@"; queue=$2; shift 2 ;;
    --job-definition) dp_need_value "$@"; definition=$2; shift 2 ;;
    --name) dp_need_value "$@"; name=$2; shift 2 ;;
    --wait) wait=true; shift ;;
    --poll-seconds) dp_need_value "$@"; poll=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    --) shift; break ;;
    *) dp_usage_error "unknown option '$1' (the convert arguments go after '--')" ;;
  esac
done
[[ -n $workers ]] || dp_usage_error "--workers N is required"
[[ -n $queue ]] || dp_usage_error "--queue QUEUE is required"
[[ $poll =~ ^[0-9]+$ ]] || dp_usage_error "--poll-seconds '$poll': expected a whole number"
name=${name:-$(dp_default_name)}
dp_check_name "$name"
dp_check_convert_args "$@"
dp_steps "$workers" "$@"

job_ids=()
for i in "${!STEP_NAMES[@]}"; do
  step=${STEP_NAMES[i]}
  tasks=${STEP_TASKS[i]}
  (( tasks <= 10000 )) || dp_fail "step $step has $tasks tasks; a Batch array job holds at most 10000"
  request="{\"jobName\":$(dp_json "$name-$step"),\"jobQueue\":$(dp_json "$queue"),\"jobDefinition\":$(dp_json "$definition")"
  if (( tasks > 1 )); then
    request+=",\"arrayProperties\":{\"size\":$tasks}"
  fi
  if (( i > 0 )); then
    # No "type": the dependency is on the whole previous job, every child of it (N_TO_N would pair child k with
    # child k, which the steps do not promise).
    request+=",\"dependsOn\":[{\"jobId\":$(dp_json "${job_ids[i - 1]}")}]"
  fi
  request+=",\"containerOverrides\":{\"command\":$(dp_json_array convert "$@" --workers "$workers" --step "$step")}"
  request+=",\"tags\":{\"dataprep-run\":$(dp_json "$name"),\"dataprep-step\":$(dp_json "$step")}}"
  job_id=$(aws batch submit-job --cli-input-json "$request" --query jobId --output text)
  [[ -n $job_id && $job_id != None ]] || dp_fail "submit-job returned no job id for step $step"
  job_ids+=("$job_id")
  echo "$step $job_id"
done

$wait || exit 0
for i in "${!STEP_NAMES[@]}"; do
  step=${STEP_NAMES[i]}
  while :; do
    described=$(aws batch describe-jobs --jobs "${job_ids[i]}" --query 'jobs[0].[status,statusReason]' --output text)
    read -r status reason <<< "$described"
    case $status in
      SUCCEEDED) echo "${0##*/}: step $step succeeded" >&2; break ;;
      FAILED) dp_fail "step $step (job ${job_ids[i]}) failed: $reason" ;;
      *) sleep "$poll" ;;
    esac
  done
done
