# Sourced by recipe.sh and examples/make_examples.sh: the robust variants of test_iid by name.
#   robust_args robust_snr10 -> the synth options that make it (with --split test_iid); other names: fail
#   robust_<domain> (pulse, carrier, speech_heldout, ...): test_iid in that signal domain;
#   robust_<domain>_snrN: the same with noise at N dB
#   robust_<domain>_ood_length, robust_<domain>_equal_count: test_ood_length / diag_equal_count in that
#     domain (their --split replaces recipe.sh's --split test_iid, as robust_len4x's)
#   robust_len4x: Mirror's test_ood_length at 4x the default's lengths (11-20; mirror/conf/data_4x.yaml):
#     its --split comes after recipe.sh's --split test_iid and replaces it
# $reverb (recipe.sh's option) sets the RT60 of robust_reverb; 0.3 s when unset.
robust_args() {
  case $1 in
    robust_snr*) echo "--snr-db ${1#robust_snr}" ;;
    robust_reverb) echo "--reverb ${reverb:-0.3}" ;;
    robust_independent) echo "--domain tone_independent" ;;
    robust_len4x) echo "--split test_ood_length --config $(dirname "${BASH_SOURCE[0]}")/../mirror/conf/data_4x.yaml" ;;
    robust_*_ood_length) local d=${1#robust_}; echo "--split test_ood_length --domain ${d%_ood_length}" ;;
    robust_*_equal_count) local d=${1#robust_}; echo "--split diag_equal_count --domain ${d%_equal_count}" ;;
    robust_*_snr*) local d=${1#robust_}; echo "--domain ${d%_snr*} --snr-db ${1##*_snr}" ;;
    robust_pulse|robust_carrier|robust_speech|robust_speech_heldout) echo "--domain ${1#robust_}" ;;
    *) return 1 ;;
  esac
}
