"""Parse and validate a user-written rate law against a whitelist of Python syntax.

A scenario's rate laws are strings (Brian2-like, e.g. "4 * exp(-(V + 65) / 18)"). They are
parsed with `ast` in "eval" mode and every node is checked against a whitelist; nothing of
the user's text is ever handed to `eval`/`exec`. What passes is arithmetic on numbers and
known names, a few math functions, and `a if cond else b`, so that code generation
(codegen.py) can translate it node by node into Numba-compilable source.

Two contexts keep the generated code well-typed: a *number* (the value of the rate law,
operands of arithmetic, arguments of functions, the branches of a conditional) and a
*condition* (the test of a conditional: comparisons joined by and/or/not). A comparison
is not a number and a number is not a condition, so `(V > 0) * 2` and `x if V else y` are
refused rather than silently meaning what Python would make of them.
"""
import ast
import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import InputError

#: the functions a rate law may call -> (least, most) positional arguments (None: any).
#: `exprel(x) = (exp(x) - 1) / x`, 1 at x = 0, as Brian2 defines it (brian2 docs,
#: examples/advanced/exprel_function.py): HH-style 0.1*(V+40)/(1-exp(-(V+40)/10)) is
#: 1/exprel(-(V+40)/10) without the 0/0 at V = -40.
FUNCTIONS = {"exp": (1, 1), "log": (1, 1), "sqrt": (1, 1), "abs": (1, 1),
             "min": (2, None), "max": (2, None), "exprel": (1, 1)}

_ARITH = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_REFUSED_OPS = {ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@", ast.LShift: "<<",
                ast.RShift: ">>", ast.BitOr: "|", ast.BitAnd: "&", ast.BitXor: "^"}
_COMPARE = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==",
            ast.NotEq: "!="}
# what the user wrote, named in the message, for nodes that are never allowed
_NODE_WORDS = {
    ast.Attribute: "attribute access", ast.Subscript: "subscript", ast.Lambda: "lambda",
    ast.JoinedStr: "f-string", ast.NamedExpr: "assignment expression ':='",
    ast.ListComp: "comprehension", ast.SetComp: "comprehension",
    ast.DictComp: "comprehension", ast.GeneratorExp: "comprehension",
    ast.List: "list", ast.Tuple: "tuple", ast.Dict: "dict", ast.Set: "set",
    ast.Starred: "starred expression", ast.Await: "await", ast.Yield: "yield",
    ast.YieldFrom: "yield", ast.Slice: "slice",
}
_MAX_SHOWN = 120  # characters of the user's text quoted in a message


class ExpressionError(InputError):
    """A rate-law string that is not a valid expression. `str()` is one line naming the
    key, the offending token and what is wrong (the CLI prints it and exits 2)."""

    def __init__(self, key, message):
        super().__init__(None, key, message)


@dataclass(frozen=True)
class Expression:
    """A validated expression. `tree` is the checked `ast.Expression`; `names` the allowed
    names it uses (the caller's parameters, V, T, concentrations ...)."""

    text: str
    key: str
    tree: ast.Expression
    names: frozenset

    def __str__(self):
        return self.text


def _one_line(s):
    s = " ".join(str(s).split())
    return s if len(s) <= _MAX_SHOWN else s[:_MAX_SHOWN - 3] + "..."


