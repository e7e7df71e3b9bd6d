"""Response elements of the hot lookups, written straight from the domain objects.

spyne's serializer walks every field of every object through several layers
of generic calls, and getting there takes a spyne ComplexModel per object
(bench/profile.py: for a page of 100 members, most of the request's time).
``ResponseWriter`` compiles, once per class, a plan from the spyne types'
``_type_info`` (the contract's element order, types and occurrences) and fills
it from the domain dataclasses, each element's value read from the attribute of
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

Write = Callable[[etree._Element, Any], None]
Read = Callable[[Any], Any]
_CAMEL_HUMP = re.compile(r"(?<!^)(?=[A-Z])")


class ResponseWriter:
    """Writes an operation's response envelope as ``protocol`` (spyne's Soap11) would."""

    def __init__(self, protocol: Soap11) -> None:
        self._protocol = protocol
        self._writers: dict[type, Write] = {}

    def envelope(self, response_class: type, result: Any) -> bytes:
        """The whole response document: Envelope, Body and the response element."""
        protocol = self._protocol
        soap_env = protocol.ns_soap_env
        envelope = etree.Element(f"{{{soap_env}}}Envelope", nsmap=protocol.app.interface.nsmap)
        body = etree.SubElement(envelope, f"{{{soap_env}}}Body")
        name = response_class.get_type_name()  # type: ignore[attr-defined]
        self._complex_writer(response_class)(
            etree.SubElement(body, _tag(response_class, name)), result
        )
        if protocol.cleanup_namespaces:
            etree.cleanup_namespaces(envelope)
        return bytes(
            etree.tostring(
                envelope,
                encoding=protocol.encoding,
                pretty_print=protocol.pretty_print,
                xml_declaration=protocol.xml_declaration,
            )
        )

    def _complex_writer(self, cls: type) -> Write:
        """Writes an object's fields, in ``_type_info`` order, into its element."""
        writer = self._writers.get(cls)
        if writer is None:
            type_info = cls._type_info  # type: ignore[attr-defined]
            list_wrapper = len(type_info) == 1
            fields = [
                (_reader(name, list_wrapper=list_wrapper), self._field_writer(cls, name, kind))
                for name, kind in type_info.items()
            ]

            def writer(element: etree._Element, instance: Any) -> None:
                for read, write in fields:
                    write(element, read(instance))

            self._writers[cls] = writer
        return writer

    def _field_writer(self, owner: type, name: str, kind: Any) -> Write:
        tag = _tag(owner, name)
        repeated = float(kind.Attributes.max_occurs) > 1
        if issubclass(kind, ComplexModelBase):
            write_children = self._complex_writer(kind)

            def write_one(parent: etree._Element, value: Any) -> None:
                write_children(etree.SubElement(parent, tag), value)

        else:
            text = self._text_of(kind)

            def write_one(parent: etree._Element, value: Any) -> None:
                etree.SubElement(parent, tag).text = text(value)

        if not repeated:

            def write(parent: etree._Element, value: Any) -> None:
                if value is not None:  # optional elements are left out, as spyne does
                    write_one(parent, value)

            return write

        def write_all(parent: etree._Element, values: Any) -> None:
            for value in values or ():
                if value is not None:
                    write_one(parent, value)

        return write_all

    def _text_of(self, kind: Any) -> Callable[[Any], str]:
        """The text of a simple value, as spyne writes it for ``kind``."""
        attributes = self._protocol.get_cls_attrs(kind)
        formatted = attributes.str_format is not None or attributes.format is not None
        if issubclass(kind, Unicode) and not formatted:
            return _plain_text
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
        return lambda value: str(self._protocol.to_unicode(kind, value))


def _reader(field: str, *, list_wrapper: bool) -> Read:
    """Reads ``field`` (camelCase) of a domain object from its snake_case attribute.

    For a list type's only field, a sequence given for the list is the field itself.
    """
    attribute = _CAMEL_HUMP.sub("_", field).lower()

    def read(instance: Any) -> Any:
        if list_wrapper and isinstance(instance, list | tuple):
            return instance
        return getattr(instance, attribute)

    return read


def _plain_text(value: Any) -> str:
    """Text as spyne writes a string; an enumeration member by its contract value."""
    return str(value.value) if isinstance(value, Enum) else str(value)


def _iso_date(value: date) -> str:
    return (value.date() if isinstance(value, datetime) else value).isoformat()


def _tag(owner: type, name: str) -> str:
    return f"{{{owner.get_namespace()}}}{name}"  # type: ignore[attr-defined]
