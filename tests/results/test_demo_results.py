"""The illustrative results loaded by `flask demo load`."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.results import weighting
from app.results.demo import DEMO_SOURCE, DEMO_SURVEY, load_demo_results
from app.results.models import Benchmark
from app.surveys.models import Response
from tests.surveys.factories import open_survey


def test_demo_results_are_labelled_illustrative_and_loaded_once(app):
    open_survey(app, DEMO_SURVEY)
    with app.app_context():
        assert load_demo_results()
        db.session.commit()
        assert not load_demo_results()
        responses = db.session.scalar(select(func.count(Response.id)))
        assert 500 <= responses <= 600
        sources = set(db.session.scalars(select(Benchmark.source)))
        assert sources == {DEMO_SOURCE} and "not official" in DEMO_SOURCE
        scheme = weighting.schemes_of(weighting.surveys.get_survey(DEMO_SURVEY))[0]
        assert scheme.converged and scheme.problem is None
        assert all(DEMO_SOURCE in source for source in scheme.sources)
