// Example: segment every customer a priori, then page through the largest segment.
//
//   SEGMENTATION_USERNAME=alice SEGMENTATION_PASSWORD=... \
//     mono segment_and_page.exe http://127.0.0.1:8000/soap?wsdl
//
// The program is compiled with the proxy `wsdl` generated from that WSDL URL (README.md);
// the proxy's endpoint is the WSDL's soap:address, so the argument only names the contract.

using System;
using System.Linq;
using System.Text;

static class SegmentAndPage
{
    static void Main()
    {
        Console.OutputEncoding = new UTF8Encoding(false);
        SegmentationClient client = SegmentationClient.FromEnvironment();

        SegmentationRun run = client.SegmentCustomers(
            SegmentationMethod.APriori, ".NET example", null, null, null, null, null);
        Console.WriteLine("run {0}: {1}, {2} customers in {3} segments", run.runId, run.status,
            run.assignedCount, run.segments.Length);

        Segment largest = run.segments.OrderByDescending(s => s.size).First();

        string token = null;  // a null string is left out of the request
        int listed = 0, totalCount;
        do
        {
            string segmentCode = largest.code;  // ref parameters: the response echoes both
            long runId = run.runId;
            bool runIdSpecified = true;  // optional value types are sent only when ...Specified
            SegmentMember[] members;
            totalCount = client.ListSegmentMembers(ref segmentCode, ref runId, ref runIdSpecified,
                default(SegmentationMethod), false, 25, true, token, out members, out token);
            listed += members.Length;
        } while (token != null);

        Console.WriteLine("segment {0} ({1}): listed {2} of {3} members", largest.code, largest.name, listed,
            totalCount);
    }
}
