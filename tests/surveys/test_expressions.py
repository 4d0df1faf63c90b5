"""Survey expression language: parser errors, canonical source, evaluation semantics.

Property tests check what a table cannot: that every tree survives a round trip through its
canonical source, and that neither random trees nor random text can make the module raise
anything but ExpressionError.
"""

from __future__ import annotations

import dataclasses
import operator
from datetime import date
from decimal import Decimal
from functools import reduce

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.surveys.expressions import (
    MAX_DEPTH,
    MAX_LENGTH,
    Call,
    ChoiceField,
    Current,
    Expression,
    ExpressionError,
    Negate,
    Node,
    Number,
    Operation,
    Reference,
    String,
    evaluate_bool,
    parse,
    truthy,
)


def ev(source: str, values: dict | None = None, current: object = None, choice=None) -> object:
    return parse(source).evaluate(values or {}, current, choice)


# --- Parse errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "message", "position"),
    [
        ("", "Expression is empty", 0),
        ("   ", "Expression is empty", 0),
        ("${a} +", "Unexpected end of expression", 6),
        ("(1 + 2", "Expected ')'", 6),
        ("(1 + 2 ,", "Expected ')'", 7),
        ("foo(1)", "Unknown function 'foo'", 0),
        ("1 + foo(1)", "Unknown function 'foo'", 4),
        ("today()", "Unknown function 'today'", 0),
        ("is-odd(1)", "Unknown function 'is-odd'", 0),
        ("selected(${a})", "'selected' takes 2 arguments, got 1", 0),
        ("if(1, 2)", "'if' takes 3 arguments, got 2", 0),
        ("not(1, 2)", "'not' takes 1 argument, got 2", 0),
        ("round(1, 2, 3)", "'round' takes 1 or 2 arguments, got 3", 0),
        ("1 + sum()", "'sum' takes at least 1 argument, got 0", 4),
        ("true(1)", "'true' takes no arguments, got 1", 0),
        ("'abc", "Unterminated string starting", 0),
        ('${a} = "x', "Unterminated string starting", 7),
        ("${1a}", "Malformed reference, expected ${question_id}", 0),
        ("${a", "Malformed reference, expected ${question_id}", 0),
        ("$a", "Malformed reference, expected ${question_id}", 0),
        ("${a b}", "Malformed reference, expected ${question_id}", 0),
        ("${a.b.c}", "Malformed reference, expected ${question_id}", 0),
        ("${a} # 1", "Unexpected character '#'", 5),
        ("!", "Unexpected character '!'", 0),
        ("é", "Unexpected character 'é'", 0),
        ("${a} ${b}", "Unexpected '${b}'", 5),
        ("1 +* 2", "Unexpected '*'", 3),
        (")", "Unexpected ')'", 0),
        ("(", "Unexpected end of expression", 1),
        ("sum(1,", "Unexpected end of expression", 6),
        ("sum(1 2)", "Expected ',' or ')'", 6),
        ("..", "Unexpected '.'", 1),
        ("foo", "Unknown name 'foo'", 0),
        ("choice", "Unknown name 'choice'", 0),
        ("true", "Unknown name 'true'", 0),
        ("1 AND 2", "Unexpected 'AND'", 2),
        ("and", "Unexpected 'and'", 0),
        ("1e5", "Unexpected 'e5'", 1),
        ("1" * 302, "Number is too large", 0),
    ],
)
def test_parse_errors(source: str, message: str, position: int) -> None:
    with pytest.raises(ExpressionError) as info:
        parse(source)
    assert info.value.message == message
    assert info.value.position == position
    assert str(info.value) == f"{message} at position {position}"


def test_error_without_position_is_just_the_message() -> None:
    error = ExpressionError("Something is wrong")
    assert str(error) == "Something is wrong"
    assert error.position is None
    assert isinstance(error, ValueError)


