"""Safe XLSForm-style expressions for skip logic, constraints, calculations and choice filters.

Survey definitions are data written by people outside the code base, so expressions are never
handed to ``eval``: a hand-written tokenizer and Pratt parser build a small immutable AST, and
an evaluator walks it.  Only :func:`parse` raises (:class:`ExpressionError`); evaluation never
does, whatever the answers contain, because a broken survey page is worse than an empty value.

Syntax: ``${question}`` and ``${matrix.row}`` references, ``.`` (the current answer),
``choice.<field>`` (a field of the choice being filtered), numbers (``12``, ``1.5``, ``.5``),
``'text'`` or ``"text"`` (no escapes, as in XPath 1.0), ``+ - * div mod``, unary ``-``,
``= != < <= > >=``, ``and``, ``or``, parentheses and the functions ``not``, ``selected``,
``count-selected``, ``if``, ``string-length``, ``number``, ``round``, ``sum``, ``min``, ``max``,
``coalesce``, ``true`` and ``false``.  Precedence, loosest first: ``or``; ``and``; ``= !=``;
``< <= > >=``; ``+ -``; ``* div mod``; unary ``-``.  Binary operators associate to the left.
Keywords and function names are case-sensitive.

Semantics (close to XPath 1.0 / ODK, simplified where XPath surprises survey authors):

* Values are ``None`` (unanswered or irrelevant), ``str``, ``int``, ``float``, ``bool`` or
  ``list[str]`` (multiple choice and ranking answers).  Inputs are normalised on the way in:
  a ``Decimal`` becomes ``int`` when integral, else ``float``; dates become ISO text; tuples
  become lists; NaN, infinities, magnitudes above 1e300 and unsupported types become ``None``.
* ``None``, ``''`` and ``[]`` are *empty*.  Booleans read as 1/0 in numbers and as
  ``'true'``/``'false'`` in text; a list reads as its items joined by single spaces.
* Arithmetic treats empty operands as 0.  A non-numeric operand, division or ``mod`` by zero,
  or an overflow gives ``None`` (empty), which a later arithmetic step again reads as 0.
  ``int`` op ``int`` stays exact; anything involving a float is computed in decimal, so
  ``0.1 + 0.2`` is ``0.3``.  ``div`` returns an ``int`` when the quotient is whole, otherwise a
  ``float``.  ``mod`` takes the sign of the dividend (XPath), so ``-7 mod 3`` is ``-1``.
* Comparisons are numeric when both sides are numbers or numeric text (``' 07 '`` = ``7``),
  otherwise textual.  ``=`` between two empty sides is true; ``< <= > >=`` with an empty side
  are false.  Text is ordered by code point, which orders ISO dates correctly.
* Truthiness: ``False``, ``None``, ``''``, ``0`` and ``[]`` are false; any other text
  (including ``'0'``) is true.  ``and``/``or``/``not`` return booleans and short-circuit.
* ``selected(x, v)`` tests membership in a list or in space-separated text;
  ``count-selected(x)`` counts items.  ``number(x)`` is empty for empty or non-numeric ``x``.
  ``round(x[, digits])`` rounds half away from zero in decimal (``round(2.675, 2)`` is 2.68),
  returns an ``int`` when ``digits <= 0`` and is empty for empty ``x``.  ``sum``/``min``/``max``
  flatten list arguments and skip empty items; a non-numeric item makes the result empty;
  ``sum`` of nothing is 0, ``min``/``max`` of nothing is empty.  ``coalesce(a, b)`` is ``a``
  unless ``a`` is empty.  ``if`` evaluates only the branch it returns.

Hostile definitions cannot exhaust the stack or memory: sources are limited to
:data:`MAX_LENGTH` characters and nesting (parentheses, calls, unary minus, operands and the
resulting tree) to :data:`MAX_DEPTH` levels.  A flat chain such as ``a + b + c`` is one node,
so long sums do not count as nesting.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, time
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from numbers import Real
from typing import Final

__all__ = [
    "MAX_DEPTH",
    "MAX_LENGTH",
    "Call",
    "ChoiceField",
    "Current",
    "Expression",
    "ExpressionError",
    "Negate",
    "Node",
    "Number",
    "Operation",
    "Reference",
    "String",
    "evaluate_bool",
    "parse",
    "truthy",
]

MAX_LENGTH: Final = 2000
MAX_DEPTH: Final = 50

_MAX_INT: Final = 10**300
_MAX_FLOAT: Final = 1e300
_ROUND_PLACES: Final = 350  # beyond any float's precision; keeps quantize() within _ROUND_CONTEXT
_ARITHMETIC_CONTEXT: Final = Context(prec=34)
_ROUND_CONTEXT: Final = Context(prec=1000)

Value = None | str | int | float | bool | list[str]


class ExpressionError(ValueError):
    """A syntax error; ``position`` is the 0-based offset of the offending character."""

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message, position)
        self.message = message
        self.position = position

    def __str__(self) -> str:
        if self.position is None:
            return self.message
        return f"{self.message} at position {self.position}"


# --- AST ------------------------------------------------------------------------------------

# Operator -> precedence level (higher binds tighter).  Unary minus binds tighter than all.
_LEVELS: Final[dict[str, int]] = {
    "or": 1,
    "and": 2,
    "=": 3,
    "!=": 3,
    "<": 4,
    "<=": 4,
    ">": 4,
    ">=": 4,
    "+": 5,
    "-": 5,
    "*": 6,
    "div": 6,
    "mod": 6,
}


@dataclass(frozen=True, slots=True)
class Number:
    """A numeric literal; never negative, because ``-`` is always a :class:`Negate` node."""

    value: int | float


@dataclass(frozen=True, slots=True)
class String:
    value: str


@dataclass(frozen=True, slots=True)
class Reference:
    """``${name}``; a matrix row is the single name ``question.row``."""

    name: str


@dataclass(frozen=True, slots=True)
class Current:
    """``.``: the answer being constrained."""


@dataclass(frozen=True, slots=True)
class ChoiceField:
    """``choice.<name>``: a field of the choice a choice filter is testing."""

    name: str


@dataclass(frozen=True, slots=True)
class Negate:
    operand: Node


@dataclass(frozen=True, slots=True)
class Operation:
    """Operators of one precedence level applied left to right: ``first op1 x1 op2 x2 ...``.

    A chain rather than nested binary nodes keeps long sums shallow, so the tree depth (and
    with it every recursive walk) is bounded by real nesting, not by expression length.
    """

    first: Node
    rest: tuple[tuple[str, Node], ...]

    def __post_init__(self) -> None:
        levels = {_LEVELS.get(op) for op, _ in self.rest}
        if len(levels) != 1 or None in levels:
            raise ValueError("an Operation needs operators of exactly one precedence level")


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple[Node, ...]


Node = Number | String | Reference | Current | ChoiceField | Negate | Operation | Call


def _children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, Negate):
        return (node.operand,)
    if isinstance(node, Operation):
        return (node.first, *(operand for _, operand in node.rest))
    if isinstance(node, Call):
        return node.args
    return ()


def _walk(tree: Node) -> Iterator[tuple[Node, int]]:
    """Yield every node with its depth (root = 1) without recursion, so any tree is safe."""
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        yield node, depth
        stack.extend((child, depth + 1) for child in _children(node))


# --- Tokenizer ------------------------------------------------------------------------------

_REFERENCE = re.compile(r"\$\{([A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)?)\}")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z][A-Za-z0-9_]*)*")
_CHOICE = re.compile(r"choice\.([A-Za-z][A-Za-z0-9_]*)")
_OPEN_PAREN = re.compile(r"\s*\(")
_SYMBOLS = ("!=", "<=", ">=", "=", "<", ">", "+", "-", "*", "(", ")", ",")
_KEYWORDS = frozenset({"and", "or", "div", "mod"})
_DIGITS = "0123456789"
_DIGIT_SET = frozenset(_DIGITS)

# Function name -> (minimum, maximum or None for variadic) argument count.
_ARITY: Final[dict[str, tuple[int, int | None]]] = {
    "not": (1, 1),
    "selected": (2, 2),
    "count-selected": (1, 1),
    "if": (3, 3),
    "string-length": (1, 1),
    "number": (1, 1),
    "round": (1, 2),
    "sum": (1, None),
    "min": (1, None),
    "max": (1, None),
    "coalesce": (2, 2),
    "true": (0, 0),
    "false": (0, 0),
}


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # number, string, reference, current, choice, name, op, end
    text: str
    position: int
    value: object = None


def _tokenize(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, length = 0, len(source)
    while i < length:
        char = source[i]
        if char.isspace():
            i += 1
        elif char == "$":
            match = _REFERENCE.match(source, i)
            if match is None:
                raise ExpressionError("Malformed reference, expected ${question_id}", i)
            tokens.append(_Token("reference", match.group(), i, match.group(1)))
            i = match.end()
        elif char in _DIGITS or (char == "." and source[i + 1 : i + 2] in _DIGIT_SET):
            match = _NUMBER.match(source, i)
            assert match is not None  # the first character is a digit or ".<digit>"
            tokens.append(_Token("number", match.group(), i, _number_literal(match.group(), i)))
            i = match.end()
        elif char == ".":
            tokens.append(_Token("current", ".", i))
            i += 1
        elif char in "'\"":
            end = source.find(char, i + 1)
            if end < 0:
                raise ExpressionError("Unterminated string starting", i)
            tokens.append(_Token("string", source[i : end + 1], i, source[i + 1 : end]))
            i = end + 1
        elif (match := _WORD.match(source, i)) is not None:
            word = match.group()
            # Hyphens belong to names like count-selected, but "a-b" elsewhere is subtraction.
            if "-" in word and word not in _ARITY and not _OPEN_PAREN.match(source, match.end()):
                word = word.split("-", 1)[0]
            if word == "choice" and (choice := _CHOICE.match(source, i)) is not None:
                tokens.append(_Token("choice", choice.group(), i, choice.group(1)))
                i = choice.end()
                continue
            kind = "op" if word in _KEYWORDS else "name"
            tokens.append(_Token(kind, word, i))
            i += len(word)
        else:
            symbol = next((s for s in _SYMBOLS if source.startswith(s, i)), None)
            if symbol is None:
                raise ExpressionError(f"Unexpected character {char!r}", i)
            tokens.append(_Token("op", symbol, i))
            i += len(symbol)
    tokens.append(_Token("end", "", length))
    return tokens


def _number_literal(text: str, position: int) -> int | float:
    number: int | float = float(text) if "." in text else int(text)
    if number > _MAX_FLOAT:
        raise ExpressionError("Number is too large", position)
    return number


# --- Parser ---------------------------------------------------------------------------------


def _describe(token: _Token) -> str:
    return "end of expression" if token.kind == "end" else repr(token.text)


def _arity_message(name: str, low: int, high: int | None, got: int) -> str:
    def plural(n: int) -> str:
        return f"{n} argument" if n == 1 else f"{n} arguments"

    if high is None:
        expected = f"at least {plural(low)}"
    elif low == high:
        expected = "no arguments" if low == 0 else plural(low)
    else:
        expected = f"{low} or {plural(high)}"
    return f"'{name}' takes {expected}, got {got}"


def _check_call(name: str, count: int, position: int | None) -> None:
    if name not in _ARITY:
        raise ExpressionError(f"Unknown function {name!r}", position)
    low, high = _ARITY[name]
    if count < low or (high is not None and count > high):
        raise ExpressionError(_arity_message(name, low, high, count), position)


class _Parser:
    """Pratt parser; ``depth`` counts nested descents so hostile input fails fast."""

    def __init__(self, source: str) -> None:
        self.tokens = _tokenize(source)
        self.index = 0
        self.depth = 0

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        if token.kind != "end":
            self.index += 1
        return token

    def descend(self, position: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(
                f"Expression is nested more than {MAX_DEPTH} levels deep", position
            )

    def parse(self) -> Node:
        tree = self.expression(1)
        token = self.peek()
        if token.kind != "end":
            raise ExpressionError(f"Unexpected {_describe(token)}", token.position)
        return tree

    def expression(self, min_level: int) -> Node:
        left = self.unary()
        while True:
            token = self.peek()
            level = _LEVELS.get(token.text) if token.kind == "op" else None
            if level is None or level < min_level:
                return left
            rest: list[tuple[str, Node]] = []
            while token.kind == "op" and _LEVELS.get(token.text) == level:
                self.advance()
                self.descend(token.position)
                rest.append((token.text, self.expression(level + 1)))
                self.depth -= 1
                token = self.peek()
            left = Operation(left, tuple(rest))

    def unary(self) -> Node:
        token = self.peek()
        if token.kind == "op" and token.text == "-":
            self.advance()
            self.descend(token.position)
            operand = self.unary()
            self.depth -= 1
            return Negate(operand)
        return self.primary()

    def primary(self) -> Node:
        token = self.advance()
        if token.kind == "number":
            return Number(token.value)  # type: ignore[arg-type]
        if token.kind == "string":
            return String(str(token.value))
        if token.kind == "reference":
            return Reference(str(token.value))
        if token.kind == "current":
            return Current()
        if token.kind == "choice":
            return ChoiceField(str(token.value))
        if token.kind == "op" and token.text == "(":
            self.descend(token.position)
            inner = self.expression(1)
            closing = self.advance()
            if closing.text != ")" or closing.kind != "op":
                raise ExpressionError("Expected ')'", closing.position)
            self.depth -= 1
            return inner
        if token.kind == "name":
            following = self.peek()
            if following.kind == "op" and following.text == "(":
                return self.call(token)
            raise ExpressionError(f"Unknown name {token.text!r}", token.position)
        raise ExpressionError(f"Unexpected {_describe(token)}", token.position)

    def call(self, name: _Token) -> Node:
        if name.text not in _ARITY:
            raise ExpressionError(f"Unknown function {name.text!r}", name.position)
        self.advance()  # "("
        self.descend(name.position)
        args: list[Node] = []
        if self.peek().text == ")" and self.peek().kind == "op":
            self.advance()
        else:
            while True:
                args.append(self.expression(1))
                separator = self.advance()
                if separator.kind == "op" and separator.text == ")":
                    break
                if separator.kind != "op" or separator.text != ",":
                    raise ExpressionError("Expected ',' or ')'", separator.position)
        self.depth -= 1
        _check_call(name.text, len(args), name.position)
        return Call(name.text, tuple(args))


# --- Canonical source -----------------------------------------------------------------------


def _number_source(value: int | float) -> str:
    if isinstance(value, int):
        return str(value)
    text = repr(value)
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")  # the grammar has no exponents
    return text if "." in text else f"{text}.0"


def _string_source(value: str) -> str:
    if "'" not in value:
        return f"'{value}'"
    if '"' not in value:
        return f'"{value}"'
    raise ValueError("a string literal cannot contain both quote characters")


def _operand_source(node: Node, level: int) -> str:
    text = _source(node)
    # Same-level chains in operand position came from explicit parentheses; keep them.
    if isinstance(node, Operation) and _LEVELS[node.rest[0][0]] <= level:
        return f"({text})"
    return text


def _source(node: Node) -> str:
    match node:
        case Number(value):
            return _number_source(value)
        case String(value):
            return _string_source(value)
        case Reference(name):
            return f"${{{name}}}"
        case Current():
            return "."
        case ChoiceField(name):
            return f"choice.{name}"
        case Negate(operand):
            inner = _source(operand)
            return f"-({inner})" if isinstance(operand, Operation) else f"-{inner}"
        case Operation(first, rest):
            level = _LEVELS[rest[0][0]]
            parts = [_operand_source(first, level)]
            for op, operand in rest:
                parts += [op, _operand_source(operand, level)]
            return " ".join(parts)
        case Call(name, args):
            return f"{name}({', '.join(_source(arg) for arg in args)})"
    raise TypeError(f"not an expression node: {node!r}")


# --- Values ---------------------------------------------------------------------------------


def _bounded(number: int | float) -> int | float | None:
    if isinstance(number, int):
        return number if -_MAX_INT <= number <= _MAX_INT else None
    return number if math.isfinite(number) and abs(number) <= _MAX_FLOAT else None


def _from_decimal(value: Decimal) -> int | float | None:
    if not value.is_finite() or abs(value) > _MAX_FLOAT:
        return None
    if value == value.to_integral_value():
        return int(value)
    return _bounded(float(value))


def _scalar(value: object) -> Value:
    """Normalise anything that is not a container; unsupported types read as empty."""
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, int):
        return _bounded(int(value))
    if isinstance(value, Decimal):
        return _from_decimal(value)
    if isinstance(value, Real):
        try:
            return _bounded(float(value))
        except (ArithmeticError, ValueError, TypeError):
            return None
    if isinstance(value, date | time):
        return value.isoformat()
    return None


def _normalize(value: object) -> Value:
    if isinstance(value, list | tuple):
        items = (_text(_scalar(item)) for item in value)
    elif isinstance(value, set | frozenset):
        items = iter(sorted(_text(_scalar(item)) for item in value))
    else:
        return _scalar(value)
    return [item for item in items if item]


def _format_float(value: float) -> str:
    if value.is_integer():
        return str(int(value))
    return format(Decimal(repr(value)), "f")


def _text(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _format_float(value)
    if isinstance(value, list):
        return " ".join(value)
    return value


_NUMERIC_TEXT = re.compile(r"\s*([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))\s*")


def _parse_number(text: str) -> int | float | None:
    match = _NUMERIC_TEXT.fullmatch(text)
    if match is None:
        return None
    literal = match.group(1)
    try:
        number: int | float = float(literal) if "." in literal else int(literal)
    except ValueError:  # more digits than int() accepts
        return None
    return _bounded(number)


def _is_empty(value: Value) -> bool:
    return value is None or (isinstance(value, str | list) and len(value) == 0)


def _as_number(value: Value) -> int | float | None:
    """The value as a number, or None when it is empty or not numeric."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        return _parse_number(value)
    if isinstance(value, list):
        return _parse_number(" ".join(value))
    return None


