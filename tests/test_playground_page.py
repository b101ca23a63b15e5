"""/playground in AppTest (#19): train two families quickly, see the replay, the table, the maps;
bad data gets clear messages."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

from genlab_ui import jobs
from tests.test_app import component_data

ROOT = Path(__file__).resolve().parents[1]


def page(**state) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "playground.py"), default_timeout=120)
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def test_train_two_families_then_replay_table_and_maps():
    at = page(**{"pg.families": ["gan-qp", "diffusion"], "pg.length": "quick (½×)", "pg.data": "8gaussians"})
    assert not at.exception
    at.button(key="pg.train").click().run()
    jobs.wait_all()
    at.run()
    assert not at.exception, at.exception
    assert "Training, replayed" in [s.value for s in at.subheader]
    table = at.dataframe[0].value
    assert list(table["model"][:2]) == ["GAN-QP", "Diffusion"]
    assert (table["energy distance"][:2] > 0).all()
    assert len(table) == 2 and (table["× Gaussian reference"] < 1).all()
    assert any("scores" in c.value and "(1×)" in c.value for c in at.caption)
    # the replay: every family's frames, from step 0 to its last, under one slider
    replay = component_data(at, "toy_panels")["panels"]
    assert [p["frames"]["label"] for p in replay] == ["GAN-QP", "Diffusion"]
    for p in replay:
        steps = p["frames"]["steps"]
        assert steps[0] == 0 and steps[-1] == p["frames"]["total"] and steps == sorted(steps)
        assert len(p["frames"]["x"]) == len(steps) and len(p["frames"]["x"][-1]) == 400
        assert p["loss"] and len(p["loss"]["x"]) == len(p["loss"]["y"]) > 10
    # another control's rerun draws the same figures without computing them again
    kept = dict(at.session_state["pg.memo"]["items"])
    at.radio(key="pg.data").set_value("moons").run()
    assert not at.exception and "Below: your last run" in " ".join(c.value for c in at.caption)
    assert all(at.session_state["pg.memo"]["items"][k] is v for k, v in kept.items())
    # the GAN's hand stepping moves the step count; the diffusion's noise level redraws its paths
    before = at.session_state["pg.own"]["gan-qp"].step
    at.button(key="pg.gan-qp.G step").click().run()
    assert at.session_state["pg.own"]["gan-qp"].step == before + 1
    at.slider(key="pg.noise").set_value(1.0).run()
    assert not at.exception


def test_too_few_drawn_points_and_a_bad_csv_get_clear_messages():
    at = page(**{"pg.data": "draw", "pg.drawn": [[[0.0, 0.0]] * 30]})
    assert not at.exception
    assert any("At least 100 points" in i.value and "70 more" in i.value for i in at.info)
    assert not [b for b in at.button if b.key == "pg.train"]


def test_no_family_chosen_says_so():
    at = page(**{"pg.families": []})
    assert not at.exception
    assert any("at least one family" in i.value for i in at.info)


def test_more_families_than_a_run_takes_says_how_many_to_unpick():
    at = page(**{"pg.families": ["vae", "gan", "wgan-gp", "gan-qp", "flow"]})
    assert not at.exception
    assert any("At most 4 families" in i.value and "unpick 1" in i.value for i in at.info)
    assert not [b for b in at.button if b.key == "pg.train"]
