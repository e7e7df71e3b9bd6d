import java.io.InputStream;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.net.URL;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.jws.WebMethod;
import javax.xml.XMLConstants;
import javax.xml.datatype.DatatypeFactory;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.ws.Holder;
import javax.xml.ws.WebFault;
import javax.xml.ws.spi.Provider;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import segmentation.customer.v1.APrioriParameters;
import segmentation.customer.v1.AccessDeniedFault_Exception;
import segmentation.customer.v1.AuthenticationFault_Exception;
import segmentation.customer.v1.CustomerAttribute;
import segmentation.customer.v1.CustomerAttributeList;
import segmentation.customer.v1.CustomerIdBatch;
import segmentation.customer.v1.CustomerNotFoundFault_Exception;
import segmentation.customer.v1.CustomerSegment;
import segmentation.customer.v1.CustomerValueScore;
import segmentation.customer.v1.CustomerValueScoreList;
import segmentation.customer.v1.DifferentiatorList;
import segmentation.customer.v1.InvalidRequestFault_Exception;
import segmentation.customer.v1.MoveDirection;
import segmentation.customer.v1.Mover;
import segmentation.customer.v1.MoverList;
import segmentation.customer.v1.NeedsBasedParameters;
import segmentation.customer.v1.OverlapList;
import segmentation.customer.v1.Portfolio;
import segmentation.customer.v1.PortfolioCell;
import segmentation.customer.v1.PortfolioCellOwner;
import segmentation.customer.v1.PortfolioCellTreatment;
import segmentation.customer.v1.PortfolioEvaluation;
import segmentation.customer.v1.PortfolioEvaluationList;
import segmentation.customer.v1.PortfolioNotFoundFault_Exception;
import segmentation.customer.v1.RunNotFoundFault_Exception;
import segmentation.customer.v1.ScheduleNotFoundFault_Exception;
import segmentation.customer.v1.Segment;
import segmentation.customer.v1.SegmentCustomers;
import segmentation.customer.v1.SegmentMember;
import segmentation.customer.v1.SegmentMemberList;
import segmentation.customer.v1.SegmentNotFoundFault_Exception;
import segmentation.customer.v1.SegmentationMethod;
import segmentation.customer.v1.SegmentationPortType;
import segmentation.customer.v1.SegmentationRun;
import segmentation.customer.v1.SegmentationSchedule;
import segmentation.customer.v1.ServiceUnavailableFault_Exception;
import segmentation.customer.v1.Strategy;
import segmentation.customer.v1.TransitionList;
import segmentation.customer.v1.Treatment;
import segmentation.customer.v1.UnknownCustomerIdList;
import segmentation.customer.v1.ValueBasedParameters;
import segmentation.customer.v1.ValueMetric;

/**
 * Contract-test driver: calls every operation of the served WSDL through a JAX-WS RI client
 * that plain {@code wsimport} generated from it, and prints what came back as one JSON
 * document (read by tests/contract/test_other_clients.py).
 *
 * <pre>java -cp ... Scenario WSDL_URL [PAGE_SIZE]</pre>
 *
 * <p>Credentials, when the server wants them: SEGMENTATION_USERNAME, SEGMENTATION_PASSWORD
 * (a role that may run segmentations); SEGMENTATION_VIEWER_USERNAME/_PASSWORD, if set, a
 * read-only user for AccessDeniedFault. The output has the shape of clients/php/scenario.php's.
 */
public final class Scenario {
    static final String UNKNOWN_CUSTOMER = "NO-SUCH-CUSTOMER";
    static final long UNKNOWN_RUN = 999999999L;
    static final String UNKNOWN_SEGMENT = "NO-SUCH-SEGMENT";
    static final String WSDL_NS = "http://schemas.xmlsoap.org/wsdl/";

    /** A call expected to fail with a declared fault. */
    @FunctionalInterface
    interface Call {
        void run() throws Exception;
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            throw new IllegalArgumentException("usage: Scenario WSDL_URL [PAGE_SIZE]");
        }
        String wsdlUrl = args[0];
        int pageSize = args.length > 1 ? Integer.parseInt(args[1]) : 7;
        SegmentationClient client = new SegmentationClient(wsdlUrl);
        SegmentationPortType port = client.portFromEnvironment();
        Set<String> called = new LinkedHashSet<>();
        SegmentationPortType soap = recording(port, called);

