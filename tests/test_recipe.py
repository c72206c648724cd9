"""The recipe scripts: self-documenting options, strict parsing, and stages 0-4 end to end (tiny)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")


def _recipe(*args, cwd=ROOT):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run([str(ROOT / "recipes" / "mirror" / "run.sh"), *map(str, args)], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=600)


def test_help_lists_every_option_with_the_task_defaults():
    res = _recipe("--help")
    assert res.returncode == 0
    for opt in ("--stage", "--stop-stage", "--conf", "--exp", "--sets", "--n-test", "--device", "--ablations"):
        assert opt in res.stdout
    assert "mirror/test_iid mirror/test_ood_length" in res.stdout  # run.sh's own values
    assert "7 ablations" in res.stdout


@pytest.mark.parametrize("recipe", ["state_tracking", "cores", "analysis"])
def test_recipes_that_cd_to_their_folder_parse_options_from_anywhere(recipe):
    """These scripts cd to their own folder before parsing: called by a relative path from the
    repository root they still find their option block (they once read it from $0, a path that no
    longer existed after the cd)."""
    run = lambda *a: subprocess.run([f"recipes/{recipe}/run.sh", *a], capture_output=True,  # noqa: E731
                                    text=True, cwd=ROOT, timeout=60)
    res = run("--help")
    assert res.returncode == 0 and "--stage " in res.stdout and res.stderr == "", res.stderr
    res = run("--no-such-option", "1")
    assert res.returncode == 2 and "unknown option --no-such-option" in res.stderr
    if recipe == "state_tracking":  # tasks and variants are YAML files: an unknown one is named, with the known
        res = run("--variants", "eig2")
        assert res.returncode == 2 and "unknown variant eig2 (eig01 eig11 ssd_only_eig01 ssd_only_eig11)" in res.stderr
        res = run("--tasks", "parity")
        assert res.returncode == 2 and "unknown task parity (binary_addition count" in res.stderr


def test_unknown_option_is_a_usage_error():
    res = _recipe("--stagee", "3")
    assert res.returncode == 2 and "unknown option --stagee" in res.stderr


def test_stages_0_to_4_end_to_end(tmp_path):
    conf = tmp_path / "tiny.yaml"  # layered on the recipe's default: --conf takes several files, in order
    conf.write_text("train: {steps: 4, val_every: 2, val_n: 2, batch_size: 2}\n")
    args = ["--conf", f"{ROOT / 'recipes/mirror/conf/train_cpu.yaml'} {conf}", "--exp", tmp_path / "exp",
            "--data", tmp_path / "data", "--n-test", 3]
    res = _recipe(*args)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "Stage 4: report" in res.stderr
    exp = tmp_path / "exp_seed0"
    for s in ("test_iid", "test_ood_length", "test_ood_symbol"):
        assert (exp / f"score_mirror_{s}" / "summary.json").exists()
        assert (exp / "log" / f"decode_mirror_{s}.log").read_text().rstrip().endswith("rc=0")
    assert (exp / "run.json").exists() and "| mirror" in (exp / "RESULTS.md").read_text()
    used = (exp / "config.yaml").read_text()
    assert "steps: 4" in used and "iid_levels:\n    - 3\n    - 5" in used  # both files took effect
    book = (tmp_path / "exp_RESULTS.md").read_text()
    assert book.startswith("## Environment") and "| mirror/test_iid | 3 |" in book  # the seeds' book
    assert _recipe(*args, "--stage", 2).returncode == 0  # a rerun keeps what is done
    ft = _recipe(*args[:2], "--exp", tmp_path / "ft", *args[4:], "--stage", 1, "--stop-stage", 1,
                 "--init", f"{tmp_path}/exp_seedJOB/best.pt")  # --init: seed N fine-tuned from seed N
    assert ft.returncode == 0, ft.stderr[-2000:]
    assert f"init: {tmp_path}/exp_seed0/best.pt" in (tmp_path / "ft_seed0" / "config.yaml").read_text()
    res = _recipe(*args, "--stage", 8, "--stop-stage", 8, "--snrs", 10)
    assert res.returncode == 0, res.stderr[-2000:]
    book = (tmp_path / "exp_RESULTS.md").read_text()
    assert "mirror/test_iid @ snr10" in book and "@ independent" in book and "@ reverb" in book
    assert (exp / "plots" / "accuracy_vs_snr.png").exists()
    other = _recipe(*args, "--seed", 8, "--stop-stage", 0)  # another seed into the same --data: refused
    assert other.returncode == 1 and "seed 7 -> 8" in other.stderr


JOB_SH = ROOT / "recipes" / "utils" / "job.sh"


def test_job_array_runs_every_id_locally_into_its_own_log(tmp_path):
    res = subprocess.run([str(JOB_SH), "JOB=0,2", "log/seedJOB.log", "sh", "-c", "echo 'id JOB'; exit JOB"],
                         cwd=tmp_path, capture_output=True, text=True)
    assert res.returncode == 2  # the first failing id's code; every id ran
    assert "id 0" in (tmp_path / "log" / "seed0.log").read_text()
    assert (tmp_path / "log" / "seed2.log").read_text().rstrip().endswith("rc=2")
    assert not (tmp_path / "log" / "seed1.log").exists()
    res = subprocess.run([str(JOB_SH), "JOB=1:3", "l/JOB.log", "true"], cwd=tmp_path, capture_output=True, text=True)
    assert res.returncode == 0 and sorted(p.name for p in (tmp_path / "l").iterdir()) == ["1.log", "2.log", "3.log"]
    res = subprocess.run([str(JOB_SH), "JOB=a-b", "l/x.log", "true"], cwd=tmp_path, capture_output=True, text=True)
    assert res.returncode == 2 and "expected ids like 0,1,2" in res.stderr


def test_job_array_under_slurm_is_one_sbatch_array(tmp_path):
    # Slurm is not installed here: a stand-in `sbatch` records its options and runs the generated batch
    # script once per array id, as Slurm would (what is tested is the script job.sh writes)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "sbatch").write_text(
        '#!/usr/bin/env bash\necho "$@" > "$SBATCH_ARGS"\nfor a in "$@"; do case $a in --array=*) ids=${a#--array=};; esac; done\n'
        'script=${@: -1}; rc=0\nfor id in ${ids//,/ }; do SLURM_ARRAY_TASK_ID=$id SLURM_ARRAY_JOB_ID=42 bash "$script" || rc=$?; done\n'
        'exit $rc\n')
    (bin_dir / "sbatch").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "SBATCH_ARGS": str(tmp_path / "args")}
    res = subprocess.run([str(JOB_SH), "--slurm", "--gres=gpu:1", "--time=04:00:00", "JOB=0,2", "exp/r_seedJOB/train.log",
                          "sh", "-c", "echo \"seed JOB, words with spaces\"", "ignored"],
                         cwd=tmp_path, capture_output=True, text=True, env=env)
    assert res.returncode == 0, res.stderr
    args = (tmp_path / "args").read_text().split()
    assert "--wait" in args and "--array=0,2" in args and "--gres=gpu:1" in args and "--time=04:00:00" in args
    for seed in (0, 2):
        text = (tmp_path / f"exp/r_seed{seed}/train.log").read_text()
        assert f"seed {seed}, words with spaces" in text and "array job 42" in text and text.rstrip().endswith("rc=0")


RECIPE_CONFIGS = sorted(p for p in (ROOT / "recipes").glob("*/conf/**/*.yaml")) + \
    sorted((ROOT / "recipes" / "conf").glob("**/*.yaml"))


@pytest.mark.parametrize("path", RECIPE_CONFIGS, ids=lambda p: str(p.relative_to(ROOT / "recipes")))
def test_every_shipped_config_loads_and_builds_its_model(path):
    """A config that fails only when its hour-long job starts is a defect of ours: each one
    (includes resolved, every key checked) must give a model that can be built."""
    from jericho_cli.config import load_config, model_config
    from jericho_cli.model.mini_jmamba import MiniJMamba

    cfg = load_config([str(path)], [])
    model = MiniJMamba(model_config(cfg["model"], str(path)))
    assert sum(p.numel() for p in model.parameters()) > 0


def test_robust_set_names_map_to_the_synth_options_that_make_them():
    names = ["robust_snr10", "robust_reverb", "robust_independent", "robust_carrier", "robust_speech_heldout",
             "robust_speech_heldout_snr10", "robust_speech_heldout_ood_length", "robust_pulse_equal_count",
             "robust_nonsense"]
    script = f". {ROOT / 'recipes/utils/robust_sets.sh'}; for n in {' '.join(names)}; do echo \"$(robust_args $n)\"; done"
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60).stdout.splitlines()
    assert out == ["--snr-db 10", "--reverb 0.3", "--domain tone_independent", "--domain carrier",
                   "--domain speech_heldout", "--domain speech_heldout --snr-db 10",
                   "--split test_ood_length --domain speech_heldout", "--split diag_equal_count --domain pulse", ""]


def test_robust_len4x_is_mirror_test_ood_length_at_four_times_the_trained_lengths(tmp_path):
    script = (f". {ROOT / 'recipes/utils/robust_sets.sh'}; jericho synth --task mirror --split test_iid --n 4 "
              f"--seed 7 --config {ROOT / 'recipes/mirror/conf/train_cpu.yaml'} --quiet --out {tmp_path / 'd'} "
              "$(robust_args robust_len4x)")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    res = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=120, env=env)
    assert res.returncode == 0, res.stderr
    rows = [json.loads(line) for line in (tmp_path / "d/manifest.jsonl").read_text().splitlines()]
    assert {r["split"] for r in rows} == {"test_ood_length"}
    assert all(11 <= len(r["input"]) <= 20 for r in rows)


def test_transfer_recipe_end_to_end_for_mod_names_runs_by_task(tmp_path):
    """recipes/transfer with --task mod (tiny, two domains, one seed): scratch, short and fine-tuned
    runs named mod_<run>_seed<N> (beside Mirror's unprefixed runs in outputs/transfer/), each fine-tune
    initialised from the other domain's scratch model, and the transfer tables read them back."""
    conf = tmp_path / "tiny.yaml"
    conf.write_text(f"include: {ROOT / 'recipes/transfer/conf/train_cpu_mod.yaml'}\n"
                    "train: {steps: 4, val_every: 2, val_n: 2, batch_size: 2}\n")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    exp = tmp_path / "exp"
    res = subprocess.run([str(ROOT / "recipes/transfer/run.sh"), "--task", "mod", "--conf", conf, "--exp", exp,
                          "--data", tmp_path / "data", "--domains", "tone pulse", "--seeds", "0",
                          "--ft-steps", "2", "--n-test", "3"], capture_output=True, text=True, env=env, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    runs = sorted(p.name for p in exp.iterdir() if p.is_dir())
    assert runs == ["mod_pulse2tone_seed0", "mod_pulse_seed0", "mod_pulse_short_seed0", "mod_tone2pulse_seed0",
                    "mod_tone_seed0", "mod_tone_short_seed0"]
    assert f"init: {exp}/mod_tone_seed0/best.pt" in (exp / "mod_tone2pulse_seed0/config.yaml").read_text()
    assert (exp / "mod_tone_seed0/score_mod_robust_pulse/summary.json").exists()
    assert (exp / "mod_tone_seed0/score_mod_robust_snr10/summary.json").exists()  # in-domain, also at 10 dB
    assert not (exp / "mod_tone_short_seed0/score_mod_robust_pulse").exists()  # _short: its own domain only
    tables = (exp / "TRANSFER.md").read_text()
    assert "| fine-tuned from tone |" in tables and "| tone2pulse |" in tables and "not run" not in tables
