# shellcheck shell=bash
# What the engine scripts (aws-batch/submit.sh, kubernetes/run.sh, sagemaker/run.sh) share: the steps of a run,
# asked from dataprep itself, and the JSON they hand to the engines. Sourced, not run.
#
# The steps and their task counts are dataprep's to decide (`convert ARGS --workers N --steps`, one `STEP TASKS`
# line each); no script here knows their names. DATAPREP is the command that answers: a local binary (the
# default, `dataprep` on PATH) or the image itself, e.g. DATAPREP="docker run --rm 123456789012.dkr.ecr.…/dataprep:1".
# It only parses the options: it reads no input and needs no credentials.

dp_fail() {
  echo "${0##*/}: $*" >&2
  exit 1
}

# dp_usage_error MESSAGE: a wrong command line (exit 2, as dataprep's own).
dp_usage_error() {
  echo "${0##*/}: $*" >&2
  echo "See '${0##*/} --help'." >&2
  exit 2
}

# dp_need_value "$@": the option in $1 has a value in $2.
dp_need_value() {
  (( $# >= 2 )) || dp_usage_error "$1 needs a value"
}

# dp_check_convert_args ARGS...: the convert arguments must leave the scale-out options to the script, which adds
# --workers N and --step STEP itself (and the engine supplies each task's index).
dp_check_convert_args() {
  (( $# > 0 )) || dp_usage_error "no convert arguments after '--' (INPUT... --out s3://… and the convert options)"
  local a
  for a in "$@"; do
    case $a in
      --workers|--workers=*|--worker|--worker=*|--step|--step=*|--steps)
        dp_usage_error "'$a' is the script's to set: give the worker count as --workers before '--'" ;;
    esac
  done
}

# dp_check_name NAME: a run name usable in every engine's job names (Kubernetes: a DNS label, with room for the
# step and a pod index).
dp_check_name() {
  [[ $1 =~ ^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$ ]] \
    || dp_usage_error "run name '$1': expected 1-40 lowercase letters, digits or '-', starting and ending with a letter or digit"
}

dp_default_name() {
  date -u +dataprep-%Y%m%d-%H%M%S
}

# dp_steps WORKERS ARGS...: runs `$DATAPREP convert ARGS --workers WORKERS --steps` and sets STEP_NAMES and
# STEP_TASKS (parallel arrays, in run order).
dp_steps() {
  local workers=$1
  shift
  [[ $workers =~ ^[1-9][0-9]*$ ]] || dp_usage_error "--workers '$workers': expected a whole number of at least 1"
  local -a cmd
  read -r -a cmd <<< "${DATAPREP:-dataprep}"
  local out
  out=$("${cmd[@]}" convert "$@" --workers "$workers" --steps) \
    || dp_fail "'${cmd[*]} convert … --workers $workers --steps' failed (its message is above)"
  STEP_NAMES=()
  STEP_TASKS=()
  local line
  while IFS= read -r line; do
    [[ $line =~ ^([a-z][a-z0-9-]*)\ ([1-9][0-9]*)$ ]] \
      || dp_fail "--steps printed '$line', expected 'STEP TASKS' (a lowercase name and a count)"
    STEP_NAMES+=("${BASH_REMATCH[1]}")
    STEP_TASKS+=("${BASH_REMATCH[2]}")
  done <<< "$out"
  (( ${#STEP_NAMES[@]} > 0 )) || dp_fail "--steps printed no steps"
}

# dp_json STRING: STRING as a JSON string.
dp_json() {
  local s=$1
  [[ $s != *[$'\001'-$'\010\013\014\016'-$'\037']* ]] || dp_fail "an argument holds a control character: $(printf '%q' "$s")"
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\t'/\\t}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/\\r}
  printf '"%s"' "$s"
}

# dp_json_array STRING...: the strings as a JSON array (a YAML flow sequence too).
dp_json_array() {
  local out="[" sep="" a
  for a in "$@"; do
    out+=$sep$(dp_json "$a")
    sep=","
  done
  printf '%s]' "$out"
}
