"""Bad input: one line on stderr naming the file (and line) and the problem, exit 1, no output."""

import json

import numpy as np
import pytest
import soundfile as sf


@pytest.fixture
def data(tmp_path, cli):
    d = tmp_path / "data"
    assert cli("synth", "--task", "mirror", "--split", "test_iid", "--n", 4, "--out", d, "--quiet").exit_code == 0
    return d


def _hyp(tmp_path, data, damage):
    """A hypothesis manifest pointing at the reference answers, with the first wav damaged."""
    recs = [json.loads(x) for x in (data / "manifest.jsonl").read_text().splitlines()]
    hyp = tmp_path / "hyp"
    hyp.mkdir()
    lines = []
    for k, r in enumerate(recs):
        p = hyp / f"{k}.wav"
        p.write_bytes((data / r["target_audio"]).read_bytes())
        lines.append(json.dumps({"id": r["id"], "audio": f"{k}.wav"}))
    damage(hyp / "0.wav")
    (hyp / "manifest.jsonl").write_text("\n".join(lines) + "\n")
    return hyp / "manifest.jsonl"


def _one_line_error(res, *needles):
    assert res.exit_code == 1, res.output
    err = res.stderr.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    for n in needles:
        assert n in err, err


DAMAGES = {
    "missing": (lambda p: p.unlink(), "file not found"),
    "corrupt": (lambda p: p.write_bytes(b"RIFF\x00\x01garbage" * 10), "cannot decode audio"),
    "empty": (lambda p: sf.write(p, np.zeros(0, np.float32), 16000), "empty audio"),
    "rate": (lambda p: sf.write(p, np.zeros(800, np.float32), 8000), "sample rate 8000 Hz"),
    "stereo": (lambda p: sf.write(p, np.zeros((800, 2), np.float32), 16000), "2 channels"),
    "nan": (lambda p: sf.write(p, np.full(800, np.nan, np.float32), 16000, subtype="FLOAT"), "NaN"),
}


@pytest.mark.parametrize("kind", DAMAGES)
def test_bad_wav(kind, tmp_path, data, cli):
    damage, needle = DAMAGES[kind]
    hyp = _hyp(tmp_path, data, damage)
    res = cli("score", "--ref", data, "--hyp", hyp, "--out", tmp_path / "s", "--quiet")
    _one_line_error(res, "0.wav", needle)
    assert not (tmp_path / "s" / "summary.json").exists()
    # --skip-bad reports it and scores it as empty
    res = cli("score", "--ref", data, "--hyp", hyp, "--out", tmp_path / "s", "--quiet", "--skip-bad")
    assert res.exit_code == 0 and "skipped" in res.stderr
    rows = [json.loads(x) for x in (tmp_path / "s" / "scores.jsonl").read_text().splitlines()]
    assert rows[0]["error_kind"] == "unreadable" and sum(r["exact"] for r in rows) == 3


def test_resample_and_mix_are_explicit(tmp_path, data, cli):
    from jericho_cli.data.codebook import Codebook
    from jericho_cli.data.render import render
    from scipy.signal import resample_poly

    y = render(list("ABC"), Codebook.load())
    folder = tmp_path / "w"
    folder.mkdir()
    sf.write(folder / "a.wav", np.stack([resample_poly(y, 441, 160)] * 2, axis=1), 44100)
    _one_line_error(cli("score", "--wav-dir", folder, "--out", "-", "--quiet"), "a.wav", "2 channels")
    _one_line_error(cli("score", "--wav-dir", folder, "--out", "-", "--quiet", "--mix"), "a.wav", "44100")
    res = cli("score", "--wav-dir", folder, "--out", "-", "--quiet", "--resample", "--mix")
    assert res.exit_code == 0 and '"symbols": ["A", "B", "C"]' in res.stdout


def _manifest_case(tmp_path, data, edit):
    lines = (data / "manifest.jsonl").read_text().splitlines()
    lines = edit(lines)
    p = data / "edited.jsonl"
    p.write_text("\n".join(lines) + ("\n" if lines else ""))
    return p


def test_bad_json_line(tmp_path, data, cli):
    p = _manifest_case(tmp_path, data, lambda ls: ls[:2] + ['{"id": "x", '] + ls[2:])
    _one_line_error(cli("score", "--ref", p, "--out", tmp_path / "s"), "edited.jsonl:3", "bad JSON")
    assert not (tmp_path / "s").exists()


def test_missing_field(tmp_path, data, cli):
    def drop(ls):
        r = json.loads(ls[1])
        del r["target"]
        return [ls[0], json.dumps(r)] + ls[2:]
    _one_line_error(cli("score", "--ref", _manifest_case(tmp_path, data, drop), "--out", tmp_path / "s"),
                    "edited.jsonl:2", "missing field 'target'")


def test_unknown_symbol(tmp_path, data, cli):
    def bad(ls):
        r = json.loads(ls[0])
        r["target"] = ["A", "Q"]
        return [json.dumps(r)] + ls[1:]
    _one_line_error(cli("score", "--ref", _manifest_case(tmp_path, data, bad), "--out", tmp_path / "s"),
                    "edited.jsonl:1", "unknown symbol 'Q'")


def test_empty_manifest(tmp_path, data, cli):
    p = _manifest_case(tmp_path, data, lambda ls: [])
    _one_line_error(cli("score", "--ref", p, "--out", tmp_path / "s"), "edited.jsonl", "empty manifest")
    _one_line_error(cli("split", p, "--by", "ratio", "--ratios", "a=1", "--out", tmp_path / "x"), "empty manifest")


def test_missing_hypothesis_ids(tmp_path, data, cli):
    hyp = _hyp(tmp_path, data, lambda p: None)
    hyp.write_text("\n".join(hyp.read_text().splitlines()[1:]) + "\n")
    _one_line_error(cli("score", "--ref", data, "--hyp", hyp, "--out", tmp_path / "s"), "have no hypothesis")


def test_usage_errors_exit_2(cli, tmp_path):
    assert cli("synth", "--task", "mirror").exit_code == 2  # missing required options
    _one_line_error(cli("synth", "--task", "nope", "--split", "train", "--n", 1, "--out", tmp_path),
                    "unknown task 'nope'")
    _one_line_error(cli("synth", "--task", "mirror", "--split", "test_ood_compose", "--n", 1, "--out", tmp_path),
                    "no split 'test_ood_compose'")
    _one_line_error(cli("report", tmp_path / "none.json"), "summary not found")
    assert cli("probe").exit_code == 2


@pytest.mark.parametrize("conf,needle", [("NaN", "NaN is not a JSON value"), ("-0.5", "aux_confidence must be"),
                                         ('"high"', "aux_confidence must be")])
def test_a_decode_manifests_aux_confidence_is_a_probability_or_null(tmp_path, data, cli, conf, needle):
    # never averaged into a summary (a NaN there made summary.json invalid JSON; issue #35)
    hyp = _hyp(tmp_path, data, lambda p: None)
    lines = hyp.read_text().splitlines()
    first = json.loads(lines[0])
    lines[0] = json.dumps({**first, "aux_symbols": ["A"]})[:-1] + f', "aux_confidence": {conf}}}'
    hyp.write_text("\n".join(lines) + "\n")
    _one_line_error(cli("score", "--ref", data, "--hyp", hyp, "--out", tmp_path / "s"), needle)
    assert not (tmp_path / "s" / "summary.json").exists()
