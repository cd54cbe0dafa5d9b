"""A small evaluator of the Terraform estate, enough to read what an apply would hand a
workload: its container environment, its Lambda environment, its role's policy JSON.

It walks python-hcl2's rule tree (hcl2.parses) instead of the serialized dicts, so
`merge(local.a, {...})`, `for` expressions, conditionals, templates, `dynamic` blocks and
module outputs evaluate as Terraform would. What only an apply knows (a resource's ARN, a
generated id) comes from `known`, an address -> value table the caller fills (in the
contract tests: the moto resources made under the Terraform names); anything else comes
back as `Unknown(address)`, which renders as `<address>` inside strings.

Addresses in `known`: `aws_sqs_queue.jobs.arn`, `aws_secretsmanager_secret.app["signing-keys"].arn`,
`data.aws_region.current.name` (no module path: resource names are unique in this estate).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2
import yaml
from hcl2.rules.base import AttributeRule, BlockRule
from hcl2.utils import process_escape_sequences

Env = dict[str, Any]


@dataclass(frozen=True)
class Unknown:
    """A value only an apply knows."""

    address: str

    def __str__(self) -> str:
        return f"<{self.address}>"


class EvaluationError(Exception):
    pass


_TREES: dict[Path, Any] = {}


def _tree(path: Path) -> Any:
    if path not in _TREES:
        _TREES[path] = hcl2.parses(path.read_text(), discard_comments=True)
    return _TREES[path]


def _rules(body: Any) -> Iterator[Any]:
    return (c for c in body.children if isinstance(c, (AttributeRule, BlockRule)))


def attributes(body: Any) -> dict[str, Any]:
    return {c.identifier.serialize(): c.expression for c in _rules(body)
            if isinstance(c, AttributeRule)}


def blocks(body: Any, kind: str | None = None) -> list[BlockRule]:
    return [c for c in _rules(body) if isinstance(c, BlockRule)
            and (kind is None or _label(c.labels[0]) == kind)]


def _label(rule: Any) -> str:
    value = rule.serialize()
    return value[1:-1] if isinstance(value, str) and value.startswith('"') else str(value)


def _name(rule: Any) -> str:
    return str(rule.serialize())


def _key(value: Any) -> str:
    return f"[{json.dumps(value)}]" if value is not None else ""


class Module:
    """One module instance: its variables, locals, resources, data sources and children."""

    def __init__(self, directory: Path, world: World, arguments: dict[str, Callable[[], Any]],
                 path: str = "") -> None:
        self.directory, self.world, self.arguments, self.path = directory, world, arguments, path
        self.variables: dict[str, Any] = {}
        self.locals: dict[str, Any] = {}
        self.outputs: dict[str, Any] = {}
        self.module_calls: dict[str, Any] = {}
        self.resources: dict[tuple[str, str], Any] = {}
        self.data: dict[tuple[str, str], Any] = {}
        for file in sorted(directory.glob("*.tf")):
            for block in blocks(_tree(file).body):
                kind, labels = _label(block.labels[0]), [_label(x) for x in block.labels[1:]]
                if kind == "locals":
                    self.locals.update(attributes(block.body))
                elif kind == "variable":
                    self.variables[labels[0]] = block.body
                elif kind == "output":
                    self.outputs[labels[0]] = block.body
                elif kind == "module":
                    self.module_calls[labels[0]] = block.body
                elif kind == "resource":
                    self.resources[(labels[0], labels[1])] = block.body
                elif kind == "data":
                    self.data[(labels[0], labels[1])] = block.body
        self._cache: dict[str, Any] = {}
        self._children: dict[str, Module] = {}

    # -- namespaces -------------------------------------------------------------------
    def var(self, name: str) -> Any:
        if name in self.arguments:
            return self.arguments[name]()
        body = self.variables.get(name)
        if body is None:
            raise EvaluationError(f"{self.directory}: no variable {name}")
        default = attributes(body).get("default")
        return self.eval(default) if default is not None else Unknown(f"var.{name}")

    def local(self, name: str) -> Any:
        key = f"local.{name}"
        if key not in self._cache:
            if name not in self.locals:
                raise EvaluationError(f"{self.directory}: no local {name}")
            self._cache[key] = self.eval(self.locals[name])
        return self._cache[key]

    def module(self, name: str) -> Module:
        if name not in self._children:
            body = self.module_calls[name]
            args = attributes(body)
            source = self.eval(args.pop("source"))
            args.pop("providers", None)
            self._children[name] = Module(
                (self.directory / source).resolve(), self.world,
                {k: (lambda e=e: self.eval(e)) for k, e in args.items()},
                f"{self.path}module.{name}.")
        return self._children[name]

    def output(self, name: str) -> Any:
        return self.eval(attributes(self.outputs[name])["value"])

    # -- resources --------------------------------------------------------------------
    def instances(self, kind: str, type_: str, name: str) -> dict[Any, Instance]:
        """{key: instance} of a resource or data block (key None without for_each/count)."""
        body = (self.resources if kind == "resource" else self.data)[(type_, name)]
        args = attributes(body)
        if "for_each" in args:
            each = self.eval(args["for_each"])
            if isinstance(each, Unknown):
                raise EvaluationError(f"{type_}.{name}: for_each over {each}")
            items = each.items() if isinstance(each, dict) else ((k, k) for k in each)
            return {k: Instance(self, kind, type_, name, body, k, v) for k, v in items}
        if "count" in args:
            return {i: Instance(self, kind, type_, name, body, i, None)
                    for i in range(int(self.eval(args["count"])))}
        return {None: Instance(self, kind, type_, name, body, None, None)}

    # -- expressions ------------------------------------------------------------------
    def eval(self, node: Any, env: Env | None = None) -> Any:
        return _Evaluator(self, env or {}).eval(node)


@dataclass
class Instance:
    module: Module
    kind: str
    type: str
    name: str
    body: Any
    key: Any
    each_value: Any

    @property
    def address(self) -> str:
        prefix = "data." if self.kind == "data" else ""
        return f"{prefix}{self.type}.{self.name}{_key(self.key)}"

    @property
    def env(self) -> Env:
        if self.key is None:
            return {}
        if self.each_value is None:
            return {"count": {"index": self.key}}
        return {"each": {"key": self.key, "value": self.each_value}}

    def argument(self, name: str) -> Any:
        expression = attributes(self.body).get(name)
        return None if expression is None else self.module.eval(expression, self.env)

    def nested(self, name: str) -> list[dict[str, Any]]:
        """The attributes of each nested `name { ... }` block, evaluated."""
        return [{k: self.module.eval(e, self.env) for k, e in attributes(b.body).items()}
                for b in blocks(self.body, name)]

    def attr(self, name: str) -> Any:
        address = f"{self.address}.{name}"
        known = self.module.world.known
        if address in known:
            return known[address]
        if self.type == "aws_iam_policy_document" and name == "json":
            return json.dumps(policy_document(self), default=str)
        if self.type == "aws_iam_role" and name == "id":
            return self.argument("name")
        if name in attributes(self.body):
            return self.argument(name)
        return Unknown(address)


def policy_document(document: Instance) -> dict[str, Any]:
    """The policy JSON an aws_iam_policy_document renders (statements, conditions)."""
    statements = []
    contents = [(b.body, document.env) for b in blocks(document.body, "statement")]
    for dynamic in blocks(document.body, "dynamic"):
        if _label(dynamic.labels[1]) != "statement":
            continue
        args = attributes(dynamic.body)
        iterator = document.module.eval(args["iterator"]) if "iterator" in args else "statement"
        each = document.module.eval(args["for_each"], document.env)
        items = each.items() if isinstance(each, dict) else enumerate(each)
        content = blocks(dynamic.body, "content")[0].body
        for k, v in items:
            contents.append((content, {**document.env, iterator: {"key": k, "value": v}}))
    for body, env in contents:
        values = {k: document.module.eval(e, env) for k, e in attributes(body).items()}
        statement: dict[str, Any] = {"Effect": values.get("effect", "Allow")}
        for hcl, aws in (("sid", "Sid"), ("actions", "Action"), ("not_actions", "NotAction"),
                         ("resources", "Resource"), ("not_resources", "NotResource")):
            if values.get(hcl) is not None:
                statement[aws] = values[hcl]
        conditions: dict[str, dict[str, list[Any]]] = {}
        for condition in blocks(body, "condition"):
            c = {k: document.module.eval(e, env) for k, e in attributes(condition.body).items()}
            conditions.setdefault(c["test"], {})[c["variable"]] = list(c["values"])
        if conditions:
            statement["Condition"] = conditions
        statements.append(statement)
    return {"Version": "2012-10-17", "Statement": statements}


def environment(directory: Path, world: World) -> Module:
    """The root module of an environment, its variables from terraform.tfvars."""
    values = attributes(_tree(directory / "terraform.tfvars").body)
    root = Module(directory, world, {})
    root.arguments = {k: (lambda e=e: root.eval(e)) for k, e in values.items()}
    return root


@dataclass
class World:
    """What only an apply knows, by address; see the module docstring."""

    known: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Lazy:
    """A namespace (var, local, module.x, a resource type...) read one attribute at a time."""

    get: Callable[[str], Any]
    index: Callable[[Any], Any] | None = None
    items: Callable[[], dict[Any, Any]] | None = None


class _Evaluator:
    def __init__(self, module: Module, env: Env) -> None:
        self.m, self.env = module, env

    def eval(self, node: Any) -> Any:
        method = getattr(self, f"_{type(node).__name__}", None)
        if method is None:
            raise EvaluationError(f"cannot evaluate {type(node).__name__}: {node.serialize()}")
        return method(node)

    # terms
    def _ExprTermRule(self, node: Any) -> Any:
        return self.eval(node.expression)

    def _IntLitRule(self, node: Any) -> Any:
        return int(node.serialize())

    def _FloatLitRule(self, node: Any) -> Any:
        return float(node.serialize())

    def _LiteralValueRule(self, node: Any) -> Any:
        return {"true": True, "false": False, "null": None}[str(node.token.value)]

    _KeywordRule = _LiteralValueRule

    def _StringRule(self, node: Any) -> Any:
        parts = []
        for part in node.string_parts:
            content = part.content
            if type(content).__name__ == "InterpolationRule":
                value = self.eval(content.expression)
                parts.append(str(value) if not isinstance(value, bool) else str(value).lower())
            elif content.lark_name() == "STRING_CHARS":
                parts.append(process_escape_sequences(str(content.value)))
            else:  # $${ or %%{
                parts.append(str(content.value)[1:])
        return "".join(parts)

    def _HeredocTemplateRule(self, node: Any) -> Any:
        text = str(node.serialize())
        return text.split("\n", 1)[1].rsplit("\n", 1)[0] if "\n" in text else text

    def _TupleRule(self, node: Any) -> Any:
        return [self.eval(e) for e in node.elements]

    def _ObjectRule(self, node: Any) -> Any:
        result = {}
        for element in node.elements:
            key = element.key
            if type(key).__name__ == "ObjectElemKeyExpressionRule":
                name = self.eval(key.expression)
            elif type(key.value).__name__ == "IdentifierRule":
                name = _name(key.value)
            else:
                name = self.eval(key.value)
            result[str(name)] = self.eval(element.expression)
        return result

    def _IdentifierRule(self, node: Any) -> Any:
        name = _name(node)
        if name in self.env:
            return self.env[name]
        m = self.m
        if name == "var":
            return _Lazy(m.var)
        if name == "local":
            return _Lazy(m.local)
        if name == "module":
            return _Lazy(lambda n: _Lazy(m.module(n).output))
        if name == "path":
            return _Lazy(lambda n: str(m.directory))
        if name == "data":
            return _Lazy(lambda t: _Lazy(lambda n: self._resource("data", t, n)))
        if name.startswith("aws_") or name.startswith("random_"):
            return _Lazy(lambda n: self._resource("resource", name, n))
        raise EvaluationError(f"unknown name {name}")

    def _resource(self, kind: str, type_: str, name: str) -> Any:
        found = self.m.instances(kind, type_, name)
        if list(found) == [None]:
            return _Lazy(found[None].attr)
        return _Lazy(lambda a: Unknown(f"{type_}.{name}.{a}"),
                     index=lambda k: _Lazy(found[k].attr),
                     items=lambda: {k: _Lazy(i.attr) for k, i in found.items()})

    def _GetAttrExprTermRule(self, node: Any) -> Any:
        return _get(self.eval(node.expr_term), _name(node.get_attr.identifier))

    def _IndexExprTermRule(self, node: Any) -> Any:
        base, index = (c for c in node.children if not _is_token(c))
        if type(index).__name__ == "ShortIndexRule":
            key: Any = int(index.index.serialize())
        else:
            key = self.eval(index.index_expression)
        return _index(self.eval(base), key)

    def _ConditionalRule(self, node: Any) -> Any:
        condition = self.eval(node.condition)
        if isinstance(condition, Unknown):
            return Unknown(f"({condition.address} ? ...)")
        return self.eval(node.if_true if condition else node.if_false)

    def _UnaryOpRule(self, node: Any) -> Any:
        value = self.eval(node.expr_term)
        return (not value) if node.operator == "!" else -value

    def _BinaryOpRule(self, node: Any) -> Any:
        left = self.eval(node.expr_term)
        op = str(node.binary_term.binary_operator.serialize()).strip()
        right = self.eval(node.binary_term.expr_term)
        operations: dict[str, Callable[[Any, Any], Any]] = {
            "==": lambda a, b: a == b, "!=": lambda a, b: a != b,
            "&&": lambda a, b: a and b, "||": lambda a, b: a or b,
            "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
            "/": lambda a, b: a / b, "%": lambda a, b: a % b,
            "<": lambda a, b: a < b, ">": lambda a, b: a > b,
            "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b,
        }
        if isinstance(left, Unknown) or isinstance(right, Unknown):
            return Unknown(f"({left} {op} {right})")
        return operations[op](left, right)

    def _for(self, node: Any) -> Iterator[Env]:
        intro = node.for_intro
        iterable = self.eval(intro.iterable)
        first = _name(intro.first_iterator)
        second = _name(intro.second_iterator) if intro.second_iterator is not None else None
        if isinstance(iterable, _Lazy) and iterable.items is not None:
            iterable = iterable.items()
        if isinstance(iterable, Unknown):
            raise EvaluationError(f"for over {iterable}")
        pairs = iterable.items() if isinstance(iterable, dict) else enumerate(iterable)
        for k, v in pairs:
            scope = {**self.env, **({first: k, second: v} if second else {first: v})}
            if node.condition is None or _Evaluator(self.m, scope).eval(
                    node.condition.condition_expr):
                yield scope

    def _ForTupleExprRule(self, node: Any) -> Any:
        return [_Evaluator(self.m, s).eval(node.value_expr) for s in self._for(node)]

    def _ForObjectExprRule(self, node: Any) -> Any:
        result = {}
        for scope in self._for(node):
            inner = _Evaluator(self.m, scope)
            result[str(inner.eval(node.key_expr))] = inner.eval(node.value_expr)
        return result

    def _FullSplatExprTermRule(self, node: Any) -> Any:
        items = self.eval(node.expr_term)
        items = items if isinstance(items, list) else [items]
        for attr in node.attr_splat.get_attrs:
            items = [_get(i, _name(attr.identifier)) for i in items]
        return items

    _AttrSplatExprTermRule = _FullSplatExprTermRule

    def _FunctionCallRule(self, node: Any) -> Any:
        name = "::".join(_name(i) for i in node.identifiers)
        args_rule = node.arguments
        expressions = args_rule.arguments if args_rule is not None else []
        if name == "try":
            for expression in expressions:
                try:
                    return self.eval(expression)
                except (EvaluationError, KeyError, IndexError, TypeError):
                    continue
            raise EvaluationError("try(): no argument evaluated")
        args = [self.eval(e) for e in expressions]
        if args_rule is not None and args_rule.has_ellipsis:
            args = args[:-1] + list(args[-1])
        function = FUNCTIONS.get(name)
        if function is None or any(isinstance(a, Unknown) for a in args):
            return Unknown(f"{name}(...)")
        return function(*args)


def _is_token(node: Any) -> bool:
    return not hasattr(node, "children")


def _get(base: Any, name: str) -> Any:
    if isinstance(base, _Lazy):
        return base.get(name)
    if isinstance(base, Unknown):
        return Unknown(f"{base.address}.{name}")
    if isinstance(base, dict):
        return base[name]
    raise EvaluationError(f"no attribute {name} on {base!r}")


def _index(base: Any, key: Any) -> Any:
    if isinstance(base, _Lazy):
        if base.index is None:
            raise EvaluationError(f"cannot index {base!r}")
        return base.index(key)
    if isinstance(base, Unknown) or isinstance(key, Unknown):
        return Unknown(f"{base}[{key}]")
    return base[key]


def _merge(*maps: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for item in maps:
        result.update(item or {})
    return result


def _format(template: str, *args: Any) -> str:
    return template.replace("%d", "%s") % tuple(args)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "merge": _merge,
    "concat": lambda *lists: [x for item in lists for x in item],
    "join": lambda sep, items: sep.join(str(i) for i in items),
    "split": lambda sep, text: text.split(sep),
    "replace": lambda text, old, new: text.replace(old, new),
    "values": lambda m: list(m.values()),
    "keys": lambda m: sorted(m),
    "toset": lambda items: sorted(set(items), key=str),
    "tolist": list,
    "tomap": dict,
    "tostring": str,
    "tonumber": float,
    "contains": lambda items, value: value in items,
    "length": len,
    "lookup": lambda m, k, *default: m.get(k, *default) if default else m[k],
    "jsonencode": lambda value: json.dumps(value, default=str, separators=(",", ":")),
    "jsondecode": json.loads,
    "yamlencode": lambda value: yaml.safe_dump(value, sort_keys=True),
    "floor": math.floor,
    "format": _format,
    "substr": lambda text, start, length: text[start:start + length if length >= 0 else None],
    "lower": str.lower,
    "upper": str.upper,
    "coalesce": lambda *items: next(i for i in items if i not in (None, "")),
    "flatten": lambda items: [x for i in items for x in (i if isinstance(i, list) else [i])],
    "distinct": lambda items: list(dict.fromkeys(items)),
    "compact": lambda items: [i for i in items if i],
    "startswith": lambda text, prefix: text.startswith(prefix),
    "endswith": lambda text, suffix: text.endswith(suffix),
    "max": max,
    "min": min,
    "abs": abs,
}
