"""Raking reproduces a published worked example exactly.

The example is the census/survey table of the raking tutorial that comes with the
Apophenia library (Ben Klemens): a survey table [[7, 9], [12, 7]] raked to census
margins of 5 and 15 for the rows and 10 and 10 for the columns.

For a 2 x 2 table the answer has a closed form. Raking only multiplies rows and columns,
so the fitted table keeps the survey's cross-product ratio (Mosteller 1968):
a (5 + a) / ((5 - a) (10 - a)) = 7 x 7 / (9 x 12), with a the top-left cell, which
gives 59 a^2 + 1275 a - 2450 = 0. Our raking, run on one respondent per cell with the
survey count as base weight, must land on that root and its table to 1e-6.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.results.statistics import rake

SURVEY = np.array([[7.0, 9.0], [12.0, 7.0]])
ROWS = [5.0, 15.0]
COLUMNS = [10.0, 10.0]


def exact_table() -> np.ndarray:
    a = (-1275 + math.sqrt(1275**2 + 4 * 59 * 2450)) / (2 * 59)
    return np.array([[a, 5 - a], [10 - a, 5 + a]])


def test_the_closed_form_is_the_fixed_point_it_claims_to_be():
    table = exact_table()
    assert table.sum(axis=1) == pytest.approx(ROWS, abs=1e-12)
    assert table.sum(axis=0) == pytest.approx(COLUMNS, abs=1e-12)
    ratio = table[0, 0] * table[1, 1] / (table[0, 1] * table[1, 0])
    assert ratio == pytest.approx(49 / 108, rel=1e-12)


def test_raking_reproduces_the_published_example():
    cells = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])  # one "respondent" per cell
    result = rake(cells, [ROWS, COLUMNS], base_weights=SURVEY.ravel(), tolerance=1e-12)
    assert result.converged
    fitted = result.weights.reshape(2, 2)
    assert np.max(np.abs(fitted - exact_table())) < 1e-6
    assert fitted.round(4).tolist() == [[1.7757, 3.2243], [8.2243, 6.7757]]