def _operand(value: Value) -> int | float | None:
    return 0 if _is_empty(value) else _as_number(value)


def truthy(value: object) -> bool:
    """XPath-like boolean: False, None, '', 0 and [] are false; everything else is true."""
    value = _normalize(value)
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    return len(value) > 0


def _to_decimal(number: int | float) -> Decimal:
    return Decimal(number) if isinstance(number, int) else Decimal(repr(number))


def _arithmetic(op: str, left: Value, right: Value) -> int | float | None:
    a, b = _operand(left), _operand(right)
    if a is None or b is None:
        return None
    try:
        if isinstance(a, int) and isinstance(b, int):
            result = _int_arithmetic(op, a, b)
        else:
            result = _decimal_arithmetic(op, _to_decimal(a), _to_decimal(b))
    except ArithmeticError:  # overflow converting a huge quotient, decimal traps
        return None
    return None if result is None else _bounded(result)


def _int_arithmetic(op: str, a: int, b: int) -> int | float | None:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if b == 0:
        return None
    if op == "div":
        quotient, remainder = divmod(a, b)
        return quotient if remainder == 0 else a / b
    remainder = abs(a) % abs(b)  # mod: sign of the dividend, as in XPath
    return -remainder if a < 0 else remainder


def _decimal_arithmetic(op: str, a: Decimal, b: Decimal) -> int | float | None:
    with localcontext(_ARITHMETIC_CONTEXT):
        if op == "+":
            return float(a + b)
        if op == "-":
            return float(a - b)
        if op == "*":
            return float(a * b)
        if b == 0:
            return None
        if op == "div":
            quotient = a / b
            return int(quotient) if quotient == quotient.to_integral_value() else float(quotient)
        return float(a % b)  # Decimal remainder already takes the sign of the dividend