@pytest.mark.parametrize(
    "source",
    [
        "1" + " + 1" * ((MAX_LENGTH - 1) // 4 + 1),
        "(" * (MAX_DEPTH + 1) + "1" + ")" * (MAX_DEPTH + 1),
        "-" * (MAX_DEPTH + 1) + "1",
        "not(" * (MAX_DEPTH + 1) + "1" + ")" * (MAX_DEPTH + 1),
        "(" * 999 + "1" + ")" * 999,
        "-" * 1999 + "1",
        "1 * (" * 60 + "1" + ")" * 60,
    ],
)
def test_hostile_sources_are_rejected(source: str) -> None:
    with pytest.raises(ExpressionError):
        parse(source)


def test_long_flat_chains_are_not_nesting() -> None:
    source = " + ".join(["1"] * 500)
    assert len(source) <= MAX_LENGTH
    assert ev(source) == 500
    assert parse("(" * 20 + "1" + ")" * 20).evaluate({}) == 1


def test_deep_trees_built_by_hand_are_rejected() -> None:
    tree: Node = Number(1)
    for _ in range(MAX_DEPTH):
        tree = Negate(tree)
    with pytest.raises(ExpressionError, match="nested more than"):
        Expression(tree)


@pytest.mark.parametrize(
    "tree",
    [Call("today", ()), Call("selected", (Number(1),)), Call("true", (Number(1),))],
)
def test_invalid_calls_built_by_hand_are_rejected(tree: Node) -> None:
    with pytest.raises(ExpressionError):
        Expression(tree)


def test_operation_levels_must_not_mix() -> None:
    with pytest.raises(ValueError):
        Operation(Number(1), (("+", Number(2)), ("*", Number(3))))
    with pytest.raises(ValueError):
        Operation(Number(1), ())


# --- Metadata -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "references", "choice_fields", "uses_current"),
    [
        ("1", set(), set(), False),
        ("${a} + ${b} * ${a}", {"a", "b"}, set(), False),
        ("${matrix.row1} = '5'", {"matrix.row1"}, set(), False),
        (". > 3 and . < ${max}", {"max"}, set(), True),
        ("choice.country = ${country}", {"country"}, {"country"}, False),
        ("choice.a = choice.b or choice.a = 'x'", set(), {"a", "b"}, False),
        ("if(selected(${m}, 'x'), count-selected(.), 0)", {"m"}, set(), True),
        ("'${not_a_reference}'", set(), set(), False),
    ],
)
def test_metadata(
    source: str, references: set[str], choice_fields: set[str], uses_current: bool
) -> None:
    expression = parse(source)
    assert expression.references == frozenset(references)
    assert expression.choice_fields == frozenset(choice_fields)
    assert expression.uses_current is uses_current
    assert expression.source == source


# --- Canonical source and identity ----------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "canonical"),
    [
        ("1+2*3", "1 + 2 * 3"),
        ("(1+2)*3", "(1 + 2) * 3"),
        ("1-(2-3)", "1 - (2 - 3)"),
        ("(1-2)-3", "(1 - 2) - 3"),
        ("1-2-3", "1 - 2 - 3"),
        ("- ( 1 + 2 )", "-(1 + 2)"),
        ("--1", "--1"),
        ("2*-3", "2 * -3"),
        ("((((${a}))))", "${a}"),
        ("${a}=1 or ${b}=2 and ${c}=3", "${a} = 1 or ${b} = 2 and ${c} = 3"),
        ("(${a}=1 or ${b}=2) and ${c}=3", "(${a} = 1 or ${b} = 2) and ${c} = 3"),
        ("1<2=2<3", "1 < 2 = 2 < 3"),
        ("(1=2)<3", "(1 = 2) < 3"),
        ('selected( ${a},"x" )', "selected(${a}, 'x')"),
        ('"it\'s"', '"it\'s"'),
        ("count-selected(.)", "count-selected(.)"),
        ("not(.)", "not(.)"),
        ("choice.x=${y}", "choice.x = ${y}"),
        ("true()", "true()"),
        ("1.50", "1.5"),
        ("1.", "1.0"),
        (".5", "0.5"),
        ("007", "7"),
        ("10000000000000000.0", "10000000000000000.0"),
        ("0.00000015", "0.00000015"),
        ("${a}div${b}mod 2", "${a} div ${b} mod 2"),
        ("${a}-${b}", "${a} - ${b}"),
        ("string-length(${a})-1", "string-length(${a}) - 1"),
    ],
)
def test_to_source_is_canonical(source: str, canonical: str) -> None:
    expression = parse(source)
    assert expression.to_source() == canonical
    assert parse(canonical) == expression


