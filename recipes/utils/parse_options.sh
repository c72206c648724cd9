# Kaldi-style option parsing: `--stage 2 --stop-stage 3 --exp exp/x` sets stage=2 stop_stage=3 exp=exp/x
# for every variable the calling script defined before sourcing this file.
while [ $# -gt 0 ]; do
  case "$1" in
    --help|-h) echo "usage: $0 [--<option> <value>] ...  (options: the variables at the top of $0)"; exit 0 ;;
    --*=*) name=${1%%=*}; value=${1#*=}; shift ;;
    --*) name=$1; [ $# -ge 2 ] || { echo "$0: option $1 needs a value" >&2; exit 2; }; value=$2; shift 2 ;;
    *) break ;;
  esac
  name=${name#--}; name=${name//-/_}
  if ! declare -p "$name" >/dev/null 2>&1; then echo "$0: unknown option --${name//_/-}" >&2; exit 2; fi
  printf -v "$name" '%s' "$value"
done
