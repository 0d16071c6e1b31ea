"""openapi-python-client's errors and warnings as problems that say where in the document they are.

Its warnings mean "this operation, response, media type or model will be missing from the
client". Each becomes one problem naming what is missing (method, path, status code, media type,
parameter) and why, at the JSON pointer of the missing part: a warning by default, listed in the
generated project as not generated, or an error for a strict client (see ``ClientJob.strict``).
Its messages name endpoints as ``METHOD path`` and schemas by pointer, and some names as object
reprs; these are turned into JSON pointers and readable names here.
"""

from __future__ import annotations

import contextlib
import io
import re
import traceback
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, TypeVar

from openapi_python_client.parser import GeneratorData
from openapi_python_client.parser.errors import ErrorLevel, GeneratorError, ParseError
from openapi_python_client.schema import OpenAPI, Parameter
from openapi_python_client.schema.untrusted_string import UntrustedString
from openapi_python_client.strings import PythonIdentifier
from pydantic import BaseModel, ValidationError

from ._document import Document, walk
from ._jsonish import as_list, as_mapping
from ._pointer import join_pointer, node_at, split_pointer, split_ref
from ._problems import Problem, Severity

__all__ = ["guarded", "parse_errors", "problems_from", "unreadable"]

_T = TypeVar("_T")

_ENDPOINT_HEADER = re.compile(r"^WARNING parsing (?P<method>[A-Z]+) (?P<path>\S+) within ")
_SCHEMA_HEADER = re.compile(r"(?:parse|process) schema (?P<pointer>/components/\w+/[^\s:]+)")
_UNTRUSTED_REPR = re.compile(
    r"<openapi_python_client\.schema\.untrusted_string\.UntrustedString object at 0x[0-9a-f]+>"
)
_OBJECT_REPR = re.compile(r"<[\w.]+ object at 0x[0-9a-f]+>")
_OMITTED_RESPONSE = re.compile(
    r"^(?:Cannot parse response for status code (?P<code>.+?)(?: \((?P<why>.*)\))?|"
    r"Invalid response status code pattern: (?P<pattern>\S+?)), response will be omitted from generated client$",
    re.DOTALL,
)
_PARAMETER = re.compile(r"^cannot parse parameter of endpoint \S+: (?P<why>.*)$", re.DOTALL)
_MEDIA_TYPE = re.compile(r"^Unsupported content type (?P<type>\S+)$")
_BODY_DETAILS = frozenset({"Invalid content type", "Missing schema"})
_OMITS_ENDPOINT = "Endpoint will not be generated."
_MAX_READ_ERRORS = 20
_DUPLICATE = re.compile(r'Attempted to generate duplicate models with name "(?P<name>[^"]+)"')
_CANNOT_READ = "openapi-python-client cannot read this"
_NOT_FOUND = "Could not find reference in parsed models or enums"
_REMOVAL_START = "Failure to process schema has resulted in the removal of:"
_REMOVAL = re.compile(r"\s*" + _REMOVAL_START + ".*$", re.DOTALL)
_REMOVED = re.compile(r"/components/schemas/[^\s:]+")
_UNION = "Invalid property in union …"
_SCHEMA_PREFIX = re.compile(r"Unable to (?:parse|process) schema /components/\w+/[^\s:]+:?\s*")
_TYPE_SET = re.compile(r"\{(<class '\w+'>(?:, <class '\w+'>)*)\}")


def guarded(display: str, step: Callable[[], _T]) -> _T | Problem:
    """Run a step of openapi-python-client: its progress output swallowed, a crash on odd input a problem.

    It prints progress (noise for our CLI) and may raise on a document it cannot model; that is
    a problem with the input for the user, reported with the document's name and, as far as the
    crash shows it, the operation or schema it was modelling: never a traceback.
    """
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            return step()
    except RecursionError:
        return Problem(display, "", "openapi-python-client could not model the document: nested too deeply")
    except Exception as err:  # noqa: BLE001 - see the docstring: an upstream crash is reported as a problem with the input.
        pointer, construct = _crash_site(err.__traceback__)
        reason = _OBJECT_REPR.sub("…", f"{type(err).__name__}: {err}")
        return Problem(display, pointer, f"openapi-python-client cannot model {construct} ({reason})")


