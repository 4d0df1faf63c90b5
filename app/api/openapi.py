"""The OpenAPI 3.1 document of the JSON API, served at /api/openapi.json.

Written by hand as plain data so it says exactly what the views do; a test compares
the paths here with the routes of the ``api`` blueprint and fails when they differ.

Adding a path, for example ``GET /api/v1/surveys/{slug}/tables``:

1. In ``app/api/views.py`` write the view under ``@bp.get("/v1/surveys/<slug>/tables")``
   and ``@api_token_required``; read and check parameters with the helpers there
   (``_integer``, ``_survey``, ``_version``) so bad input gets a JSON 400 or 404.
2. Here, add its schema to ``SCHEMAS`` and an entry to ``PATHS`` built with
   ``operation(...)``, reusing the shared parameters (``SLUG``, ``VERSION``...). Flask's
   ``<slug>`` is written ``{slug}`` in the document.
3. Test the view in ``tests/api/test_api.py``; the sync and validation tests there
   check the document.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

TITLE = "ECHoS Engage API for analysts"
VERSION = "1.0.0"


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(kind: str, **extra: Any) -> Schema:
    return {"type": [kind, "null"], **extra}


LABELS: Schema = {"type": "object", "additionalProperties": {"type": "string"},
                  "description": "Text per language code."}

SCHEMAS: dict[str, Schema] = {
    "Error": {
        "type": "object", "required": ["error"],
        "properties": {"error": {
            "type": "object", "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "description": "Stable, for scripts: "
                         "missing_token, invalid_token, token_revoked, token_expired, "
                         "account_inactive, role_required, bad_parameter, not_found, "
                         "method_not_allowed."},
                "message": {"type": "string", "description": "For people, in the language "
                            "of the Accept-Language header."}}}},
    },
    "Survey": {
        "type": "object",
        "required": ["slug", "status", "title", "languages", "default_language", "versions",
                     "analysable_responses"],
        "properties": {
            "slug": {"type": "string"},
            "status": {"type": "string", "enum": ["draft", "open", "closed"]},
            "title": LABELS,
            "languages": {"type": "array", "items": {"type": "string"}},
            "default_language": {"type": "string"},
            "versions": {"type": "array", "items": {
                "type": "object", "required": ["number", "created"],
                "properties": {"number": {"type": "integer", "minimum": 1},
                               "created": {"type": "string", "format": "date-time"}}}},
            "analysable_responses": {"type": "integer", "minimum": 0, "description":
                                     "Complete responses whose people allow analysis."},
        },
    },
    "SurveyList": {"type": "object", "required": ["surveys"],
                   "properties": {"surveys": {"type": "array", "items": _ref("Survey")}}},
    "Variable": {
        "type": "object",
        "required": ["name", "question", "item", "label", "type", "measurement",
                     "value_labels", "values", "relevance", "survey", "version"],
        "properties": {
            "name": {"type": "string", "description": "Column name in the row-level data."},
            "question": {"type": "string"},
            "item": {"type": "string"},
            "label": LABELS,
            "type": {"type": "string", "enum": ["numeric", "string", "date"]},
            "measurement": {"type": "string", "enum": ["nominal", "ordinal", "scale"]},
            "value_labels": {"type": "object", "additionalProperties": LABELS,
                             "description": "Label per code, per language."},
            "values": {"type": "object", "additionalProperties": {"type": "string"},
                       "description": "Stored answer value per code."},
            "relevance": {"type": "string", "description": "Who was asked (empty: everyone)."},
            "survey": {"type": "string"},
            "version": {"type": "integer"},
        },
    },
    "Codebook": {"type": "object", "required": ["survey", "version", "variables"],
                 "properties": {"survey": {"type": "string"}, "version": {"type": "integer"},
                                "variables": {"type": "array", "items": _ref("Variable")}}},
    "ParticipationCategory": {
        "type": "object",
        "required": ["category", "label", "count", "suppressed", "share", "ci_low", "ci_high",
                     "benchmark_share", "ratio", "p_value", "under_represented"],
        "properties": {
            "category": {"type": "string"},
            "label": {"type": "string"},
            "count": _nullable("integer", description="Null when fewer than k people (or "
                               "when another hidden cell could be worked out from it)."),
            "suppressed": {"type": "boolean"},
            "share": _nullable("number", description="Null when the count is hidden."),
            "ci_low": _nullable("number", description="Wilson 95 % interval, lower end."),
            "ci_high": _nullable("number", description="Wilson 95 % interval, upper end."),
            "benchmark_share": _nullable("number"),
            "ratio": _nullable("number", description="Share / benchmark share."),
            "p_value": _nullable("number", description="Exact binomial test."),
            "under_represented": {"type": "boolean", "description": "Ratio below 0.8 and "
                                  "the test significant at 5 %."},
        },
    },
    "ParticipationVariable": {
        "type": "object",
        "required": ["variable", "label", "n", "benchmark", "categories", "goodness_of_fit",
                     "r_indicator"],
        "properties": {
            "variable": {"type": "string"},
            "label": {"type": "string"},
            "n": {"type": "integer"},
            "benchmark": {"type": "object", "required": ["source", "year"],
                          "properties": {"source": {"type": "string"},
                                         "year": {"type": "integer"}}},
            "categories": {"type": "array", "items": _ref("ParticipationCategory")},
            "goodness_of_fit": {
                "type": "object",
                "required": ["chi2", "dof", "p_value", "cramers_v", "n", "valid"],
                "properties": {"chi2": _nullable("number"), "dof": {"type": "integer"},
                               "p_value": _nullable("number"),
                               "cramers_v": _nullable("number"), "n": {"type": "integer"},
                               "valid": {"type": "boolean", "description":
                                         "Expected counts large enough for chi-square."}}},
            "r_indicator": {
                "oneOf": [{"type": "null"}, {
                    "type": "object", "required": ["r", "sd", "cv", "mean_propensity"],
                    "properties": {"r": _nullable("number"), "sd": _nullable("number"),
                                   "cv": _nullable("number"),
                                   "mean_propensity": _nullable("number")}}],
                "description": "Only when the benchmark has population counts."},
        },
    },
    "Participation": {
        "type": "object", "required": ["survey", "country", "language", "k", "variables"],
        "properties": {
            "survey": {"type": "string"},
            "country": {"type": "string"},
            "language": {"type": "string"},
            "k": {"type": "integer", "description": "Smallest count shown."},
            "variables": {"type": "array", "items": _ref("ParticipationVariable")},
        },
    },
    "Tables": {
        "type": "object",
        "required": ["survey", "version", "k", "n", "weighting", "by", "tables"],
        "properties": {
            "survey": {"type": "string"},
            "version": {"type": "integer"},
            "k": {"type": "integer", "description": "Smallest count shown."},
            "n": _nullable("integer", description="Analysable responses; null below k."),
            "weighting": {"oneOf": [{"type": "null"}, {
                "type": "object",
                "properties": {
                    "name": {"type": "string"}, "method": {"type": "string"},
                    "geography": {"type": "string"},
                    "variables": {"type": "array", "items": {"type": "string"}},
                    "sources": {"type": "array", "items": {"type": "string"}},
                    "converged": {"type": ["boolean", "null"]},
                    "iterations": _nullable("integer"),
                    "design_effect": _nullable("number"),
                    "effective_n": _nullable("number")}}]},
            "by": {"type": "array", "items": {"type": "string"},
                   "description": "Group variables; several form intersections."},
            "tables": {"type": "array", "items": _ref("Table")},
        },
    },
    "Table": {
        "type": "object", "required": ["variable", "label", "measurement", "n"],
        "properties": {
            "variable": {"type": "string"},
            "label": {"type": "string"},
            "measurement": {"type": "string", "enum": ["nominal", "ordinal", "scale"]},
            "n": _nullable("integer"),
            "effective_n": _nullable("number"),
            "categories": {"type": "array", "items": {
                "type": "object",
                "properties": {
                    "code": {"type": "integer"}, "label": {"type": "string"},
                    "count": _nullable("integer"), "share": _nullable("number"),
                    "low": _nullable("number"), "high": _nullable("number"),
                    "weighted_share": _nullable("number"),
                    "weighted_low": _nullable("number"),
                    "weighted_high": _nullable("number")}}},
            "numeric": {"type": "object", "properties": {
                "n": _nullable("integer"), "mean": _nullable("number"),
                "low": _nullable("number"), "high": _nullable("number"),
                "median": _nullable("number"), "weighted_mean": _nullable("number")}},
            "comparison": {"type": "object", "properties": {
                "groups": {"type": "array", "items": {"type": "string"}},
                "counts": {"type": "array", "items": {"type": "array",
                                                      "items": _nullable("integer")}},
                "group_totals": {"type": "array", "items": _nullable("integer")},
                "column_shares": {"type": "array", "items": {"type": "array",
                                                             "items": _nullable("number")}},
                "test": {"oneOf": [{"type": "null"}, {"type": "object", "properties": {
                    "name": {"type": "string"}, "statistic": {"type": "number"},
                    "p_value": {"type": "number"}, "p_holm": _nullable("number"),
                    "effect_name": {"type": "string"}, "effect": {"type": "number"},
                    "dof": _nullable("integer")}}]},
                "no_test_reason": _nullable("string")}},
        },
    },
    "ResponsePage": {
        "type": "object",
        "required": ["survey", "version", "columns", "rows", "limit", "next"],
        "properties": {
            "survey": {"type": "string"},
            "version": {"type": "integer"},
            "columns": {"type": "array", "items": {"type": "string"}},
            "rows": {"type": "array", "items": {
                "type": "object",
                "required": ["respondent", "language", "completed_at"],
                "properties": {
                    "respondent": {"type": "string", "description": "Pseudonym, stable "
                                   "across exports of this installation."},
                    "language": {"type": "string"},
                    "completed_at": _nullable("string", format="date-time")},
                "additionalProperties": {"type": ["integer", "number", "string", "null"]}}},
            "limit": {"type": "integer"},
            "next": _nullable("string", format="uri", description="The next page; null "
                              "on the last one."),
        },
    },
    "Benchmark": {
        "type": "object",
        "required": ["variable", "category", "geography", "year", "source", "share", "count"],
        "properties": {
            "variable": {"type": "string"}, "category": {"type": "string"},
            "geography": {"type": "string"}, "year": {"type": "integer"},
            "source": {"type": "string"}, "share": _nullable("number"),
            "count": _nullable("number")},
    },
    "BenchmarkList": {"type": "object", "required": ["benchmarks"],
                      "properties": {"benchmarks": {"type": "array",
                                                    "items": _ref("Benchmark")}}},
}


def _parameter(name: str, where: str, description: str, schema: Schema,
               required: bool = False) -> Schema:
    return {"name": name, "in": where, "required": required or where == "path",
            "description": description, "schema": schema}


SLUG = _parameter("slug", "path", "The survey's identifier.", {"type": "string"})
VERSION_PARAMETER = _parameter("version", "query", "Survey version number; the latest when "
                               "left out.", {"type": "integer", "minimum": 1})
COUNTRY = _parameter("country", "query", "ISO 3166-1 alpha-2 country code of the benchmark "
                     "and of where respondents live.", {"type": "string",
                                                         "pattern": "^[A-Za-z]{2}$"},
                     required=True)
LANGUAGE = _parameter("language", "query", "Language of labels.",
                      {"type": "string", "default": "en"})
AFTER = _parameter("after", "query", "The cursor from the previous page's next link.",
                   {"type": "string"})
LIMIT = _parameter("limit", "query", "Rows per page.",
                   {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100})
VARIABLE = _parameter("variable", "query", "Only this variable.", {"type": "string"})
SCHEME = _parameter("scheme", "query", "Name of a computed weighting scheme.",
                    {"type": "string"})
BY = _parameter("by", "query", "Group variable(s), comma-separated for an intersection, "
                "for example age_band,urbanisation.", {"type": "string"})
QUESTION = _parameter("question", "query", "Only these variables (repeat the parameter).",
                      {"type": "array", "items": {"type": "string"}})
BENCHMARK_COUNTRY = _parameter("country", "query", "Only this country (ISO code).",
                               {"type": "string"})

ERRORS = {
    400: "A parameter is missing or not valid.",
    401: "No token, or a token that is unknown, revoked or expired, or whose account is "
         "deactivated.",
    403: "The token's account no longer has the analyst role.",
    404: "No such survey, version or benchmark.",
}


def operation(operation_id: str, summary: str, schema: str, *,
              parameters: list[Schema] | None = None, errors: tuple[int, ...] = (401, 403),
              secured: bool = True, description: str = "") -> Schema:
    """A GET operation answering `schema`, with the shared error responses."""
    responses: dict[str, Schema] = {"200": {
        "description": "OK", "content": {"application/json": {"schema": _ref(schema)}}}}
    for status in errors:
        responses[str(status)] = {"$ref": f"#/components/responses/E{status}"}
    found: Schema = {"operationId": operation_id, "summary": summary, "responses": responses,
                     "parameters": parameters or []}
    if description:
        found["description"] = description
    found["security"] = [{"bearer": []}] if secured else []
    return {"get": found}


PATHS: dict[str, Schema] = {
    "/api/v1/surveys": operation(
        "listSurveys", "Surveys with their versions, languages and analysable responses",
        "SurveyList"),
    "/api/v1/surveys/{slug}/codebook": operation(
        "getCodebook", "The codebook of a survey version", "Codebook",
        parameters=[SLUG, VERSION_PARAMETER], errors=(400, 401, 403, 404)),
    "/api/v1/surveys/{slug}/participation": operation(
        "getParticipation", "Who took part against the population of one country",
        "Participation", parameters=[SLUG, COUNTRY, LANGUAGE], errors=(400, 401, 403, 404),
        description="Respondents living in the country who allow analysis, per group "
                    "variable, against the latest stored benchmark. Counts under k are "
                    "null, and so is every figure that would give them away."),
    "/api/v1/surveys/{slug}/responses": operation(
        "listResponses", "Pseudonymous row-level data, one row per analysable response",
        "ResponsePage", parameters=[SLUG, VERSION_PARAMETER, AFTER, LIMIT],
        errors=(400, 401, 403, 404),
        description="Columns as in the codebook. People who withdrew consent for analysis "
                    "never appear. Follow `next` until it is null; each row comes once."),
    "/api/v1/surveys/{slug}/tables": operation(
        "getTables", "Every question's distribution, weighted and compared across groups",
        "Tables", parameters=[SLUG, VERSION_PARAMETER, LANGUAGE, SCHEME, BY, QUESTION],
        errors=(400, 401, 403, 404),
        description="The same tables as the Tables page and `flask results tables`: counts "
                    "under k are null, and so is a count that would give one away; shares "
                    "with 95 % Wilson intervals; weighted shares when a scheme is named; "
                    "group tests (chi-square, Kruskal-Wallis or Mann-Whitney) with "
                    "Holm-adjusted p-values when `by` is given."),
    "/api/v1/benchmarks": operation(
        "listBenchmarks", "Stored population benchmarks", "BenchmarkList",
        parameters=[VARIABLE, BENCHMARK_COUNTRY], errors=(401, 403)),
    "/api/openapi.json": {"get": {
        "operationId": "getOpenApi", "summary": "This document", "security": [],
        "responses": {"200": {"description": "OK", "content": {"application/json": {
            "schema": {"type": "object"}}}}}}},
}


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": VERSION, "description": (
            "Read access for analysts' scripts. Create a personal token on the API tokens "
            "page of the staff workspace and send it as `Authorization: Bearer <token>`. "
            "Errors are JSON: {\"error\": {\"code\": ..., \"message\": ...}}. Each token "
            "may make a limited number of requests a minute (300 by default); beyond that "
            "the answer is 429 with a JSON error.")},
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "A personal API token (ee_...)."}},
            "responses": {f"E{status}": {
                "description": text,
                "content": {"application/json": {"schema": _ref("Error")}},
                **({"headers": {"WWW-Authenticate": {
                    "description": "Bearer, with error=\"invalid_token\" for a token "
                                   "that does not work.",
                    "schema": {"type": "string"}}}} if status == 401 else {})}
                for status, text in ERRORS.items()},
        },
        "security": [{"bearer": []}],
    }
