"""Forms of the analysts' pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    FloatField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    widgets,
)
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional

from app.forms import BaseForm
from app.results.models import WeightingMethod


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class SchemeForm(BaseForm):
    name = StringField(_l("Name"), validators=[DataRequired()],
                       description=_l("Lower-case letters, digits, - and _, for example "
                                      "pt-age-education."))
    geography = SelectField(_l("Country of the benchmark"), choices=[],
                            validators=[DataRequired()])
    variables = CheckboxesField(_l("Weight to these population margins"), choices=[],
                                validators=[DataRequired(_l("Choose at least one variable."))])
    method = RadioField(_l("Method"), default=WeightingMethod.RAKE.value, choices=[
        (WeightingMethod.RAKE.value, _l("Raking (iterative proportional fitting)")),
        (WeightingMethod.POSTSTRATIFY.value, _l("Post-stratification (one variable)"))])
    lower = FloatField(_l("Lowest weight, times the mean weight"), validators=[Optional()],
                       description=_l("For example 0.3. Leave both bounds empty for no "
                                      "trimming."))
    upper = FloatField(_l("Highest weight, times the mean weight"), validators=[Optional()],
                       description=_l("For example 3 or 5."))
    tolerance = FloatField(_l("Convergence tolerance"), default=1e-6,
                           validators=[InputRequired()])
    max_iterations = IntegerField(_l("Iteration limit"), default=100,
                                  validators=[InputRequired(), NumberRange(1, 10_000)])


class ExportForm(BaseForm):
    format = SelectField(_l("Format"), validators=[InputRequired()], choices=[
        ("csv", _l("CSV (UTF-8, for spreadsheets)")), ("xlsx", _l("Excel workbook (.xlsx)")),
        ("sav", _l("SPSS (.sav)")), ("dta", _l("Stata (.dta)")), ("parquet", _l("Parquet")),
        ("r", _l("R (CSV and labelling script, zipped)"))])
    language = SelectField(_l("Language of labels"), choices=[],
                           validators=[InputRequired()])
    scheme = SelectField(_l("Weight column"), choices=[], validators=[Optional()])
    version = SelectField(_l("Survey version"), choices=[], validators=[InputRequired()])