        SegmentationRun run = soap.segmentCustomers(
                SegmentationMethod.A_PRIORI, "Java JAX-WS", null, null, null, null, null);
        List<Segment> bySize = new ArrayList<>(run.getSegments().getSegment());
        bySize.sort(Comparator.comparingInt(Segment::getSize).reversed()
                .thenComparing(Segment::getCode));
        String largest = bySize.get(0).getCode();

        List<Integer> pages = new ArrayList<>();
        List<String> members = new ArrayList<>();
        Holder<Integer> totalCount = new Holder<>();
        String token = null;
        do {
            // INOUT: the call overwrites segmentCode and runId with the response's values.
            Holder<String> segmentCode = new Holder<>(largest);
            Holder<Long> runId = new Holder<>(run.getRunId());
            Holder<SegmentMemberList> page = new Holder<>();
            Holder<String> nextPageToken = new Holder<>();
            soap.listSegmentMembers(
                    segmentCode, runId, null, pageSize, token, totalCount, page, nextPageToken);
            List<SegmentMember> ids = page.value.getMember();
            pages.add(ids.size());
            ids.forEach(member -> members.add(member.getCustomerId()));
            token = nextPageToken.value;
        } while (token != null);
        String customer = members.get(0);

        SegmentationRun fetched = soap.getSegmentationRun(run.getRunId());
        List<CustomerSegment> assignments =
                soap.getCustomerSegment(customer, null, run.getRunId()).getAssignment();
        CustomerIdBatch batch = new CustomerIdBatch();
        batch.getCustomerId().addAll(List.of(customer, UNKNOWN_CUSTOMER));
        Holder<CustomerValueScoreList> scores = new Holder<>();
        Holder<UnknownCustomerIdList> unknown = new Holder<>();
        soap.scoreCustomerValue(batch, null, null, null, scores, unknown);
        Segment owned = soap.setSegmentOwner(run.getRunId(), largest, "Key accounts (Java)");
        APrioriParameters byType = new APrioriParameters();
        byType.setGroupBy(new CustomerAttributeList());
        // a one-element list
        byType.getGroupBy().getAttribute().add(CustomerAttribute.CUSTOMER_TYPE);
        SegmentationRun second = soap.segmentCustomers(
                SegmentationMethod.A_PRIORI, null, null, byType, null, null, null);
        List<SegmentationRun> listedRuns =
                soap.listSegmentationRuns(SegmentationMethod.A_PRIORI, 2, null, null).getRun();
        Holder<Long> fromRunId = new Holder<>(run.getRunId());
        Holder<Long> toRunId = new Holder<>(second.getRunId());
        Holder<TransitionList> transitions = new Holder<>();
        Holder<Double> stayedShare = new Holder<>();
        Holder<Double> adjustedRandIndex = new Holder<>();
        Holder<Integer> enteredCount = new Holder<>();
        Holder<Integer> leftCount = new Holder<>();
        soap.compareSegmentationRuns(fromRunId, toRunId,
                transitions, stayedShare, adjustedRandIndex, enteredCount, leftCount);

