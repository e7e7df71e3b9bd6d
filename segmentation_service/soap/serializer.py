"""Response elements of the hot lookups, written straight from the domain objects.

spyne's serializer walks every field of every object through several layers
of generic calls, and getting there takes a spyne ComplexModel per object
(bench/profile.py: for a page of 100 members, most of the request's time).
``ResponseWriter`` compiles, once per class, a plan from the spyne types'
``_type_info`` (the contract's element order, types and occurrences) and fills
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
from operator import attrgetter
from typing import Any

from lxml import etree
from spyne.model import ComplexModelBase
from spyne.model.primitive import Boolean, Date, Double, Integer, Unicode
from spyne.protocol.soap import Soap11

Write = Callable[[list[str], Any], None]
Read = Callable[[Any], Any]
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
            type_info = cls._type_info  # type: ignore[attr-defined]
            list_wrapper = len(type_info) == 1
            fields = [
                (_reader(name, list_wrapper=list_wrapper), self._field_writer(cls, name, kind))
                for name, kind in type_info.items()
            ]

            def writer(parts: list[str], instance: Any) -> None:
                for read, write in fields:
                    write(parts, read(instance))

            self._writers[cls] = writer
        return writer

    def _field_writer(self, owner: type, name: str, kind: Any) -> Write:
        tag = self._qualified(owner, name)
        opening, closing, empty = f"<{tag}>", f"</{tag}>", f"<{tag}/>"
        repeated = float(kind.Attributes.max_occurs) > 1
        if issubclass(kind, ComplexModelBase):
            write_children = self._complex_writer(kind)

            def write_one(parts: list[str], value: Any) -> None:
                start = len(parts)
                parts.append(opening)
                write_children(parts, value)
                if len(parts) == start + 1:
                    parts[start] = empty  # no children: lxml writes a self-closing tag
                else:
                    parts.append(closing)

        else:
            text = self._text_of(kind)

            def write_one(parts: list[str], value: Any) -> None:
                parts.append(opening + text(value) + closing)

        if not repeated:

            def write(parts: list[str], value: Any) -> None:
                if value is not None:  # optional elements are left out, as spyne does
                    write_one(parts, value)

            return write

        def write_all(parts: list[str], values: Any) -> None:
            for value in values or ():
                if value is not None:
                    write_one(parts, value)

        return write_all

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


def _reader(field: str, *, list_wrapper: bool) -> Read:
    """Reads ``field`` (camelCase) of a domain object from its snake_case attribute.

    For a list type's only field, a sequence given for the list is the field itself.
    """
    read_attribute: Read = attrgetter(_CAMEL_HUMP.sub("_", field).lower())
    if not list_wrapper:
        return read_attribute

    def read(instance: Any) -> Any:
        return instance if isinstance(instance, list | tuple) else read_attribute(instance)

    return read


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