def _crash_site(trace: TracebackType | None) -> tuple[str, str]:
    """The pointer and a name of what openapi-python-client was modelling when it raised, read from its frames.

    Its modelling loops keep the operation's ``path`` and ``method`` and the schema's component
    ``name`` in locals; the innermost frame that has them names the construct. No frame is
    entered or changed: the locals are only read.
    """
    site = ("", "this document")
    for frame, _ in traceback.walk_tb(trace):
        names = frame.f_locals
        module = frame.f_globals.get("__name__", "")
        if not str(module).startswith("openapi_python_client"):
            continue
        path, method, name = names.get("path"), names.get("method"), names.get("name")
        if isinstance(method, str) and isinstance(path, UntrustedString):
            untrusted = path.get_untrusted_value()
            site = (join_pointer("/paths", untrusted, method), f"the operation {method.upper()} {untrusted}")
        elif frame.f_code.co_name == "_create_schemas" and isinstance(name, UntrustedString):
            component = name.get_untrusted_value()
            site = (join_pointer("/components/schemas", component), f"the schema {component!r}")
    return site


def unreadable(display: str, document: Document, modelled: Document) -> list[Problem]:
    """Why openapi-python-client cannot even read ``modelled`` (its form of ``document``): one error per place.

    It reports the failure as one text with pydantic's dotted locations, ambiguous where a path
    has dots; validated again here, each location is a tuple that becomes a JSON pointer.
    """
    hint = " (Swagger 2.0 documents are not supported)" if "swagger" in document else ""
    try:
        OpenAPI.model_validate(modelled)
    except ValidationError as err:
        found = err.errors()[:_MAX_READ_ERRORS]
        return [
            Problem(
                display, _pointer_of(document, e["loc"], e["type"] == "missing"), f"{_CANNOT_READ}: {e['msg']}{hint}"
            )
            for e in found
        ]
    return [Problem(display, "", f"{_CANNOT_READ} document{hint}")]


def _pointer_of(document: Document, loc: tuple[int | str, ...], missing: bool) -> str:
    """The pointer of a pydantic location: its tokens that are in the document (the rest name union branches).

    A ``missing`` field is named by its own token, which the document lacks by definition.
    """
    node: object = document
    pointer = ""
    for token in loc[:-1] if missing and loc else loc:
        fields, items = as_mapping(node), as_list(node)
        if str(token) in fields:
            node = fields[str(token)]
        elif isinstance(token, int) and 0 <= token < len(items):
            node = items[token]
        else:
            continue
        pointer = join_pointer(pointer, token)
    return join_pointer(pointer, loc[-1]) if missing and loc else pointer


def parse_errors(data: GeneratorData) -> list[GeneratorError]:
    """Every error openapi-python-client recorded while modelling, each once."""
    errors: list[GeneratorError] = list(data.errors)
    for collection in data.endpoint_collections_by_tag.values():
        errors.extend(error for error in collection.parse_errors if error not in errors)
    return errors


def problems_from(
    display: str,
    errors: Sequence[GeneratorError],
    document: Document,
    *,
    strict: bool = True,
    data: GeneratorData | None = None,
) -> list[Problem]:
    """openapi-python-client's errors as problems, located in the document.

    Its warnings (something left out of the client) are warnings unless ``strict``; its errors
    (nothing could be modelled) are always errors. ``data``, the model, tells which responses
    were generated: some messages show the omitted one's status code as an object repr only.
    """
    generated = _generated_responses(data)
    claimed: dict[tuple[str, str], list[str]] = {}
    located = [(error, _SCHEMA_HEADER.search(f"{error.header} {error.detail or ''}")) for error in errors]
    # Models left out make operations and other models that use them fail to "find a reference": name them.
    failed = {found["pointer"] for _, found in located if found is not None}
    for error, _ in located:
        failed.update(_removed(error.detail or ""))
    problems: list[Problem] = []
    for error, schema in located:
        header = error.header.strip()
        detail = (error.detail or "").strip()
        duplicate = _DUPLICATE.search(detail)
        # (Collisions a title can resolve were resolved before, see ._model_names: the rest are left out, listed.)
        lenient = error.level is ErrorLevel.WARNING and not strict
        severity = Severity.WARNING if lenient else Severity.ERROR
        remedy = ""
        if duplicate is not None:
            remedy = f"{_owner(data, document, duplicate['name'])}; rename one of them or give it a distinct title"
        match = _ENDPOINT_HEADER.match(header)
        if match:
            missing = claimed.setdefault((match["method"], match["path"]), _omitted_codes(document, match, generated))
            pointer, text = _endpoint_problem(document, match, missing, header, detail, error)
            text = _name_references(document, pointer, text, failed)
            problems.append(Problem(display, pointer, _worded(text, remedy, lenient), severity))
            continue
        pointer = schema["pointer"] if schema is not None else ""
        if schema is None and error.level is ErrorLevel.WARNING:
            pointer = "/components/schemas"
        if _UNTRUSTED_REPR.search(detail):
            # openapi-python-client formats some names as object reprs; say which names clash where we can.
            detail = _name_clashes(document, pointer) or _UNTRUSTED_REPR.sub("…", detail)
        if schema is not None and error.level is ErrorLevel.WARNING:
            text = _name_references(document, pointer, _schema_text(document, pointer, f"{header} {detail}"), failed)
        else:
            # Without a pointer (an inline schema), the removal list is empty: say what is left out instead.
            text = _OBJECT_REPR.sub("…", _REMOVAL.sub("", f"{header} {detail}").strip())
            if lenient:
                text = f"{_sentence(text)}; this model is not generated"
        problems.append(Problem(display, pointer, _worded(text, remedy, lenient), severity))
    return problems