def test_equality_is_by_tree() -> None:
    assert parse("1+2") == parse(" 1 + 2 ")
    assert hash(parse("1+2")) == hash(parse("(1 + 2)"))
    assert parse("1 + 2") != parse("2 + 1")
    assert parse("1+2").source == "1+2"
    assert repr(parse("1+2")) == "Expression('1+2')"
    assert Expression(parse("1+2").tree).source == "1 + 2"


def test_expressions_are_immutable() -> None:
    expression = parse("${a}")
    with pytest.raises(dataclasses.FrozenInstanceError):
        expression.source = "${b}"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        expression.tree.name = "b"  # type: ignore[union-attr]


def test_parse_tree_shape() -> None:
    assert parse("-${a} * 2").tree == Operation(Negate(Reference("a")), (("*", Number(2)),))
    assert parse("1 + 2 - 3").tree == Operation(Number(1), (("+", Number(2)), ("-", Number(3))))
    assert parse("if(., 'a', choice.x)").tree == Call(
        "if", (Current(), String("a"), ChoiceField("x"))
    )


# --- Evaluation -----------------------------------------------------------------------------

E = None  # readability in the table: an empty result

EVALUATION = [
    # literals
    ("42", {}, 42),
    ("4.5", {}, 4.5),
    ("'hi'", {}, "hi"),
    ('"it\'s"', {}, "it's"),
    # arithmetic
    ("1 + 2", {}, 3),
    ("5 - 7", {}, -2),
    ("3 * 4", {}, 12),
    ("7 div 2", {}, 3.5),
    ("6 div 3", {}, 2),
    ("7.5 div 2.5", {}, 3),
    ("0.3 div 0.1", {}, 3),
    ("1 div 3", {}, 1 / 3),
    ("7 mod 3", {}, 1),
    ("-7 mod 3", {}, -1),
    ("7 mod -3", {}, 1),
    ("5.5 mod 2", {}, 1.5),
    ("-5.5 mod 2", {}, -1.5),
    ("0.1 + 0.2", {}, 0.3),
    ("1.5 * 2", {}, 3.0),
    ("1.5 + 1.5", {}, 3.0),
    ("-${a}", {"a": 4}, -4),
    ("--3", {}, 3),
    ("${a} - -${a}", {"a": "2"}, 4),
    # division by zero
    ("1 div 0", {}, E),
    ("0 div 0", {}, E),
    ("1 mod 0", {}, E),
    ("1.5 div 0.0", {}, E),
    ("1 div ${e}", {}, E),
    ("1.5 mod ${e}", {}, E),
    # precedence and associativity
    ("1 + 2 * 3", {}, 7),
    ("(1 + 2) * 3", {}, 9),
    ("10 - 4 - 3", {}, 3),
    ("10 - (4 - 3)", {}, 9),
    ("2 * 3 mod 4", {}, 2),
    ("8 div 4 div 2", {}, 1),
    ("-2 * 3", {}, -6),
    ("- 2 - 3", {}, -5),
    ("2 * -3", {}, -6),
    ("-(2 + 3)", {}, -5),
    ("1 + 2 = 3", {}, True),
    ("1 + 2 < 4", {}, True),
    ("1 < 2 = 2 < 3", {}, True),
    ("3 > 2 > 1", {}, False),
    ("true() or false() and false()", {}, True),
    ("(true() or false()) and false()", {}, False),
    ("1 = 2 or 2 = 2 and 3 = 3", {}, True),
    ("1 = 1 != 0", {}, True),
    # comparisons
    ("${a} = 'yes'", {"a": "yes"}, True),
    ("${a} != 'yes'", {"a": "yes"}, False),
    ("${n} = 5", {"n": "5"}, True),
    ("${n} > 9", {"n": "10"}, True),
    ("'10' > '9'", {}, True),
    ("'b' > 'a'", {}, True),
    ("'abc' < 'abd'", {}, True),
    ("'abc' <= 'abc'", {}, True),
    ("'abc' >= 'abd'", {}, False),
    ("'10' > 'abc'", {}, False),
    ("'007' = 7", {}, True),
    ("' 5 ' = 5", {}, True),
    ("'1e3' = 1000", {}, False),
    ("1 = 1.0", {}, True),
    ("2 >= 2.0", {}, True),
    ("2 <= 1.5", {}, False),
    ("true() = 1", {}, True),
    ("${t} = 'true'", {"t": True}, True),
    ("${d} < '2024-02-01'", {"d": date(2024, 1, 2)}, True),
    ("${m} = 'a b'", {"m": ["a", "b"]}, True),
    ("${m} = 'a'", {"m": ["a"]}, True),
    ("${m} > 2", {"m": ["3"]}, True),
    # empty
    ("${e}", {}, E),
    ("${e} = ''", {}, True),
    ("${e} = ${f}", {}, True),
    ("${e} = ${m}", {"m": []}, True),
    ("${e} != ''", {}, False),
    ("${e} = 0", {}, False),
    ("${e} != 0", {}, True),
    ("${e} < 1", {}, False),
    ("${e} >= 1", {}, False),
    ("${e} <= ''", {}, False),
    ("'a' > ${e}", {}, False),
    ("${e} + 1", {}, 1),
    ("${e} * 5", {}, 0),
    ("-${e}", {}, 0),
    ("${e} + ${m}", {"m": []}, 0),
    ("'abc' + 1", {}, E),
    ("${s} * 2", {"s": "abc"}, E),
    ("${m} + 1", {"m": ["3"]}, 4),
    ("${m} + 1", {"m": ["3", "4"]}, E),
    ("${b} + 1", {"b": True}, 2),
    # logic
    ("true() and false()", {}, False),
    ("true() and 'x'", {}, True),
    ("${e} or 0", {}, False),
    ("${e} or 'x'", {}, True),
    ("not(${e})", {}, True),
    ("not('')", {}, True),
    ("not('0')", {}, False),
    ("not(0)", {}, True),
    ("not(0.0)", {}, True),
    ("not(${m})", {"m": []}, True),
    ("not(${m})", {"m": ["a"]}, False),
    ("true()", {}, True),
    ("false()", {}, False),
    # selected / count-selected
    ("selected(${m}, 'b')", {"m": ["a", "b"]}, True),
    ("selected(${m}, 'c')", {"m": ["a", "b"]}, False),
    ("selected(${m}, 'a')", {"m": ("a",)}, True),
    ("selected(${m}, 'b')", {"m": "a b"}, True),
    ("selected(${m}, 'a b')", {"m": "a b"}, False),
    ("selected(${m}, 1)", {"m": ["1", "2"]}, True),
    ("selected(${e}, 'a')", {}, False),
    ("count-selected(${m})", {"m": ["a", "b"]}, 2),
    ("count-selected(${m})", {"m": " a  b c "}, 3),
    ("count-selected(${m})", {"m": []}, 0),
    ("count-selected(${e})", {}, 0),
    # if / coalesce
    ("if(${a} > 1, 'big', 'small')", {"a": 2}, "big"),
    ("if(${a} > 1, 'big', 'small')", {"a": 1}, "small"),
    ("if(${e}, 1, ${e})", {}, E),
    ("coalesce(${e}, 'x')", {}, "x"),
    ("coalesce(${a}, 'x')", {"a": "y"}, "y"),
    ("coalesce(${m}, 'x')", {"m": []}, "x"),
    ("coalesce(0, 1)", {}, 0),
    ("coalesce(false(), 1)", {}, False),
    # string-length / number
    ("string-length('héllo')", {}, 5),
    ("string-length(${e})", {}, 0),
    ("string-length(12.5)", {}, 4),
    ("string-length(2.0 * 1)", {}, 1),
    ("string-length(${m})", {"m": ["a", "bc"]}, 4),
    ("number('12')", {}, 12),
    ("number(' -1.5 ')", {}, -1.5),
    ("number('abc')", {}, E),
    ("number(${e})", {}, E),
    ("number(true())", {}, 1),
    # round
    ("round(2.675, 2)", {}, 2.68),
    ("round(1.005, 2)", {}, 1.01),
    ("round(2.5)", {}, 3),
    ("round(-2.5, 0)", {}, -3),
    ("round(2.4)", {}, 2),
    ("round(1234, -2)", {}, 1200),
    ("round(1250, -2)", {}, 1300),
    ("round(1.23456, 3)", {}, 1.235),
    ("round(7, 2)", {}, 7),
    ("round(1.25, 1.9)", {}, 1.3),
    ("round(1.5, ${e})", {}, 2),
    ("round('x', 1)", {}, E),
    ("round(1, 'x')", {}, E),
    ("round(${e}, 1)", {}, E),
    ("round(0.5, 400)", {}, 0.5),
    ("round(5, -400)", {}, 0),
    # sum / min / max
    ("sum(1, 2, 3)", {}, 6),
    ("sum(${m})", {"m": ["1", "2", "3.5"]}, 6.5),
    ("sum(${m}, 1)", {"m": "4"}, 5),
    ("sum(${a}, ${e})", {"a": 4}, 4),
    ("sum(${e})", {}, 0),
    ("sum(1, 'x')", {}, E),
    ("sum(0.1, 0.2)", {}, 0.3),
    ("min(3, 1, 2)", {}, 1),
    ("max(3, ${m})", {"m": ["5", "4"]}, 5),
    ("min(${e})", {}, E),
    ("max(${e}, 2)", {}, 2),
    ("max(2, 'x')", {}, E),
    ("min(-1.5, 2)", {}, -1.5),
    # references, current answer, choice fields
    ("${q.r1} = 'a'", {"q.r1": "a"}, True),
    ("${q.r2}", {"q.r1": "a"}, E),
]