def _compare(op: str, left: Value, right: Value) -> bool:
    a, b = _as_number(left), _as_number(right)
    if a is not None and b is not None:
        x: int | float | str = a
        y: int | float | str = b
    else:
        x, y = _text(left), _text(right)
        if op == "=":
            return x == y
        if op == "!=":
            return x != y
        if x == "" or y == "":
            return False
    if op == "=":
        return x == y
    if op == "!=":
        return x != y
    if op == "<":
        return x < y  # type: ignore[operator]
    if op == "<=":
        return x <= y  # type: ignore[operator]
    if op == ">":
        return x > y  # type: ignore[operator]
    return x >= y  # type: ignore[operator]


# --- Evaluator ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Scope:
    values: Mapping[str, object]
    current: object
    choice: Mapping[str, object] | None


def _evaluate(node: Node, scope: _Scope) -> Value:
    match node:
        case Number(value):
            return _bounded(value)
        case String(value):
            return value
        case Reference(name):
            return _normalize(scope.values.get(name))
        case Current():
            return _normalize(scope.current)
        case ChoiceField(name):
            return None if scope.choice is None else _normalize(scope.choice.get(name))
        case Negate(operand):
            return _arithmetic("-", 0, _evaluate(operand, scope))
        case Operation(first, rest):
            return _evaluate_operation(first, rest, scope)
        case Call(name, args):
            return _FUNCTIONS[name](args, scope)
    return None  # unreachable for trees accepted by Expression