def _worded(text: str, remedy: str, lenient: bool) -> str:
    """The message, with the remedy of a name collision: the part left out, or (refused) the document."""
    if not remedy:
        return text
    if not lenient:
        return _refused(text, remedy)
    return _REMOVAL.sub("", text).rstrip("; ") + remedy


def _refused(text: str, remedy: str) -> str:
    """A message about a part left out, worded for an error that refuses the document instead, with the remedy."""
    refusal = f"{remedy}; the document cannot be generated as it is"
    for left_out in ("; this model is not generated", "; the operation is not generated"):
        if left_out in text:
            return text.replace(left_out, refusal)
    return _REMOVAL.sub("", text).rstrip("; ") + refusal


def _removed(detail: str) -> list[str]:
    """The schemas openapi-python-client says it removed along with the one it could not process."""
    _, found, removed = detail.partition(_REMOVAL_START)
    return _REMOVED.findall(removed) if found else []


def _union_name(document: Document, pointer: str) -> str:
    """Which union a schema's "Invalid property in union" is about (the message shows an object repr)."""
    node = as_mapping(node_at(document, split_pointer(pointer)))
    unions = [str(name) for name, value in as_mapping(node.get("properties")).items() if _is_union(value)]
    if _is_union(node) or len(unions) != 1:
        return "a member of its oneOf/anyOf cannot be modelled"
    return f"a member of the oneOf/anyOf of its property {unions[0]!r} cannot be modelled"


def _is_union(schema: object) -> bool:
    fields = as_mapping(schema)
    return "oneOf" in fields or "anyOf" in fields


def _owner(data: GeneratorData | None, document: Document, name: str) -> str:
    """Which component schema already became the class ``name`` (', as SCHEMA does'), or ''."""
    for model in data.models if data is not None else []:
        # A component's model is named by its pointer; an inline one by its parent's name and place.
        where = model.name.get_untrusted_value()
        if str(model.class_info.name) == name and where.startswith("/") and node_at(document, split_pointer(where)):
            return f" (as {where} does)"
    return ""


def _schema_text(document: Document, pointer: str, text: str) -> str:
    """openapi-python-client's message about a schema it left out, said once, with what went with it."""
    also = [removed for removed in _removed(text) if removed != pointer]
    text = _REMOVAL.sub("", text)
    if _UNION in text:
        text = text.replace(_UNION, _union_name(document, pointer))
    text = _SCHEMA_PREFIX.sub("", text).replace("Unable to parse this part of your OpenAPI document: :", "")
    name = split_pointer(pointer)[-1] if pointer else "?"
    with_it = f", nor are the schemas that use it: {', '.join(also)}" if also else ""
    return f"the schema {name!r}: {_sentence(text)}; this model is not generated{with_it}"