@pytest.mark.parametrize(("source", "values", "expected"), EVALUATION)
def test_evaluate(source: str, values: dict, expected: object) -> None:
    result = ev(source, values)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("source", "current", "choice", "expected"),
    [
        (". > 5", 7, None, True),
        (". > 5", "3", None, False),
        ("string-length(.) <= 3", "abcd", None, False),
        ("count-selected(.) <= 2", ["a", "b"], None, True),
        ("choice.country = 'PT'", None, {"country": "PT"}, True),
        ("choice.country = 'PT'", None, {"country": "DE"}, False),
        ("choice.country", None, None, None),
        ("choice.missing", None, {"country": "PT"}, None),
        ("choice.value != '3' or .", True, {"value": "3"}, True),
    ],
)
def test_current_and_choice(source: str, current: object, choice, expected: object) -> None:
    assert ev(source, {}, current, choice) == expected


def test_choice_filter_against_answers() -> None:
    expression = parse("choice.country = ${country}")
    assert expression.evaluate({"country": "PT"}, choice={"country": "PT"}) is True
    assert expression.evaluate({"country": "PT"}, choice={"country": "ES"}) is False


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("2.50"), 2.5),
        (Decimal("3"), 3),
        (Decimal("3.0"), 3),
        (Decimal("NaN"), None),
        (Decimal("sNaN"), None),
        (Decimal("1E+999"), None),
        (float("nan"), None),
        (float("inf"), None),
        (10**400, None),
        (date(2025, 3, 1), "2025-03-01"),
        (("a", "b"), ["a", "b"]),
        ({"b", "a"}, ["a", "b"]),
        (["a", None, 3, ["nested"]], ["a", "3"]),
        (object(), None),
        (b"bytes", None),
        ({"a": 1}, None),
    ],
)
def test_inputs_are_normalised(value: object, expected: object) -> None:
    result = ev("${a}", {"a": value})
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("source", "values"),
    [
        ("${a} * ${a} * ${a} * ${a}", {"a": 10**100}),
        ("${a} div 0.5", {"a": 10**300}),
        ("${a} * 1.5", {"a": 10**300}),
        ("${a} mod 0.001", {"a": 1e300}),
        ("sum(${a}, ${a})", {"a": 10**300}),
        ("number(${a})", {"a": "9" * 5000}),
        ("${a} + 1", {"a": "1" * 400 + ".5"}),
    ],
)
def test_overflow_is_empty(source: str, values: dict) -> None:
    assert ev(source, values) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, False),
        ("", False),
        ("x", True),
        ("0", True),
        (0, False),
        (0.0, False),
        (1, True),
        (-1, True),
        (0.5, True),
        ([], False),
        (["a"], True),
        (True, True),
        (False, False),
        (Decimal("0"), False),
        (Decimal("0.1"), True),
        (float("nan"), False),
    ],
)
def test_truthy(value: object, expected: bool) -> None:
    assert truthy(value) is expected