class _Checker:
    """Walks the tree; raises ExpressionError at the first node outside the whitelist."""

    def __init__(self, text, names, key):
        self.text, self.names, self.key = text, names, key
        self.used = set()

    def fail(self, what):
        raise ExpressionError(self.key, f'{what} in "{_one_line(self.text)}"')

    def src(self, node):
        seg = ast.get_source_segment(self.text, node)
        return _one_line(seg if seg is not None else ast.unparse(node))

    def refuse(self, node):
        """The message for a node that is allowed in no context."""
        word = _NODE_WORDS.get(type(node))
        if isinstance(node, ast.Attribute):
            self.fail(f"attribute access '.{node.attr}' is not allowed")
        if isinstance(node, ast.Constant):
            kind = type(node.value).__name__
            self.fail(f"{kind} constant {self.src(node)} is not allowed (only real numbers)")
        if word:
            self.fail(f"{word} '{self.src(node)}' is not allowed")
        self.fail(f"'{self.src(node)}' is not allowed")

    def number(self, node):
        if isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                self.refuse(node)
            try:
                finite = math.isfinite(float(v))
            except OverflowError:
                finite = False
            if not finite:
                self.fail(f"number {self.src(node)} is not finite")
        elif isinstance(node, ast.Name):
            self.name(node)
        elif isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                self.fail(f"'not' is only allowed in the condition of 'a if cond else b': "
                          f"'{self.src(node)}'")
            if not isinstance(node.op, (ast.UAdd, ast.USub)):
                self.fail(f"operator '~' is not allowed: '{self.src(node)}'")
            self.number(node.operand)
        elif isinstance(node, ast.BinOp):
            op = type(node.op)
            if op not in _ARITH:
                sym = _REFUSED_OPS.get(op, "?")
                hint = " (write '**' for a power)" if sym == "^" else ""
                self.fail(f"operator '{sym}' is not allowed in '{self.src(node)}'{hint} "
                          f"(allowed: + - * / **)")
            self.number(node.left)
            self.number(node.right)
        elif isinstance(node, ast.Call):
            self.call(node)
        elif isinstance(node, ast.IfExp):
            self.condition(node.test)
            self.number(node.body)
            self.number(node.orelse)
        elif isinstance(node, (ast.Compare, ast.BoolOp)):
            self.fail(f"condition '{self.src(node)}' is only allowed as the test of "
                      f"'a if cond else b'")
        else:
            self.refuse(node)

    def condition(self, node):
        if isinstance(node, ast.Compare):
            for op in node.ops:
                if type(op) not in _COMPARE:
                    sym = {ast.Is: "is", ast.IsNot: "is not", ast.In: "in",
                           ast.NotIn: "not in"}.get(type(op), "?")
                    self.fail(f"comparison '{sym}' is not allowed in '{self.src(node)}' "
                              f"(allowed: < <= > >= == !=)")
            self.number(node.left)
            for c in node.comparators:
                self.number(c)
        elif isinstance(node, ast.BoolOp):
            for v in node.values:
                self.condition(v)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            self.condition(node.operand)
        else:
            self.fail(f"the condition '{self.src(node)}' of 'a if cond else b' must be a "
                      f"comparison (< <= > >= == !=, joined by and/or/not)")

    def name(self, node):
        n = node.id
        if n not in self.names:
            hint = ""
            if n in FUNCTIONS:
                hint = f"; {n} is a function: call it as {n}(...)"
            else:
                close = [k for k in self.names if k.lower() == n.lower()] or \
                    difflib.get_close_matches(n, list(self.names), n=1)
                if close:
                    hint = f"; did you mean '{close[0]}'?"
            known = ", ".join(self.names) or "none"
            raise ExpressionError(self.key, f"unknown name '{n}' in "
                                  f'"{_one_line(self.text)}" (known: {known}){hint}')
        self.used.add(n)

    def call(self, node):
        f = node.func
        if not isinstance(f, ast.Name):
            self.number(f)  # names what is wrong with it (attribute, lambda ...)
            self.fail(f"'{self.src(f)}' is not a function")
        if f.id not in FUNCTIONS:
            self.fail(f"unknown function '{f.id}' (allowed: {', '.join(FUNCTIONS)})")
        for kw in node.keywords:
            shown = f"{kw.arg}=" if kw.arg else "**"
            self.fail(f"keyword argument '{shown}' in a call to {f.id}() is not allowed")
        for a in node.args:
            if isinstance(a, ast.Starred):
                self.fail(f"starred argument '{self.src(a)}' in a call to {f.id}() is not "
                          f"allowed")
        least, most = FUNCTIONS[f.id]
        n = len(node.args)
        if n < least or (most is not None and n > most):
            want = f"{least}" if least == most else f"at least {least}"
            self.fail(f"{f.id}() takes {want} argument{'s' if want != '1' else ''}, "
                      f"got {n}: '{self.src(node)}'")
        for a in node.args:
            self.number(a)


def parse(text, names, key):
    """Parse `text` (a rate law) into an Expression, allowing the names in `names` (a
    mapping name -> description, or any iterable of names; its order is the order the
    message lists them in). `key` (e.g. "mechanisms.CaL.alpha_m") starts any error message.

    Raises ExpressionError for anything outside the whitelist (listed in the package's
    docstring, ionmc/expressions/__init__.py)."""
    if not isinstance(text, str):
        raise ExpressionError(key, f"expected an expression as a string, got "
                                   f"{_one_line(repr(text))}")
    if not text.strip():
        raise ExpressionError(key, "empty expression")
    if not isinstance(names, Mapping):  # a mapping is read, not copied (thousands of names)
        names = dict.fromkeys(names)
    # one line: a TOML multi-line string may break a long rate law over lines; whitespace
    # means nothing else in what the whitelist allows (no strings), except that a comment
    # would swallow the lines after it once joined, so '#' is refused first
    if "#" in text:
        raise ExpressionError(key, f"comment '#' is not allowed in \"{_one_line(text)}\"")
    text = " ".join(text.split())
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as e:
        col = e.offset if e.lineno == 1 and e.offset else len(text) + 1
        near = text[col - 1:][:20].strip()
        where = f" at '{near}'" if near else " at the end"
        raise ExpressionError(key, f'syntax error ({e.msg}){where} in '
                                   f'"{_one_line(text)}"') from None
    except (ValueError, RecursionError, MemoryError) as e:  # null bytes, absurd nesting
        raise ExpressionError(key, f'cannot parse "{_one_line(text)}": '
                                   f'{_one_line(e)}') from None
    checker = _Checker(text, names, key)
    try:
        checker.number(tree.body)
    except RecursionError:
        raise ExpressionError(key, f'expression nested too deeply: "{_one_line(text)}"') \
            from None
    return Expression(text, key, tree, frozenset(checker.used))


def names_used(expr):
    """The allowed names `expr` uses (what the caller must pass to its compiled form)."""
    return expr.names