def _name_references(document: Document, pointer: str, text: str, failed: set[str]) -> str:
    """Say which left-out models a "could not find reference" is about: those the part at ``pointer`` uses."""
    if _NOT_FOUND not in text:
        return text
    refs = _references_under(document, pointer, failed)
    if not refs:
        return text
    return text.replace(_NOT_FOUND, f"it uses {', '.join(refs)}, which openapi-python-client left out (see there)")


def _references_under(document: Document, pointer: str, failed: set[str]) -> list[str]:
    """The ``$ref``s to ``failed`` schemas under ``pointer``, through references to other kinds of components."""
    found: list[str] = []
    pending, seen = [pointer], set[str]()
    while pending:
        start = pending.pop()
        if start in seen:
            continue
        seen.add(start)
        for _, node, is_key in walk(node_at(document, split_pointer(start))):
            ref = as_mapping(node).get("$ref") if not is_key else None
            if not isinstance(ref, str) or not ref.startswith("#/"):
                continue
            target = ref.removeprefix("#")
            if target in failed and ref not in found:
                found.append(ref)
            elif not target.startswith("/components/schemas/"):
                pending.append(target)
    return found


def _generated_responses(data: GeneratorData | None) -> dict[tuple[str, str], set[str]] | None:
    """The status patterns openapi-python-client generated, by (METHOD, path); None without a model."""
    if data is None:
        return None
    found: dict[tuple[str, str], set[str]] = {}
    for collection in data.endpoint_collections_by_tag.values():
        for endpoint in collection.endpoints:
            key = (endpoint.method.upper(), endpoint.path.get_untrusted_value())
            found.setdefault(key, set()).update(response.status_code.pattern for response in endpoint.responses)
    return found


def _omitted_codes(
    document: Document, match: re.Match[str], generated: dict[tuple[str, str], set[str]] | None
) -> list[str]:
    """The status codes of an operation's responses that the model lacks, in document order."""
    if generated is None:
        return []
    have = generated.get((match["method"], match["path"]), set())
    operation = node_at(document, ["paths", match["path"], match["method"].lower()])
    return [str(code) for code in as_mapping(as_mapping(operation).get("responses")) if str(code) not in have]


def _endpoint_problem(
    document: Document, match: re.Match[str], missing: list[str], header: str, detail: str, error: GeneratorError
) -> tuple[str, str]:
    """The pointer and message of an error about one operation: what of it is left out, and why.

    ``missing`` are the status codes of its omitted responses not yet reported (consumed here).
    """
    method, path = match["method"], match["path"]
    operation = join_pointer("/paths", path, method.lower())
    name = f"{method} {path}"
    left_out = "the operation is not generated" if header.endswith(_OMITS_ENDPOINT) else ""
    response = _OMITTED_RESPONSE.match(detail)
    if response is not None:
        code = response["pattern"] or response["code"] or ""
        if _UNTRUSTED_REPR.fullmatch(code):
            # openapi-python-client shows the status code as an object repr: take it from the document.
            code = missing[0] if missing else ""
        if code in missing:
            missing.remove(code)
        why = response["why"] or ("not a status code" if response["pattern"] else "it cannot be modelled")
        pointer = join_pointer(operation, "responses", code) if code else operation
        label = f"response {code}" if code else "a response"
        return pointer, f"{name} {label}: {_sentence(why)}; this response is not generated"
    parameter = _PARAMETER.match(detail)
    if parameter is not None or (isinstance(error, ParseError) and isinstance(error.data, Parameter)):
        pointer, what = _parameter_site(document, operation, error, detail)
        why = parameter["why"] if parameter is not None else detail
        return pointer, f"{name} {what}: {_sentence(why)}; {left_out or 'the operation is not generated'}"
    lines = [line for line in detail.splitlines() if line.strip()]
    if lines and all(_MEDIA_TYPE.match(line) or line in _BODY_DETAILS for line in lines):
        media = [m["type"] for m in map(_MEDIA_TYPE.match, lines) if m is not None]
        keys = _body_keys(document, operation)
        pointer = join_pointer(operation, "requestBody")
        if len(media) == len(lines) == 1:
            found = [key for key in keys if key.split(";")[0].strip().lower() == media[0]]
            pointer = join_pointer(pointer, "content", found[0]) if len(found) == 1 else pointer
        what = f"request body ({', '.join(keys)})" if keys else "request body"
        consequence = left_out or "this media type is not generated"
        return pointer, f"{name} {what}: {'; '.join(_sentence(line) for line in lines)}; {consequence}"
    return operation, f"{name}: {_sentence(detail)}; {left_out or 'part of it is not generated'}"


