"""Run a value-based segmentation and page through the first segment, with plain zeep.

Usage: SEGMENTATION_USERNAME=ana SEGMENTATION_PASSWORD=... \
       python segment_and_page.py http://127.0.0.1:8000/soap?wsdl
"""

from __future__ import annotations

import os
import sys

import zeep
from lxml import etree
from zeep.exceptions import Fault
from zeep.wsse.username import UsernameToken

# The service wants a WS-Security UsernameToken (an analyst's, to run segmentations).
# PasswordDigest sends a hash of a fresh nonce, the time and the password, never the
# password itself; the service accepts each nonce once. Leave the variables unset only
# for a demo server started with SEGMENTATION_AUTH=off.
username = os.environ.get("SEGMENTATION_USERNAME")
password = os.environ.get("SEGMENTATION_PASSWORD", "")
wsse = UsernameToken(username, password, use_digest=True) if username else None
client = zeep.Client(sys.argv[1], wsse=wsse)  # also loads segmentation.xsd, imported by the WSDL
service = client.service

try:
    # Only the valueBased block goes with method ValueBased; omitted fields take
    # the service's defaults. SegmentCustomers answers when the run is complete.
    # zeep unwraps SegmentCustomersResponse and returns its only child, the run.
    run = service.SegmentCustomers(
        method="ValueBased", label="example", valueBased={"valueMetric": "Clv", "tierCount": 4}
    )
    print(f"run {run.runId}: {run.status}, {run.assignedCount} of {run.customerCount} assigned")
    # Lists sit in containers (segments/segment*); an empty container comes back as None.
    segments = run.segments.segment if run.segments else []
    for segment in segments:
        print(f"  {segment.code:<12} {segment.name:<30} {segment.size:>6} {segment.share:7.1%}")
    if not segments:
        sys.exit("the run produced no segments")

    # Keyset paging: hand nextPageToken back as pageToken until there is none.
    token = None
    while True:
        page = service.ListSegmentMembers(
            segmentCode=segments[0].code, runId=run.runId, pageSize=100, pageToken=token
        )
        for member in page.members.member if page.members else []:
            print(f"    {member.customerId:<12} {member.name}")
        token = page.nextPageToken
        if not token:
            break
except Fault as fault:
    # Typed faults carry one element in <detail>, e.g. SegmentNotFoundFault{runId, segmentCode}.
    print(f"fault ({fault.code}): {fault.message}", file=sys.stderr)
    # Server errors have no detail (zeep then gives None, or raw bytes for odd replies).
    if etree.iselement(fault.detail) and len(fault.detail):
        typed = fault.detail[0]
        print(f"  {etree.QName(typed).localname}:", file=sys.stderr)
        for field in typed:
            print(f"    {etree.QName(field).localname} = {field.text}", file=sys.stderr)
    sys.exit(2 if fault.code and "Client" in fault.code else 1)
