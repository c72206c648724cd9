# Kaldi-style option parsing, sourced by a script after its option block: `--stop-stage 3 --exp exp/x`
# sets stop_stage=3 exp=exp/x for variables the block defines; an unknown option is an error (exit 2).
# --help prints every option of the block with its current value (the caller's defaults included)
# and comment.
# A script that cds to its own folder before sourcing this finds itself there, whatever its $0 was.
_self=$0; [ -r "$_self" ] || _self=./$(basename "$0")
_options_block() { sed -n '/^# ---- options/,/^# ---- end of options/p' "$_self" | grep -E '^[a-z_]+='; }
while [ $# -gt 0 ]; do
  case "$1" in
    --help|-h)
      echo "usage: $(basename "$(dirname "$0")")/$(basename "$0") [--<option> <value>] ..."
      sed -n '2,/^set -e/p' "$_self" | grep '^#' | sed 's/^# \{0,1\}//'
      echo "options (current value, meaning):"
      _options_block | while IFS= read -r line; do
        name=${line%%=*}; comment=${line#*#}; [ "$comment" = "$line" ] && comment=""
        printf '  --%-12s %-28s %s\n' "${name//_/-}" "${!name:-\"\"}" "${comment# }"
      done
      exit 0 ;;
    --*=*) name=${1%%=*}; value=${1#*=}; shift ;;
    --*) name=$1; [ $# -ge 2 ] || { echo "$0: option $1 needs a value" >&2; exit 2; }; value=$2; shift 2 ;;
    *) echo "$0: unexpected argument $1 (options are --name value)" >&2; exit 2 ;;
  esac
  name=${name#--}; name=${name//-/_}
  if ! _options_block | grep -q "^$name="; then echo "$0: unknown option --${name//_/-} (see --help)" >&2; exit 2; fi
  printf -v "$name" '%s' "$value"
done