def _evaluate_operation(first: Node, rest: tuple[tuple[str, Node], ...], scope: _Scope) -> Value:
    level = _LEVELS[rest[0][0]]
    if level <= 2:  # or / and: short-circuit, always a boolean
        wanted = level == 1
        for operand in (first, *(node for _, node in rest)):
            if truthy(_evaluate(operand, scope)) is wanted:
                return wanted
        return not wanted
    value = _evaluate(first, scope)
    for op, operand in rest:
        right = _evaluate(operand, scope)
        value = _compare(op, value, right) if level <= 4 else _arithmetic(op, value, right)
    return value


def _numbers(values: list[Value]) -> list[int | float] | None:
    """Flatten lists, skip empty items; None if any item is not numeric."""
    numbers: list[int | float] = []
    for value in values:
        for item in value if isinstance(value, list) else [value]:
            if _is_empty(item):
                continue
            number = _as_number(item)
            if number is None:
                return None
            numbers.append(number)
    return numbers


def _round(value: Value, places_value: Value) -> int | float | None:
    number = None if _is_empty(value) else _as_number(value)
    places_number = _operand(places_value)
    if number is None or places_number is None:
        return None
    places = max(-_ROUND_PLACES, min(_ROUND_PLACES, int(places_number)))
    if isinstance(number, int) and places >= 0:
        return number
    try:
        with localcontext(_ROUND_CONTEXT):
            exponent = Decimal(1).scaleb(-places)
            rounded = _to_decimal(number).quantize(exponent, rounding=ROUND_HALF_UP)
    except ArithmeticError:
        return None
    return _bounded(int(rounded) if places <= 0 else float(rounded))


