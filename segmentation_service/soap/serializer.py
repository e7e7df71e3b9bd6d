"""Response elements of the hot lookups, written straight from the domain objects.

spyne's serializer walks every field of every object through several layers
of generic calls, and getting there takes a spyne ComplexModel per object
(bench/profile.py: for a page of 100 members, most of the request's time).
``ResponseWriter`` compiles, once per class, a function from the spyne types'
``_type_info`` (the contract's element order, types and occurrences) that writes
it, as text, from the domain dataclasses, each element's value read from the attribute of
the same name in snake case (``segmentCode`` from ``segment_code``). A class with
one repeated field (``SegmentMemberList``) takes the sequence itself. Texts come
from the conversions spyne uses (``repr`` for doubles, ``str`` for integers,
spyne's own for dates and times), and tests/contract/test_hot_path.py checks the
bytes equal spyne's own output.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from enum import Enum
from typing import Any

from lxml import etree
from spyne.model import ComplexModelBase
from spyne.model.primitive import Boolean, Date, Double, Integer, Unicode
from spyne.protocol.soap import Soap11

Write = Callable[[list[str], Any], None]
_CAMEL_HUMP = re.compile(r"(?<!^)(?=[A-Z])")
# What lxml refuses in text (XML 1.0's excluded characters), so the fast path does too.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SPECIAL = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_MARKER = "_"


class ResponseWriter:
    """Writes an operation's response envelope as ``protocol`` (spyne's Soap11) would.

    The envelope around the response element is lxml's own output, made once per
    response class; the elements inside are written as text, escaped as lxml does
    (``&``, ``<``, ``>`` and carriage returns), with the prefixes lxml chose.
    """

    def __init__(self, protocol: Soap11) -> None:
        self._protocol = protocol
        if str(protocol.encoding).upper() != "UTF-8" or protocol.pretty_print:
            raise ValueError("the hot path writes UTF-8 without pretty printing, as spyne does")
        self._writers: dict[type, Write] = {}
        self._frames: dict[type, tuple[str, str]] = {}
        self._prefixes: dict[str, str] = {}

    def envelope(self, response_class: type, result: Any) -> bytes:
        """The whole response document: Envelope, Body and the response element."""
        frame = self._frames.get(response_class)
        if frame is None:
            frame = self._frames[response_class] = self._frame(response_class)
        parts = [frame[0]]
        self._complex_writer(response_class)(parts, result)
        parts.append(frame[1])
        return "".join(parts).encode("utf-8")

    def _frame(self, response_class: type) -> tuple[str, str]:
        """The document's text before and after the response element's children."""
        protocol = self._protocol
        soap_env = protocol.ns_soap_env
        envelope = etree.Element(f"{{{soap_env}}}Envelope", nsmap=protocol.app.interface.nsmap)
        body = etree.SubElement(envelope, f"{{{soap_env}}}Body")
        name = response_class.get_type_name()  # type: ignore[attr-defined]
        response = etree.SubElement(body, _tag(response_class, name))
        etree.SubElement(response, _tag(response_class, _MARKER))
        if protocol.cleanup_namespaces:
            etree.cleanup_namespaces(envelope)
        self._prefixes = {uri: prefix for prefix, uri in envelope.nsmap.items() if prefix}
        document = etree.tostring(
            envelope,
            encoding=protocol.encoding,
            pretty_print=False,
            xml_declaration=protocol.xml_declaration,
        ).decode("utf-8")
        marker = f"<{self._qualified(response_class, _MARKER)}/>"
        before, after = document.split(marker)
        return before, after

    def _qualified(self, owner: type, name: str) -> str:
        namespace = owner.get_namespace()  # type: ignore[attr-defined]
        return f"{self._prefixes[namespace]}:{name}"

    def _complex_writer(self, cls: type) -> Write:
        """Writes an object's fields, in ``_type_info`` order, as the text of its children."""
        writer = self._writers.get(cls)
        if writer is None:
            writer = self._writers[cls] = self._compiled(cls)
        return writer

    def _compiled(self, cls: type) -> Write:
        """``cls``'s writer as one generated function (as ``dataclasses`` makes ``__init__``).

        A loop over per-field closures cost four calls per field; the page of 100
        members is 500 fields, so that was a third of ListSegmentMembers' time.
        """
        type_info = cls._type_info  # type: ignore[attr-defined]
        list_wrapper = len(type_info) == 1
        names: dict[str, Any] = {"_is_sequence": _is_sequence, "_special": _SPECIAL.search}
        lines = ["def write(parts, instance):", "    append = parts.append"]
        for i, (name, kind) in enumerate(type_info.items()):
            attribute = _CAMEL_HUMP.sub("_", name).lower()
            if not attribute.isidentifier():
                raise ValueError(f"{cls.__name__}.{name}: no attribute name")
            tag = self._qualified(cls, name)
            names.update({f"O{i}": f"<{tag}>", f"C{i}": f"</{tag}>", f"E{i}": f"<{tag}/>"})
            value = f"instance.{attribute}"
            if list_wrapper:  # a list type's only field: a sequence given is the field itself
                value = f"instance if _is_sequence(instance) else {value}"
            indent = "    "
            if float(kind.Attributes.max_occurs) > 1:
                lines += [f"    for v in ({value}) or ():", "        if v is not None:"]
                indent += "    "
            else:  # optional elements are left out, as spyne does
                lines += [f"    v = {value}", "    if v is not None:"]
            if issubclass(kind, ComplexModelBase):
                names[f"W{i}"] = self._complex_writer(kind)
                lines += [
                    f"{indent}    start = len(parts)",
                    f"{indent}    append(O{i})",
                    f"{indent}    W{i}(parts, v)",
                    f"{indent}    if len(parts) == start + 1:",  # no children: lxml's <a/>
                    f"{indent}        parts[start] = E{i}",
                    f"{indent}    else:",
                    f"{indent}        append(C{i})",
                ]
            else:
                text = names[f"T{i}"] = self._text_of(kind)
                if text is _escaped_text:  # a plain string without specials, as it is
                    value = f"(v if type(v) is str and not _special(v) else T{i}(v))"
                else:
                    value = f"T{i}(v)"
                lines.append(f"{indent}    append(O{i} + {value} + C{i})")
        exec("\n".join(lines), names)  # noqa: S102 - source made above from the contract's names
        compiled: Write = names["write"]
        return compiled

    def _text_of(self, kind: Any) -> Callable[[Any], str]:
        """The text of a simple value, as spyne writes it for ``kind`` and lxml escapes it.

        Only strings need escaping: numbers, dates and booleans are written in
        characters XML takes as they are.
        """
        attributes = self._protocol.get_cls_attrs(kind)
        formatted = attributes.str_format is not None or attributes.format is not None
        if issubclass(kind, Unicode) and not formatted:
            return _escaped_text
        if issubclass(kind, Boolean):
            return lambda value: str(bool(value)).lower()
        if issubclass(kind, Integer) and not formatted:
            return lambda value: str(int(value))
        if issubclass(kind, Double) and not formatted:
            return repr
        if (
            issubclass(kind, Date)
            and attributes.date_format is None
            and attributes.serialize_as is None
        ):
            return _iso_date
        return lambda value: _escaped(str(self._protocol.to_unicode(kind, value)))


def _is_sequence(value: Any) -> bool:
    return isinstance(value, list | tuple)


def _escaped(text: str) -> str:
    """``text`` as lxml writes an element's text."""
    if _SPECIAL.search(text) is None:  # nearly always: nothing to do
        return text
    if _NOT_XML.search(text):
        raise ValueError("All strings must be XML compatible")
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("\r", "&#13;")


def _escaped_text(value: Any) -> str:
    """A string as spyne writes it and lxml escapes it; an enumeration member by its value."""
    return _escaped(str(value.value) if isinstance(value, Enum) else str(value))


def _iso_date(value: date) -> str:
    return (value.date() if isinstance(value, datetime) else value).isoformat()


def _tag(owner: type, name: str) -> str:
    return f"{{{owner.get_namespace()}}}{name}"  # type: ignore[attr-defined]
