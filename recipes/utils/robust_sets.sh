# Sourced by recipe.sh and examples/make_examples.sh: the robust variants of test_iid by name.
#   robust_args robust_snr10 -> the synth options that make it (with --split test_iid); other names: fail
# $reverb (recipe.sh's option) sets the RT60 of robust_reverb; 0.3 s when unset.
robust_args() {
  case $1 in
    robust_snr*) echo "--snr-db ${1#robust_snr}" ;;
    robust_reverb) echo "--reverb ${reverb:-0.3}" ;;
    robust_independent) echo "--domain tone_independent" ;;
    *) return 1 ;;
  esac
}