_Function = Callable[[tuple[Node, ...], _Scope], Value]


def _function_table() -> dict[str, _Function]:
    def values(args: tuple[Node, ...], scope: _Scope) -> list[Value]:
        return [_evaluate(arg, scope) for arg in args]

    def selected(args: tuple[Node, ...], scope: _Scope) -> Value:
        haystack, needle = values(args, scope)
        items = haystack if isinstance(haystack, list) else _text(haystack).split()
        return _text(needle) in items

    def count_selected(args: tuple[Node, ...], scope: _Scope) -> Value:
        (value,) = values(args, scope)
        return len(value) if isinstance(value, list) else len(_text(value).split())

    def if_(args: tuple[Node, ...], scope: _Scope) -> Value:
        condition, then, otherwise = args
        return _evaluate(then if truthy(_evaluate(condition, scope)) else otherwise, scope)

    def coalesce(args: tuple[Node, ...], scope: _Scope) -> Value:
        first = _evaluate(args[0], scope)
        return _evaluate(args[1], scope) if _is_empty(first) else first

    def sum_(args: tuple[Node, ...], scope: _Scope) -> Value:
        numbers = _numbers(values(args, scope))
        if numbers is None:
            return None
        total: int | float | None = 0
        for number in numbers:
            total = _arithmetic("+", total, number)
            if total is None:  # overflow
                return None
        return total

    def extreme(pick: Callable[[list[int | float]], int | float]) -> _Function:
        def function(args: tuple[Node, ...], scope: _Scope) -> Value:
            numbers = _numbers(values(args, scope))
            return pick(numbers) if numbers else None

        return function

    return {
        "not": lambda args, scope: not truthy(_evaluate(args[0], scope)),
        "selected": selected,
        "count-selected": count_selected,
        "if": if_,
        "string-length": lambda args, scope: len(_text(_evaluate(args[0], scope))),
        "number": lambda args, scope: _as_number(_evaluate(args[0], scope)),
        "round": lambda args, scope: _round(*values(args, scope), *([None] * (2 - len(args)))),
        "sum": sum_,
        "min": extreme(min),
        "max": extreme(max),
        "coalesce": coalesce,
        "true": lambda args, scope: True,
        "false": lambda args, scope: False,
    }


