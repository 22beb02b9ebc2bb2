#!/usr/bin/env bash
# Runs `dataprep convert` as SageMaker Processing jobs: one job per step of the run, on TASKS instances (each
# instance's task is its place among the job's hosts, which dataprep reads from /opt/ml/config/resourceconfig.json),
# created when the step before has completed. Stops at the first step that fails.
set -euo pipefail
# shellcheck source=../steps.sh
source "$(dirname "${BASH_SOURCE[0]}")/../steps.sh"

usage() {
  cat <<'EOF'
Usage: run.sh --workers N --image IMAGE --role ROLE_ARN [options] -- INPUT... --out s3://BUCKET/PREFIX/ [convert options]

Creates one SageMaker Processing job per step of `dataprep convert … --workers N` (the steps come from
`dataprep convert … --workers N --steps`) and waits for each to complete before the next.
Prints one "STEP JOB_NAME" line per job once it has completed.

  --workers N              tasks of the parallel steps, that many instances (required)
  --image IMAGE            the dataprep image in ECR (required)
  --role ROLE_ARN          the role the jobs run as, the one allowed to use the buckets (required)
  --instance-type TYPE     (default: ml.m5.xlarge)
  --volume-gb GB           storage volume per instance (default: 30)
  --max-runtime SECONDS    longest run of one step (default: 86400)
  --name NAME              run name, the prefix of the job names (default: dataprep-YYYYMMDD-HHMMSS, UTC)

Environment:
  DATAPREP   the command that prints the steps (default: dataprep); the image works too:
             DATAPREP="docker run --rm IMAGE"
  the aws CLI's own (AWS_PROFILE, AWS_REGION, …)
EOF
}

workers="" image="" role="" instance_type=ml.m5.xlarge volume_gb=30 max_runtime=86400 name=""
while (( $# > 0 )); do
  case $1 in
    --workers) dp_need_value "$@"; workers=$2; shift 2 ;;
    --image) dp_need_value "$@"; image=$2; shift 2 ;;
    --role) dp_need_value "$@"; role=$2; shift 2 ;;
    --instance-type) dp_need_value "$@"; instance_type=$2; shift 2 ;;
    --volume-gb) dp_need_value "$@"; volume_gb=$2; shift 2 ;;
    --max-runtime) dp_need_value "$@"; max_runtime=$2; shift 2 ;;
    --name) dp_need_value "$@"; name=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    --) shift; break ;;
    *) dp_usage_error "unknown option '$1' (the convert arguments go after '--')" ;;
  esac
done
[[ -n $workers ]] || dp_usage_error "--workers N is required"
[[ -n $image ]] || dp_usage_error "--image IMAGE is required"
[[ -n $role ]] || dp_usage_error "--role ROLE_ARN is required"
[[ $volume_gb =~ ^[1-9][0-9]*$ ]] || dp_usage_error "--volume-gb '$volume_gb': expected a whole number"
[[ $max_runtime =~ ^[1-9][0-9]*$ ]] || dp_usage_error "--max-runtime '$max_runtime': expected seconds, a whole number"
name=${name:-$(dp_default_name)}
dp_check_name "$name"
dp_check_convert_args "$@"
dp_steps "$workers" "$@"

for i in "${!STEP_NAMES[@]}"; do
  step=${STEP_NAMES[i]}
  job=$name-$step
  request="{\"ProcessingJobName\":$(dp_json "$job"),\"RoleArn\":$(dp_json "$role")"
  request+=",\"AppSpecification\":{\"ImageUri\":$(dp_json "$image"),\"ContainerEntrypoint\":$(dp_json_array dataprep convert "$@" --workers "$workers" --step "$step")}"
  request+=",\"ProcessingResources\":{\"ClusterConfig\":{\"InstanceCount\":${STEP_TASKS[i]},\"InstanceType\":$(dp_json "$instance_type"),\"VolumeSizeInGB\":$volume_gb}}"
  request+=",\"StoppingCondition\":{\"MaxRuntimeInSeconds\":$max_runtime}"
  request+=",\"Tags\":[{\"Key\":\"dataprep-run\",\"Value\":$(dp_json "$name")},{\"Key\":\"dataprep-step\",\"Value\":$(dp_json "$step")}]}"
  aws sagemaker create-processing-job --cli-input-json "$request" >/dev/null
  echo "${0##*/}: step $step: processing job $job created (instances: ${STEP_TASKS[i]})" >&2
  while :; do
    # The waiter gives up after an hour (and fails at once on a failed job): the status decides.
    aws sagemaker wait processing-job-completed-or-stopped --processing-job-name "$job" 2>/dev/null || true
    described=$(aws sagemaker describe-processing-job --processing-job-name "$job" --query '[ProcessingJobStatus,FailureReason]' --output text)
    read -r status reason <<< "$described"
    case $status in
      Completed) break ;;
      Failed|Stopped) dp_fail "step $step: processing job $job is $status: $reason (logs: CloudWatch group /aws/sagemaker/ProcessingJobs, streams $job/…)" ;;
    esac
  done
  echo "$step $job"
done