        // The async pattern (contract 1.3): submit twice with one idempotency key (one run),
        // poll getSegmentationRun with a back-off until the run has finished, read it; then a
        // schedule is created, listed and deleted.
        String idempotencyKey = "java-scenario-" + Long.toHexString(new SecureRandom().nextLong());
        List<SegmentationRun> submitted = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            submitted.add(soap.submitSegmentation(SegmentationMethod.A_PRIORI,
                    "Java JAX-WS, submitted", null, byType, null, null, idempotencyKey, null));
        }
        List<Object> polled = new ArrayList<>();
        SegmentationRun finished = SegmentationClient.waitForRun(soap,
                submitted.get(0).getRunId(), 40_000, r -> polled.add(r.getStatus().value()));
        Map<String, Object> cancelFinished =
                faultOf(port, () -> soap.cancelSegmentationRun(finished.getRunId()));
        SegmentCustomers scheduled = new SegmentCustomers();
        scheduled.setMethod(SegmentationMethod.A_PRIORI);
        scheduled.setAPriori(byType);
        SegmentationSchedule schedule =
                soap.createSegmentationSchedule("nightly-java", "0 2 * * *", scheduled, null);
        List<Object> listedSchedules = new ArrayList<>();
        for (SegmentationSchedule s : soap.listSegmentationSchedules().getSchedule()) {
            listedSchedules.add(s.getName());
        }
        SegmentationSchedule deleted = soap.deleteSegmentationSchedule(schedule.getScheduleId());

        // Customer portfolios (contract 1.4): value tiers (rows) by needs segments (columns),
        // from the latest completed run of each method, so one of each runs first. The
        // portfolio is created, evaluated (getPortfolio), its largest cell given an owner and a
        // treatment and evaluated again, its history read, listed, deleted, and asked for once
        // more (PortfolioNotFoundFault). Before that, the value run's top tier (its first
        // segment) gets an analyst's treatment over the recommended one: with no channel given
        // (null), the recommended channel stays. The same value tiers a year back run first
        // (older, so the portfolio takes valueRun): the segment movers (contract 1.5) are the
        // customers between the two.
        ValueBasedParameters byClvYearBack = new ValueBasedParameters();
        byClvYearBack.setValueMetric(ValueMetric.CLV);
        byClvYearBack.setAsOfDate(
                DatatypeFactory.newInstance().newXMLGregorianCalendar("2025-06-30"));
        SegmentationRun valueRunYearBack = soap.segmentCustomers(SegmentationMethod.VALUE_BASED,
                "Java JAX-WS, value a year back", null, null, null, byClvYearBack, null);
        ValueBasedParameters byClv = new ValueBasedParameters();
        byClv.setValueMetric(ValueMetric.CLV);
        SegmentationRun valueRun = soap.segmentCustomers(SegmentationMethod.VALUE_BASED,
                "Java JAX-WS, portfolio rows", null, null, null, byClv, null);
        NeedsBasedParameters threeSegments = new NeedsBasedParameters();
        threeSegments.setSegmentCount(3);
        SegmentationRun needsRun = soap.segmentCustomers(SegmentationMethod.NEEDS_BASED,
                "Java JAX-WS, portfolio columns", null, null, threeSegments, null, null);
        Segment topTier = valueRun.getSegments().getSegment().get(0);
        Segment treatedSegment = soap.setSegmentTreatment(valueRun.getRunId(), topTier.getCode(),
                Strategy.DEVELOP, null, "premium bundle java");
        Portfolio portfolio = soap.createPortfolio("value-x-needs-java",
                SegmentationMethod.VALUE_BASED, SegmentationMethod.NEEDS_BASED, "CRM team (Java)",
                "Grow customer equity where value meets needs");
        long portfolioId = portfolio.getPortfolioId();
        PortfolioEvaluation evaluation = soap.getPortfolio(portfolioId).getEvaluation();
        PortfolioCell cell = evaluation.getCells().getCell().stream()
                .max(Comparator.comparingInt(PortfolioCell::getCustomers)) // the first largest
                .orElseThrow();
        PortfolioCellOwner cellOwner = soap.setPortfolioCellOwner(portfolioId,
                cell.getRowSegmentCode(), cell.getColumnSegmentCode(), "Retention desk (Java)");
        PortfolioCellTreatment cellTreatment = soap.setPortfolioCellTreatment(portfolioId,
                cell.getRowSegmentCode(), cell.getColumnSegmentCode(), Strategy.WIN_BACK, "Phone",
                null);
        PortfolioEvaluation reevaluation = soap.getPortfolio(portfolioId).getEvaluation();
        Holder<Portfolio> historyOf = new Holder<>();
        Holder<PortfolioEvaluationList> history = new Holder<>();
        soap.getPortfolioHistory(portfolioId, historyOf, history);
        List<PortfolioEvaluation> evaluations = history.value.getEvaluation();
        List<Object> listedPortfolios = new ArrayList<>();
        for (Portfolio p : soap.listPortfolios().getPortfolio()) {
            listedPortfolios.add(object("portfolioId", p.getPortfolioId(), "name", p.getName()));
        }
        Portfolio deletedPortfolio = soap.deletePortfolio(portfolioId);

        // Segment movers (contract 1.5): every customer whose value tier changed between the
        // run a year back and the portfolio's value run, page by page with nextPageToken (each
        // page's totalCount kept), then those who fell to a worse tier (DOWN), on one page.
        long moversFrom = valueRunYearBack.getRunId();
        long moversTo = valueRun.getRunId();
        List<Object> moverTotals = new ArrayList<>();
        List<Object> moverPages = new ArrayList<>();
        List<Object> movers = new ArrayList<>();
        String moverToken = null;
        do {
            Holder<Integer> moverTotal = new Holder<>();
            Holder<MoverList> moverPage = new Holder<>();
            Holder<String> nextMoverToken = new Holder<>();
            soap.listSegmentMovers(moversFrom, moversTo, null, null, null, pageSize, moverToken,
                    moverTotal, moverPage, nextMoverToken);
            moverTotals.add(moverTotal.value);
            moverPages.add(moverPage.value.getMover().size());
            moverPage.value.getMover().forEach(m -> movers.add(moverSummary(m)));
            moverToken = nextMoverToken.value;
        } while (moverToken != null);
        Holder<Integer> downTotal = new Holder<>();
        Holder<MoverList> downPage = new Holder<>();
        Holder<String> downNextToken = new Holder<>();
        soap.listSegmentMovers(moversFrom, moversTo, null, null, MoveDirection.DOWN, 1000, null,
                downTotal, downPage, downNextToken);
        List<Object> down = new ArrayList<>();
        downPage.value.getMover().forEach(m -> down.add(moverSummary(m)));

        // Segment insights (contract 1.5): what sets the needs run's largest segment apart from
        // all the run's customers, and the segments of the other methods' latest runs it
        // overlaps; then against the next largest segment (baseline), and against itself
        // (InvalidRequestFault). No request child shares a name with a response child: the
        // differentiators and overlaps come back in OUT holders.
        List<Segment> needsBySize = new ArrayList<>(needsRun.getSegments().getSegment());
        needsBySize.sort(Comparator.comparingInt(Segment::getSize).reversed()
                .thenComparing(Segment::getCode));
        String insightsSegment = needsBySize.get(0).getCode();
        String insightsBaseline = needsBySize.get(1).getCode();
        Map<String, Object> insights = insights(soap, needsRun.getRunId(), insightsSegment, null);
        Map<String, Object> againstBaseline = object("baseline", insightsBaseline);
        againstBaseline.putAll(
                insights(soap, needsRun.getRunId(), insightsSegment, insightsBaseline));
        Map<String, Object> selfBaselineFault = faultOf(port, () -> insights(
                soap, needsRun.getRunId(), insightsSegment, insightsSegment));

        Map<String, Object> faults = new LinkedHashMap<>();
        faults.put("CustomerNotFoundFault", faultOf(port, () -> port.getCustomerSegment(
                UNKNOWN_CUSTOMER, null, null)));
        faults.put("RunNotFoundFault", faultOf(port, () -> port.getSegmentationRun(UNKNOWN_RUN)));
        faults.put("SegmentNotFoundFault", faultOf(port, () -> port.listSegmentMembers(
                new Holder<>(UNKNOWN_SEGMENT), new Holder<>(run.getRunId()), null, null, null,
                new Holder<>(), new Holder<>(), new Holder<>())));
        ValueBasedParameters tiers = new ValueBasedParameters();
        tiers.setTierCount(3);
        faults.put("InvalidRequestFault", faultOf(port, () -> port.segmentCustomers(
                SegmentationMethod.A_PRIORI, null, null, null, null, tiers, null)));
        faults.put("PortfolioNotFoundFault", faultOf(port, () -> port.getPortfolio(portfolioId)));
        String username = System.getenv("SEGMENTATION_USERNAME");
        if (username != null && !username.isEmpty()) {
            SegmentationPortType wrong = client.port(username, "not-the-password");
            faults.put("AuthenticationFault", faultOf(wrong, () -> wrong.getSegmentationRun(
                    run.getRunId())));
        }
        String viewerName = System.getenv("SEGMENTATION_VIEWER_USERNAME");
        if (viewerName != null && !viewerName.isEmpty()) { // a role that may only read
            String viewerPassword = System.getenv("SEGMENTATION_VIEWER_PASSWORD");
            SegmentationPortType viewer =
                    client.port(viewerName, viewerPassword == null ? "" : viewerPassword);
            faults.put("AccessDeniedFault", faultOf(viewer, () -> viewer.segmentCustomers(
                    SegmentationMethod.A_PRIORI, null, null, null, null, null, null)));
        }
        faults.put("CancelFinishedRun", cancelFinished);

        List<Object> scored = new ArrayList<>();
        for (CustomerValueScore score : scores.value.getScore()) {
            scored.add(score.getCustomerId());
        }
        List<Object> assigned = new ArrayList<>();
        for (CustomerSegment a : assignments) {
            assigned.add(object("customerId", a.getCustomerId(), "runId", a.getRunId(),
                    "segmentCode", a.getSegmentCode()));
        }
        List<Object> listed = new ArrayList<>();
        listedRuns.forEach(r -> listed.add(r.getRunId()));

        Map<String, Object> report = object(
                "client", "java " + System.getProperty("java.version") + ", JAX-WS RI "
                        + Provider.provider().getClass().getPackage().getImplementationVersion(),
                "wsdlOperations", wsdlOperations(wsdlUrl),
                "called", new ArrayList<>(called),
                "run", runSummary(run),
                "paging", object(
                        "runId", run.getRunId(),
                        "segmentCode", largest,
                        "pageSize", pageSize,
                        "totalCount", totalCount.value,
                        "pages", pages,
                        "members", members),
                "getSegmentationRun", runSummary(fetched),
                "getCustomerSegment", assigned,
                "scoreCustomerValue", object(
                        "scored", scored, "unknown", unknown.value.getCustomerId()),
                "setSegmentOwner", object("code", owned.getCode(), "owner", owned.getOwner()),
                "secondRun", runSummary(second),
                "listSegmentationRuns", listed,
                "compareSegmentationRuns", object(
                        "fromRunId", fromRunId.value,
                        "toRunId", toRunId.value,
                        "transitions", transitions.value.getTransition().size(),
                        "stayedShare", stayedShare.value,
                        "enteredCount", enteredCount.value,
                        "leftCount", leftCount.value),
                "background", object(
                        "idempotencyKey", idempotencyKey,
                        "submitted", submitted.stream()
                                .map(r -> (Object) object(
                                        "runId", r.getRunId(), "status", r.getStatus().value()))
                                .toList(),
                        "polledStatuses", polled,
                        "run", runSummary(finished),
                        "progress", finished.getProgress(),
                        "phase", finished.getPhase(),
                        "schedule", object(
                                "scheduleId", schedule.getScheduleId(),
                                "name", schedule.getName(),
                                "cron", schedule.getCron(),
                                "enabled", schedule.isEnabled(),
                                "requestMethod", schedule.getRequest().getMethod().value()),
                        "listedSchedules", listedSchedules,
                        "deletedScheduleId", deleted.getScheduleId()),
                "segmentTreatment", object(
                        "runId", valueRun.getRunId(),
                        "segmentCode", topTier.getCode(),
                        "recommended", treatmentSummary(topTier.getTreatment()),
                        "answered", object(
                                "code", treatedSegment.getCode(),
                                "treatment", treatmentSummary(treatedSegment.getTreatment()))),
                "portfolio", object(
                        "rowsRun", runSummary(valueRun),
                        "columnsRun", runSummary(needsRun),
                        "created", portfolioSummary(portfolio),
                        "evaluation", evaluationSummary(evaluation),
                        "cell", cellSummary(cell),
                        "cellOwner", object(
                                "portfolioId", cellOwner.getPortfolioId(),
                                "rowSegmentName", cellOwner.getRowSegmentName(),
                                "columnSegmentName", cellOwner.getColumnSegmentName(),
                                "owner", cellOwner.getOwner()),
                        "cellTreatment", object(
                                "portfolioId", cellTreatment.getPortfolioId(),
                                "rowSegmentName", cellTreatment.getRowSegmentName(),
                                "columnSegmentName", cellTreatment.getColumnSegmentName(),
                                "treatment", treatmentSummary(cellTreatment.getTreatment())),
                        "reevaluation", evaluationSummary(reevaluation),
                        "cellReevaluated", cellSummary(cellNamed(reevaluation,
                                cell.getRowSegmentName(), cell.getColumnSegmentName())),
                        "history", object(
                                "portfolioId", historyOf.value.getPortfolioId(),
                                "evaluationIds", evaluations.stream()
                                        .map(e -> (Object) e.getEvaluationId())
                                        .toList(),
                                "lastCell", cellSummary(cellNamed(
                                        evaluations.get(evaluations.size() - 1),
                                        cell.getRowSegmentName(), cell.getColumnSegmentName()))),
                        "listed", listedPortfolios,
                        "deleted", portfolioSummary(deletedPortfolio)),
                "movers", object(
                        "fromRunId", moversFrom,
                        "toRunId", moversTo,
                        "totals", moverTotals,
                        "pages", moverPages,
                        "movers", movers,
                        "downTotalCount", downTotal.value,
                        "downNextPageToken", downNextToken.value,
                        "down", down),
                "insights", object(
                        "runId", needsRun.getRunId(),
                        "segmentCode", insightsSegment,
                        "differentiators", insights.get("differentiators"),
                        "overlaps", insights.get("overlaps"),
                        "againstBaseline", againstBaseline,
                        "selfBaselineFault", selfBaselineFault),
                "faults", faults);
        StringBuilder out = new StringBuilder();
        Json.write(out, report, "");
        System.out.println(out);
    }

    /**
     * The declared fault a call raised, caught as its typed exception: faultcode (from the
     * port's response context), faultstring, the detail element's name and its fields
     * (as strings, as the other stacks print them).
     */
    static Map<String, Object> faultOf(SegmentationPortType port, Call call) throws Exception {
        try {
            call.run();
        } catch (CustomerNotFoundFault_Exception e) {
            return fault(port, e, object("customerId", e.getFaultInfo().getCustomerId()));
        } catch (RunNotFoundFault_Exception e) {
            return fault(port, e, object("runId", String.valueOf(e.getFaultInfo().getRunId())));
        } catch (SegmentNotFoundFault_Exception e) {
            return fault(port, e, object(
                    "runId", String.valueOf(e.getFaultInfo().getRunId()),
                    "segmentCode", e.getFaultInfo().getSegmentCode()));
        } catch (PortfolioNotFoundFault_Exception e) {
            return fault(port, e, object(
                    "portfolioId", String.valueOf(e.getFaultInfo().getPortfolioId())));
        } catch (ScheduleNotFoundFault_Exception e) {
            return fault(port, e, object(
                    "scheduleId", String.valueOf(e.getFaultInfo().getScheduleId())));
        } catch (InvalidRequestFault_Exception e) {
            return fault(port, e, object(
                    "field", e.getFaultInfo().getField(), "reason", e.getFaultInfo().getReason()));
        } catch (AuthenticationFault_Exception e) {
            return fault(port, e, object("reason", e.getFaultInfo().getReason()));
        } catch (AccessDeniedFault_Exception e) {
            return fault(port, e, object(
                    "operation", e.getFaultInfo().getOperation(),
                    "role", e.getFaultInfo().getRole()));
        } catch (ServiceUnavailableFault_Exception e) {
            return fault(port, e, object("reason", e.getFaultInfo().getReason()));
        }
        throw new IllegalStateException("expected a SOAP fault");
    }

    static Map<String, Object> fault(
            SegmentationPortType port, Exception e, Map<String, Object> detail) {
        return object(
                "faultcode", SegmentationClient.faultCode(port),
                "faultstring", e.getMessage(),
                "element", e.getClass().getAnnotation(WebFault.class).name(),
                "detail", detail);
    }

    static Map<String, Object> runSummary(SegmentationRun run) {
        List<Object> segments = new ArrayList<>();
        for (Segment s : run.getSegments().getSegment()) {
            segments.add(object("code", s.getCode(), "size", s.getSize(), "owner", s.getOwner()));
        }
        return object(
                "runId", run.getRunId(),
                "method", run.getMethod().value(),
                "status", run.getStatus().value(),
                "label", run.getLabel(),
                "customerCount", run.getCustomerCount(),
                "assignedCount", run.getAssignedCount(),
                "startedBy", run.getStartedBy(),
                "segments", segments);
    }

    /**
     * A customer whose segment differs between two runs: an absent segment (entered, left) or
     * value is null, as JAXB leaves it.
     */
    static Map<String, Object> moverSummary(Mover mover) {
        return object(
                "customerId", mover.getCustomerId(),
                "fromSegmentCode", mover.getFromSegmentCode(),
                "toSegmentCode", mover.getToSegmentCode(),
                "valueBefore", mover.getValueBefore(),
                "valueAfter", mover.getValueAfter());
    }

    /**
     * getSegmentInsights' differentiators and overlaps (an empty list: JAXB's empty list, or
     * null if the element were absent; [] either way).
     */
    static Map<String, Object> insights(SegmentationPortType soap, long runId,
            String segmentCode, String baseline) throws Exception {
        Holder<DifferentiatorList> differentiators = new Holder<>();
        Holder<OverlapList> overlaps = new Holder<>();
        soap.getSegmentInsights(runId, segmentCode, baseline, differentiators, overlaps);
        List<Object> features = new ArrayList<>();
        if (differentiators.value != null) {
            differentiators.value.getDifferentiator().forEach(d -> features.add(object(
                    "feature", d.getFeature(),
                    "segmentValue", d.getSegmentValue(),
                    "baselineValue", d.getBaselineValue(),
                    "lift", d.getLift(),
                    "pValue", d.getPValue())));
        }
        List<Object> shared = new ArrayList<>();
        if (overlaps.value != null) {
            overlaps.value.getOverlap().forEach(o -> shared.add(object(
                    "method", o.getMethod().value(),
                    "runId", o.getRunId(),
                    "segmentCode", o.getSegmentCode(),
                    "segmentName", o.getSegmentName(),
                    "sharedCustomers", o.getSharedCustomers(),
                    "shareOfThisSegment", o.getShareOfThisSegment(),
                    "jaccard", o.getJaccard())));
        }
        return object("differentiators", features, "overlaps", shared);
    }

    /** A portfolio as createPortfolio, listPortfolios and deletePortfolio answer it (no grid). */
    static Map<String, Object> portfolioSummary(Portfolio portfolio) {
        return object(
                "portfolioId", portfolio.getPortfolioId(),
                "name", portfolio.getName(),
                "rows", portfolio.getRows().value(),
                "columns", portfolio.getColumns().value(),
                "owner", portfolio.getOwner(),
                "objective", portfolio.getObjective(),
                "createdBy", portfolio.getCreatedBy(),
                "evaluated", portfolio.getEvaluation() != null);
    }

    /** One evaluation of a portfolio's grid: its runs and the customers in each cell, by row. */
    static Map<String, Object> evaluationSummary(PortfolioEvaluation evaluation) {
        List<Object> cellCustomers = new ArrayList<>();
        evaluation.getCells().getCell().forEach(c -> cellCustomers.add(c.getCustomers()));
        return object(
                "evaluationId", evaluation.getEvaluationId(),
                "rowsRunId", evaluation.getRowsRunId(),
                "columnsRunId", evaluation.getColumnsRunId(),
                "customerEquity", evaluation.getCustomerEquity(),
                "cellCustomers", cellCustomers,
                "rowTotals", evaluation.getRowTotals().getCell().size(),
                "columnTotals", evaluation.getColumnTotals().getCell().size(),
                "outsideCustomers", evaluation.getOutside().getCustomers());
    }

    /** The cell of an evaluation's grid with these segment names (its identity across runs). */
    static PortfolioCell cellNamed(PortfolioEvaluation evaluation, String row, String column) {
        return evaluation.getCells().getCell().stream()
                .filter(c -> row.equals(c.getRowSegmentName())
                        && column.equals(c.getColumnSegmentName()))
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("no cell " + row + " x " + column));
    }

    /** What to do with a segment or cell: the recommendation, or an analyst's (overridden). */
    static Map<String, Object> treatmentSummary(Treatment treatment) {
        return object(
                "strategy", treatment.getStrategy().value(),
                "channel", treatment.getChannel(),
                "message", treatment.getMessage(),
                "overridden", treatment.isOverridden());
    }

    static Map<String, Object> cellSummary(PortfolioCell cell) {
        return object(
                "rowSegmentCode", cell.getRowSegmentCode(),
                "rowSegmentName", cell.getRowSegmentName(),
                "columnSegmentCode", cell.getColumnSegmentCode(),
                "columnSegmentName", cell.getColumnSegmentName(),
                "customers", cell.getCustomers(),
                "customerEquity", cell.getCustomerEquity(),
                "equityChange", cell.getEquityChange(),
                "owner", cell.getOwner(),
                "treatment", treatmentSummary(cell.getTreatment()));
    }

    /** The port, recording the WSDL operation name of every call made through it. */
    static SegmentationPortType recording(SegmentationPortType port, Set<String> called) {
        InvocationHandler handler = (proxy, method, args) -> {
            WebMethod operation = method.getAnnotation(WebMethod.class);
            if (operation != null) { // not Object's methods
                called.add(operation.operationName());
            }
            try {
                return method.invoke(port, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        };
        return (SegmentationPortType) Proxy.newProxyInstance(
                SegmentationPortType.class.getClassLoader(),
                new Class<?>[] {SegmentationPortType.class},
                handler);
    }

    /** The operation names of the WSDL's portType, read with the JDK's DOM parser. */
    static List<String> wsdlOperations(String wsdlUrl) throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(true);
        factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        factory.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
        Document wsdl;
        try (InputStream in = new URL(wsdlUrl).openStream()) {
            wsdl = factory.newDocumentBuilder().parse(in);
        }
        List<String> names = new ArrayList<>();
        Element portType = (Element) wsdl.getElementsByTagNameNS(WSDL_NS, "portType").item(0);
        for (Node child = portType.getFirstChild(); child != null; child = child.getNextSibling()) {
            if (WSDL_NS.equals(child.getNamespaceURI())
                    && "operation".equals(child.getLocalName())) {
                names.add(((Element) child).getAttribute("name"));
            }
        }
        return names;
    }

    /** A JSON object with its keys in the order given: object("a", 1, "b", 2). */
    static Map<String, Object> object(Object... keysAndValues) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            map.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return map;
    }

    /** A small JSON writer: maps, collections, strings, numbers, booleans and null. */
    static final class Json {
        static void write(StringBuilder out, Object value, String indent) {
            if (value == null) {
                out.append("null");
            } else if (value instanceof String s) {
                string(out, s);
            } else if (value instanceof Boolean
                    || value instanceof Integer
                    || value instanceof Long) {
                out.append(value);
            } else if (value instanceof Double d) {
                if (d.isNaN() || d.isInfinite()) {
                    throw new IllegalArgumentException("JSON has no " + d);
                }
                out.append(d);
            } else if (value instanceof Map<?, ?> map) {
                container(out, map.entrySet(), indent, '{', '}', (entry, inner) -> {
                    string(out, (String) entry.getKey());
                    out.append(": ");
                    write(out, entry.getValue(), inner);
                });
            } else if (value instanceof Collection<?> items) {
                container(out, items, indent, '[', ']', (item, inner) -> write(out, item, inner));
            } else {
                throw new IllegalArgumentException("not JSON: " + value.getClass());
            }
        }

        interface Member<T> {
            void write(T member, String indent);
        }

        static <T> void container(StringBuilder out, Collection<T> members, String indent,
                char open, char close, Member<T> each) {
            out.append(open);
            String inner = indent + "  ";
            boolean first = true;
            for (T member : members) {
                out.append(first ? "\n" : ",\n").append(inner);
                each.write(member, inner);
                first = false;
            }
            out.append(first ? "" : "\n" + indent).append(close);
        }

        static void string(StringBuilder out, String s) {
            out.append('"');
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                switch (c) {
                    case '"' -> out.append("\\\"");
                    case '\\' -> out.append("\\\\");
                    case '\n' -> out.append("\\n");
                    case '\r' -> out.append("\\r");
                    case '\t' -> out.append("\\t");
                    default -> {
                        if (c < 0x20) {
                            out.append(String.format("\\u%04x", (int) c));
                        } else {
                            out.append(c);
                        }
                    }
                }
            }
            out.append('"');
        }
    }
}