_FUNCTIONS: Final = _function_table()


# --- Public API -----------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class Expression:
    """A parsed expression.  Equal when the trees are equal, whatever the original spelling."""

    tree: Node
    source: str = field(default="", compare=False)
    references: frozenset[str] = field(init=False, compare=False)
    choice_fields: frozenset[str] = field(init=False, compare=False)
    uses_current: bool = field(init=False, compare=False)

    def __post_init__(self) -> None:
        references: set[str] = set()
        choice_fields: set[str] = set()
        uses_current = False
        for node, depth in _walk(self.tree):
            if depth > MAX_DEPTH:
                raise ExpressionError(f"Expression is nested more than {MAX_DEPTH} levels deep")
            if isinstance(node, Reference):
                references.add(node.name)
            elif isinstance(node, ChoiceField):
                choice_fields.add(node.name)
            elif isinstance(node, Current):
                uses_current = True
            elif isinstance(node, Call):
                _check_call(node.name, len(node.args), None)
        object.__setattr__(self, "references", frozenset(references))
        object.__setattr__(self, "choice_fields", frozenset(choice_fields))
        object.__setattr__(self, "uses_current", uses_current)
        if not self.source:
            object.__setattr__(self, "source", self.to_source())

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"

    def to_source(self) -> str:
        """Canonical text: single spaces around operators, minimal parentheses."""
        return _source(self.tree)

    def evaluate(
        self,
        values: Mapping[str, object],
        current: object = None,
        choice: Mapping[str, object] | None = None,
    ) -> object:
        """Evaluate against answers keyed by question id (``q.row`` for matrix rows).

        Missing ids are empty.  Never raises.
        """
        return _evaluate(self.tree, _Scope({} if values is None else values, current, choice))


def parse(source: str) -> Expression:
    """Parse ``source``; raises :class:`ExpressionError` with a position on any problem."""
    if not isinstance(source, str):
        raise ExpressionError("Expression must be text")
    if len(source) > MAX_LENGTH:
        raise ExpressionError(f"Expression is longer than {MAX_LENGTH} characters", MAX_LENGTH)
    if not source.strip():
        raise ExpressionError("Expression is empty", 0)
    return Expression(_Parser(source).parse(), source)


def evaluate_bool(
    expr: Expression,
    values: Mapping[str, object],
    current: object = None,
    choice: Mapping[str, object] | None = None,
) -> bool:
    """Evaluate a relevance, constraint or filter expression to a plain boolean."""
    return truthy(expr.evaluate(values, current, choice))
