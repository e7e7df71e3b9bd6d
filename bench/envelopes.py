"""Raw SOAP 1.1 request envelopes, built once and posted as bytes by the load generator."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from xml.sax.saxutils import escape

TNS = "urn:customer-segmentation:v1"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
PROFILE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
MESSAGE_SECURITY = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0"
)


@dataclass(frozen=True)
class Request:
    operation: str
    body: bytes

    @property
    def soap_action(self) -> str:
        return f'"{TNS}#{self.operation}"'


def request(operation: str, inner_xml: str) -> Request:
    """``<operation xmlns=TNS>inner_xml</operation>`` in a SOAP 1.1 envelope."""
    envelope = (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<soap:Envelope xmlns:soap="{SOAP_ENV}"><soap:Body>'
        f'<{operation} xmlns="{TNS}">{inner_xml}</{operation}>'
        "</soap:Body></soap:Envelope>"
    )
    return Request(operation, envelope.encode())


def digest_header(username: str, password: str) -> str:
    """A SOAP Header with a PasswordDigest UsernameToken: a fresh nonce, Created now."""
    nonce = os.urandom(16)
    created = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    digest = base64.b64encode(hashlib.sha1(nonce + created.encode() + password.encode()).digest())
    return (
        f'<soap:Header><wsse:Security xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}">'
        f"<wsse:UsernameToken><wsse:Username>{escape(username)}</wsse:Username>"
        f'<wsse:Password Type="{PROFILE}#PasswordDigest">{digest.decode()}</wsse:Password>'
        f'<wsse:Nonce EncodingType="{MESSAGE_SECURITY}#Base64Binary">'
        f"{base64.b64encode(nonce).decode()}</wsse:Nonce>"
        f"<wsu:Created>{created}</wsu:Created></wsse:UsernameToken></wsse:Security></soap:Header>"
    )


def password_text_header(username: str, password: str) -> str:
    """A SOAP Header with a PasswordText UsernameToken."""
    return (
        f'<soap:Header><wsse:Security xmlns:wsse="{WSSE}"><wsse:UsernameToken>'
        f"<wsse:Username>{escape(username)}</wsse:Username>"
        f'<wsse:Password Type="{PROFILE}#PasswordText">{escape(password)}</wsse:Password>'
        "</wsse:UsernameToken></wsse:Security></soap:Header>"
    )


def get_customer_segment(customer_id: str) -> Request:
    return request("GetCustomerSegment", f"<customerId>{escape(customer_id)}</customerId>")


def score_customer_value(customer_ids: Sequence[str]) -> Request:
    ids = "".join(f"<customerId>{escape(i)}</customerId>" for i in customer_ids)
    return request("ScoreCustomerValue", f"<customerIds>{ids}</customerIds>")


def list_segment_members(
    run_id: int, segment_code: str, page_size: int = 100, page_token: str | None = None
) -> Request:
    token = f"<pageToken>{page_token}</pageToken>" if page_token else ""
    return request(
        "ListSegmentMembers",
        f"<segmentCode>{escape(segment_code)}</segmentCode><runId>{run_id}</runId>"
        f"<pageSize>{page_size}</pageSize>{token}",
    )


def page_token(run_id: int, segment_code: str, after_customer_id: str) -> str:
    """The documented opaque token: base64url JSON [1, runId, segmentCode, afterCustomerId]."""
    payload = json.dumps([1, run_id, segment_code, after_customer_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def segment_customers(method: str, label: str, options_xml: str = "") -> Request:
    return request(
        "SegmentCustomers",
        f"<method>{method}</method><label>{escape(label)}</label>{options_xml}",
    )


def submit_segmentation(
    method: str, label: str, options_xml: str = "", idempotency_key: str | None = None
) -> Request:
    """SubmitSegmentation (1.3): SegmentCustomers' request, answered at once with the run."""
    key = f"<idempotencyKey>{escape(idempotency_key)}</idempotencyKey>" if idempotency_key else ""
    return request(
        "SubmitSegmentation",
        f"<method>{method}</method><label>{escape(label)}</label>{options_xml}{key}",
    )


def get_segmentation_run(run_id: int) -> Request:
    return request("GetSegmentationRun", f"<runId>{run_id}</runId>")


# An a priori run that puts every customer in one segment, ALL: a single rule
# nobody matches, and ALL as the default segment of those who match no rule.
ONE_SEGMENT_OPTIONS = (
    "<aPriori><rules><rule><segmentCode>NOBODY</segmentCode><segmentName>Nobody</segmentName>"
    "<conditions><condition><attribute>customerType</attribute><operator>Equals</operator>"
    "<values><value>__nobody__</value></values></condition></conditions></rule></rules>"
    "<defaultSegmentCode>ALL</defaultSegmentCode></aPriori>"
)
# Without rules: B2C customers have no industry, so about 60% share "Unknown".
LARGEST_GROUP_OPTIONS = "<aPriori><groupBy><attribute>industry</attribute></groupBy></aPriori>"
