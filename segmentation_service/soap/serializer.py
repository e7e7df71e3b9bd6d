"""SOAP 1.1 output that writes the responses of the hot lookups straight into lxml.

spyne's serializer walks every field of every object through several layers
of generic calls (attribute look-ups, coroutine-style generators, per-value
class attribute resolution): for a page of 100 members or 100 value scores
that is most of the request's time (bench/profile.py). This protocol keeps
spyne's output for everything else, and for the operations in ``FAST_PATH``
builds the same elements from a plan compiled once per class from its
``_type_info``. Texts come from the same conversions spyne uses (``repr`` for
doubles, ``str`` for integers, spyne's own for dates and times), and
tests/contract/test_fast_serializer.py checks the two outputs are identical.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from lxml import etree
from spyne.model import ComplexModelBase
from spyne.model.primitive import Boolean, Date, Double, Integer, Unicode
from spyne.protocol.soap import Soap11

FAST_PATH = frozenset({"GetCustomerSegment", "ScoreCustomerValue", "ListSegmentMembers"})

Write = Callable[[etree._Element, Any], None]


class FastSoap11(Soap11):
    """spyne's Soap11, with a compiled serializer for the responses in ``fast_path``."""

    fast_path: frozenset[str] = FAST_PATH

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._writers: dict[type, Write] = {}

    def serialize(self, ctx: Any, message: Any) -> None:
        if (
            message is not self.RESPONSE
            or ctx.out_error is not None
            or ctx.out_header is not None
            or ctx.descriptor is None
            or ctx.descriptor.name not in self.fast_path
        ):
            super().serialize(ctx, message)
            return
        self.event_manager.fire_event("before_serialize", ctx)
        self._serialize_response(ctx)
        if self.cleanup_namespaces:
            etree.cleanup_namespaces(ctx.out_document)
        self.event_manager.fire_event("after_serialize", ctx)

    def _serialize_response(self, ctx: Any) -> None:
        """Envelope, Body and the wrapper element holding the operation's results."""
        envelope = etree.Element(f"{{{self.ns_soap_env}}}Envelope", nsmap=self.app.interface.nsmap)
        body = ctx.out_body_doc = etree.SubElement(envelope, f"{{{self.ns_soap_env}}}Body")
        wrapper_class = ctx.descriptor.out_message
        wrapper = etree.SubElement(body, _tag(wrapper_class, wrapper_class.get_type_name()))
        # Wrapped document/literal: out_object holds the wrapper's fields, in order.
        self._complex_writer(wrapper_class)(wrapper, _Fields(wrapper_class, ctx.out_object))
        ctx.out_document = envelope

    def _complex_writer(self, cls: type) -> Write:
        """Writes an instance's fields, in ``_type_info`` order, into its element."""
        writer = self._writers.get(cls)
        if writer is None:
            fields = [
                (name, self._field_writer(cls, name, kind))
                for name, kind in cls._type_info.items()  # type: ignore[attr-defined]
            ]

            def writer(element: etree._Element, instance: Any) -> None:
                for name, write in fields:
                    write(element, getattr(instance, name, None))

            self._writers[cls] = writer
        return writer

    def _field_writer(self, owner: type, name: str, kind: Any) -> Write:
        tag = _tag(owner, name)
        repeated = _max_occurs(kind) > 1
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
        attributes = self.get_cls_attrs(kind)
        formatted = attributes.str_format is not None or attributes.format is not None
        if issubclass(kind, Unicode) and not formatted:
            return str
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
        return lambda value: str(self.to_unicode(kind, value))


class _Fields:
    """An operation's results (a sequence) read by field name, like a wrapper instance."""

    def __init__(self, wrapper_class: Any, values: Any) -> None:
        # Missing trailing values are None, as in spyne's own wrapping.
        self.__dict__.update(zip(wrapper_class._type_info, values, strict=False))


def _iso_date(value: date) -> str:
    return (value.date() if isinstance(value, datetime) else value).isoformat()


def _tag(owner: type, name: str) -> str:
    return f"{{{owner.get_namespace()}}}{name}"  # type: ignore[attr-defined]


def _max_occurs(kind: Any) -> float:
    return float(kind.Attributes.max_occurs)