def test_evaluate_bool() -> None:
    relevant = parse("${age} >= 18")
    assert evaluate_bool(relevant, {"age": "21"}) is True
    assert evaluate_bool(relevant, {}) is False
    assert evaluate_bool(parse("${name}"), {"name": "Ana"}) is True
    assert evaluate_bool(parse(". != 'x'"), {}, current="y") is True
    assert evaluate_bool(parse("choice.a = 1"), {}, choice={"a": 1}) is True


def test_if_and_logic_are_lazy() -> None:
    # Nothing can raise, so laziness is observed through a mapping that records lookups.
    class Recording(dict):
        seen: list[str]

        def get(self, key, default=None):
            self.seen.append(key)
            return super().get(key, default)

    values = Recording(a=1)
    values.seen = []
    parse("if(${a}, ${b}, ${c}) or ${d} and ${e}").evaluate(values)
    assert values.seen == ["a", "b", "d"]


# --- Property tests -------------------------------------------------------------------------

LEVEL_OPERATORS = [("or",), ("and",), ("=", "!="), ("<", "<=", ">", ">="), ("+", "-")]
LEVEL_OPERATORS.append(("*", "div", "mod"))
ARITY = {
    "not": (1, 1),
    "selected": (2, 2),
    "count-selected": (1, 1),
    "if": (3, 3),
    "string-length": (1, 1),
    "number": (1, 1),
    "round": (1, 2),
    "sum": (1, 4),
    "min": (1, 4),
    "max": (1, 4),
    "coalesce": (2, 2),
    "true": (0, 0),
    "false": (0, 0),
}
IDENTIFIER = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,8}", fullmatch=True)
MATRIX_ID = st.builds("{}.{}".format, IDENTIFIER, IDENTIFIER)
NUMBERS = st.one_of(
    st.integers(min_value=0, max_value=10**12),
    st.integers(min_value=0, max_value=10**9).map(lambda n: n / 1000),
)
STRINGS = st.text(max_size=12).filter(lambda s: not ("'" in s and '"' in s))