def _sentence(text: str) -> str:
    """openapi-python-client's detail as a clause: one line, no object reprs, without a trailing full stop."""
    # A set of types prints in an order that changes from run to run: sorted, the output stays reproducible.
    text = _TYPE_SET.sub(lambda m: ", ".join(sorted(re.findall(r"'(\w+)'", m[1]))), text)
    return " ".join(_OBJECT_REPR.sub("…", text).split()).rstrip(".") or "openapi-python-client cannot model it"


def _operation_node(document: Document, operation: str) -> object:
    return node_at(document, split_pointer(operation))


def _resolved(document: Document, node: object) -> tuple[object, str]:
    """``node`` with a local ``$ref`` followed once, and the pointer of the target ('' when not a reference)."""
    ref = as_mapping(node).get("$ref")
    if isinstance(ref, str):
        return node_at(document, split_ref(ref)), ref.removeprefix("#")
    return node, ""


def _body_keys(document: Document, operation: str) -> list[str]:
    body, _ = _resolved(document, as_mapping(_operation_node(document, operation)).get("requestBody"))
    return [str(key) for key in as_mapping(as_mapping(body).get("content"))]


def _parameter_site(document: Document, operation: str, error: GeneratorError, detail: str) -> tuple[str, str]:
    """The pointer and name of the parameter an error is about: the one whose schema or name it carries."""
    data = error.data if isinstance(error, ParseError) else None
    item = operation.rsplit("/", 1)[0]
    candidates: list[tuple[str, object]] = []
    for owner in (operation, item):
        for index, raw in enumerate(as_list(as_mapping(_operation_node(document, owner)).get("parameters"))):
            candidates.append((join_pointer(owner, "parameters", index), raw))
    for pointer, raw in candidates:
        parameter, _ = _resolved(document, raw)
        fields = as_mapping(parameter)
        label = f"parameter {fields.get('name')!r} (in {fields.get('in')})"
        if isinstance(data, Parameter):
            if fields.get("name") == data.name.get_untrusted_value() and fields.get("in") == str(data.param_in):
                return pointer, label
            continue
        schema, _ = _resolved(document, fields.get("schema"))
        if data is not None and _same_schema(schema, data):
            return join_pointer(pointer, "schema"), label
    # Without the schema in the error (a default it could not convert): the one parameter whose default it quotes.
    quoted = [
        (join_pointer(pointer, "schema", "default"), _label(document, raw))
        for pointer, raw in candidates
        if _quotes_default(
            detail, as_mapping(_resolved(document, as_mapping(_resolved(document, raw)[0]).get("schema"))[0])
        )
    ]
    return quoted[0] if len(quoted) == 1 else (operation, "a parameter")


def _label(document: Document, raw: object) -> str:
    fields = as_mapping(_resolved(document, raw)[0])
    return f"parameter {fields.get('name')!r} (in {fields.get('in')})"


def _quotes_default(detail: str, schema: Mapping[str, Any]) -> bool:
    """Whether an error's detail ends quoting the schema's default (``Invalid int value: null``)."""
    return "default" in schema and re.search(rf"\b{re.escape(str(schema['default']))}\b", detail) is not None


def _same_schema(schema: object, data: BaseModel) -> bool:
    """Whether the document's ``schema`` is the one openapi-python-client parsed into ``data``."""
    if not isinstance(schema, dict):
        return False
    try:
        return type(data).model_validate(schema) == data
    except ValidationError:
        return False


def _name_clashes(document: Document, pointer: str) -> str:
    """Which properties of the schema at ``pointer`` share a Python name (its message only shows object ids)."""
    node = node_at(document, split_pointer(pointer))
    by_python_name: dict[str, list[str]] = {}
    for name in as_mapping(as_mapping(node).get("properties")):
        by_python_name.setdefault(PythonIdentifier(str(name), "field_"), []).append(str(name))
    clashes = [
        f"{' and '.join(map(repr, names))} all become {python!r}"
        for python, names in by_python_name.items()
        if len(names) > 1
    ]
    if not clashes:
        return ""
    return f"properties share a Python attribute name: {'; '.join(clashes)}; rename one of each"
