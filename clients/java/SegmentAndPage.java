import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import javax.xml.ws.Holder;
import segmentation.customer.v1.Segment;
import segmentation.customer.v1.SegmentMemberList;
import segmentation.customer.v1.SegmentationMethod;
import segmentation.customer.v1.SegmentationPortType;
import segmentation.customer.v1.SegmentationRun;

/**
 * Example: segment every customer a priori, then page through the largest segment.
 *
 * <pre>
 * SEGMENTATION_USERNAME=alice SEGMENTATION_PASSWORD=... \
 *   java -cp ... SegmentAndPage http://127.0.0.1:8000/soap?wsdl
 * </pre>
 */
public final class SegmentAndPage {
    public static void main(String[] args) throws Exception {
        String wsdlUrl = args.length > 0 ? args[0] : "http://127.0.0.1:8000/soap?wsdl";
        SegmentationPortType soap = new SegmentationClient(wsdlUrl).portFromEnvironment();

        SegmentationRun run = soap.segmentCustomers(
                SegmentationMethod.A_PRIORI, "Java example", null, null, null, null, null);
        List<Segment> segments = run.getSegments().getSegment();
        System.out.printf(Locale.ROOT, "run %d: %s, %d customers in %d segments%n", run.getRunId(),
                run.getStatus().value(), run.getAssignedCount(), segments.size());

        Segment largest =
                segments.stream().max(Comparator.comparingInt(Segment::getSize)).orElseThrow();
        Holder<Integer> totalCount = new Holder<>();
        String token = null; // null on the first page: JAXB leaves it out
        int listed = 0;
        do {
            Holder<SegmentMemberList> members = new Holder<>();
            Holder<String> nextPageToken = new Holder<>();
            // INOUT segmentCode and runId: fresh holders, as the call overwrites them
            soap.listSegmentMembers(new Holder<>(largest.getCode()), new Holder<>(run.getRunId()),
                    null, 25, token, totalCount, members, nextPageToken);
            listed += members.value.getMember().size();
            token = nextPageToken.value;
        } while (token != null);

        System.out.printf(Locale.ROOT, "segment %s (%s): listed %d of %d members%n",
                largest.getCode(), largest.getName(), listed, totalCount.value);
    }
}