def trees(references: st.SearchStrategy[str], fields: st.SearchStrategy[str]):
    leaves = st.one_of(
        NUMBERS.map(Number),
        STRINGS.map(String),
        references.map(Reference),
        st.just(Current()),
        fields.map(ChoiceField),
    )

    def operation(children):
        def chain(operators: tuple[str, ...]):
            rest = st.lists(st.tuples(st.sampled_from(operators), children), min_size=1, max_size=3)
            return st.builds(Operation, children, rest.map(tuple))

        return st.sampled_from(LEVEL_OPERATORS).flatmap(chain)

    def call(children):
        def build(item: tuple[str, tuple[int, int]]):
            name, (low, high) = item
            args = st.lists(children, min_size=low, max_size=high).map(tuple)
            return st.builds(Call, st.just(name), args)

        return st.sampled_from(sorted(ARITY.items())).flatmap(build)

    return st.recursive(
        leaves,
        lambda children: st.one_of(children.map(Negate), operation(children), call(children)),
        max_leaves=15,
    )


ANY_TREES = trees(st.one_of(IDENTIFIER, MATRIX_ID), IDENTIFIER)
NAMES = ["a", "b", "q.r1"]
FIELDS = ["country", "value"]
SCOPED_TREES = trees(st.sampled_from(NAMES), st.sampled_from(FIELDS))
EDGE_VALUES = [
    "",
    "0",
    "1",
    "2.5",
    " -3 ",
    "yes",
    "a b",
    "1e3",
    10**400,
    -(10**300),
    1e300,
    float("inf"),
    float("nan"),
    Decimal("sNaN"),
    Decimal("-1E+500"),
    date(2024, 2, 29),
    object(),
]
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.decimals(),
    st.text(max_size=10),
    st.sampled_from(EDGE_VALUES),
    st.lists(st.sampled_from(["a", "b", "1", "2.5", ""]), max_size=4),
    st.lists(st.one_of(st.text(max_size=3), st.integers()), max_size=3).map(tuple),
)
SCOPES = st.fixed_dictionaries({}, optional={name: VALUES for name in NAMES})
CHOICES = st.none() | st.fixed_dictionaries({}, optional={name: VALUES for name in FIELDS})
RESULT_TYPES = (type(None), str, int, float, bool, list)


@settings(deadline=None, max_examples=300)
@given(ANY_TREES)
def test_canonical_source_round_trips(tree: Node) -> None:
    expression = Expression(tree)
    reparsed = parse(expression.to_source())
    assert reparsed == expression
    assert reparsed.tree == tree
    assert reparsed.to_source() == expression.to_source()


@given(st.floats(min_value=0, max_value=1e300, allow_nan=False) | st.integers(0, 10**300))
def test_numbers_round_trip(number: float | int) -> None:
    assert parse(Expression(Number(number)).to_source()).tree == Number(number)


@settings(deadline=None, max_examples=300)
@given(SCOPED_TREES, SCOPES, VALUES, CHOICES)
def test_evaluation_never_raises(tree: Node, values: dict, current: object, choice) -> None:
    result = Expression(tree).evaluate(values, current, choice)
    assert isinstance(result, RESULT_TYPES)
    if isinstance(result, list):
        assert all(isinstance(item, str) for item in result)


@settings(deadline=None)
@given(SCOPED_TREES, SCOPES, VALUES, CHOICES)
def test_double_negation_is_truthiness(tree: Node, values: dict, current: object, choice) -> None:
    expression = Expression(tree)
    double = Expression(Call("not", (Call("not", (tree,)),)))
    assert double.evaluate(values, current, choice) is truthy(
        expression.evaluate(values, current, choice)
    )


@given(VALUES)
def test_double_negation_of_a_value(value: object) -> None:
    assert parse("not(not(${a}))").evaluate({"a": value}) is truthy(value)
    assert evaluate_bool(parse("${a}"), {"a": value}) is truthy(value)


def _literal(n: int) -> str:
    return str(n) if n >= 0 else f"-{-n}"


INT_OPERATORS = {"+": operator.add, "-": operator.sub, "*": operator.mul}
PARENTHESISED = st.recursive(
    st.integers(-1000, 1000).map(lambda n: (_literal(n), n)),
    lambda children: st.builds(
        lambda left, op, right: (
            f"({left[0]}) {op} ({right[0]})",
            INT_OPERATORS[op](left[1], right[1]),
        ),
        children,
        st.sampled_from(sorted(INT_OPERATORS)),
        children,
    ),
    max_leaves=12,
)


@given(PARENTHESISED)
def test_integer_arithmetic_agrees_with_python(case: tuple[str, int]) -> None:
    source, expected = case
    result = ev(source)
    assert result == expected
    assert type(result) is int


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["+", "-"]),
            st.lists(st.integers(-1000, 1000), min_size=1, max_size=3),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_integer_precedence_agrees_with_python(terms: list[tuple[str, list[int]]]) -> None:
    source = ""
    expected = 0
    for index, (sign, factors) in enumerate(terms):
        product = " * ".join(_literal(n) for n in factors)
        source += product if index == 0 else f" {sign} {product}"
        value = reduce(operator.mul, factors)
        expected += -value if index > 0 and sign == "-" else value
    assert ev(source) == expected


@given(st.dictionaries(st.sampled_from(["a", "b"]), st.integers(-(10**6), 10**6)))
def test_references_in_integer_arithmetic(values: dict[str, int]) -> None:
    a, b = values.get("a", 0), values.get("b", 0)
    assert ev("${a} * ${b} - ${a} + -${b}", values) == a * b - a - b


EXPRESSION_WORDS = ["${a}", "${q.r}", "div", "mod", "and", "or", "not(", "sum(", "choice."]
EXPRESSION_ALPHABET = st.sampled_from(
    [*"${}.'\"()+-*=!<>, \t\n0123456789_abcdeilmnorstuvx", *EXPRESSION_WORDS, "count-selected("]
)


@settings(deadline=None, max_examples=500)
@given(st.text(max_size=60) | st.lists(EXPRESSION_ALPHABET, max_size=40).map("".join))
def test_garbage_parses_or_raises_expression_error(text: str) -> None:
    try:
        expression = parse(text)
    except ExpressionError as error:
        assert error.message
        assert error.position is None or 0 <= error.position <= len(text)
        return
    assert parse(expression.to_source()) == expression
    expression.evaluate({"a": "1", "q.r": ["x"]}, current="2", choice={"x": "y"})
