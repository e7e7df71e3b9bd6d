// Contract-test driver: calls every operation of the served WSDL through the ASMX proxy that
// Mono's `wsdl` generates from it, and prints what came back as one JSON document (read by
// tests/contract/test_other_clients.py; the shape of clients/php/scenario.php's output).
//
//   mono scenario.exe WSDL_URL [PAGE_SIZE]
//
// The proxy is generated from WSDL_URL before compiling (see README.md); its endpoint is
// that WSDL's soap:address, so WSDL_URL here only names the contract the program was built
// against. Credentials, when the server wants them: SEGMENTATION_USERNAME,
// SEGMENTATION_PASSWORD (a role that may run segmentations); SEGMENTATION_VIEWER_USERNAME /
// _PASSWORD, if set, a read-only user for AccessDeniedFault.

using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using System.Text;
using System.Web.Script.Serialization;
using System.Web.Services.Protocols;

static class Scenario
{
    const string UnknownCustomer = "NO-SUCH-CUSTOMER";
    const long UnknownRun = 999999999;
    const string UnknownSegment = "NO-SUCH-SEGMENT";

    static readonly List<string> called = new List<string>();

    /// <summary>Runs one call of `operation`, remembering that the operation was called.</summary>
    static T Call<T>(string operation, Func<T> call)
    {
        if (!called.Contains(operation))
            called.Add(operation);
        return call();
    }

    /// <summary>The declared fault a call raised: code, message, and its one typed detail element.</summary>
    static Dictionary<string, object> FaultOf(Action call)
    {
        try
        {
            call();
        }
        catch (SoapException exception)
        {
            DeclaredFault fault = DeclaredFault.From(exception);
            return new Dictionary<string, object>
            {
                ["faultcode"] = fault.Code,
                ["faultstring"] = fault.Message,
                ["element"] = fault.Element,
                ["detail"] = fault.Element == null ? null : fault.Fields,
            };
        }
        throw new InvalidOperationException("expected a SOAP fault");
    }

    static Dictionary<string, object> RunSummary(SegmentationRun run)
    {
        return new Dictionary<string, object>
        {
            ["runId"] = run.runId,
            ["method"] = run.method.ToString(),
            ["status"] = run.status.ToString(),
            ["label"] = run.label,
            ["customerCount"] = run.customerCount,
            ["assignedCount"] = run.assignedCount,
            ["startedBy"] = run.startedBy,
            ["segments"] = (run.segments ?? new Segment[0])
                .Select(s => new Dictionary<string, object> { ["code"] = s.code, ["size"] = s.size, ["owner"] = s.owner })
                .ToList(),
        };
    }

    /// <summary>A portfolio as CreatePortfolio, ListPortfolios and DeletePortfolio answer it (no grid).</summary>
    static Dictionary<string, object> PortfolioSummary(Portfolio portfolio)
    {
        return new Dictionary<string, object>
        {
            ["portfolioId"] = portfolio.portfolioId,
            ["name"] = portfolio.name,
            ["rows"] = portfolio.rows.ToString(),
            ["columns"] = portfolio.columns.ToString(),
            ["owner"] = portfolio.owner,
            ["objective"] = portfolio.objective,
            ["createdBy"] = portfolio.createdBy,
            ["evaluated"] = portfolio.evaluation != null,
        };
    }

    /// <summary>One evaluation of a portfolio's grid: its runs, and the customers in each cell, row by row.</summary>
    static Dictionary<string, object> EvaluationSummary(PortfolioEvaluation evaluation)
    {
        return new Dictionary<string, object>
        {
            ["evaluationId"] = evaluation.evaluationId,
            ["rowsRunId"] = evaluation.rowsRunId,
            ["columnsRunId"] = evaluation.columnsRunId,
            ["customerEquity"] = evaluation.customerEquity,
            ["cellCustomers"] = (evaluation.cells ?? new PortfolioCell[0]).Select(c => c.customers).ToList(),
            ["rowTotals"] = (evaluation.rowTotals ?? new PortfolioCell[0]).Length,
            ["columnTotals"] = (evaluation.columnTotals ?? new PortfolioCell[0]).Length,
            ["outsideCustomers"] = evaluation.outside.customers,
        };
    }

    /// <summary>The cell of an evaluation's grid with these segment names (its identity across runs).</summary>
    static PortfolioCell CellNamed(PortfolioEvaluation evaluation, string row, string column)
    {
        return (evaluation.cells ?? new PortfolioCell[0])
            .First(c => c.rowSegmentName == row && c.columnSegmentName == column);
    }

    /// <summary>What to do with a segment or cell: the recommendation, or an analyst's (overridden).</summary>
    static Dictionary<string, object> TreatmentSummary(Treatment treatment)
    {
        return new Dictionary<string, object>
        {
            ["strategy"] = treatment.strategy.ToString(),
            ["channel"] = treatment.channel,
            ["message"] = treatment.message,
            ["overridden"] = treatment.overridden,
        };
    }

    static Dictionary<string, object> CellSummary(PortfolioCell cell)
    {
        return new Dictionary<string, object>
        {
            ["rowSegmentCode"] = cell.rowSegmentCode,
            ["rowSegmentName"] = cell.rowSegmentName,
            ["columnSegmentCode"] = cell.columnSegmentCode,
            ["columnSegmentName"] = cell.columnSegmentName,
            ["customers"] = cell.customers,
            ["customerEquity"] = cell.customerEquity,
            ["equityChange"] = cell.equityChangeSpecified ? (object)cell.equityChange : null,
            ["owner"] = cell.owner,
            ["treatment"] = TreatmentSummary(cell.treatment),
        };
    }

    /// <summary>A customer whose segment differs between two runs; an absent segment or value is null.</summary>
    static Dictionary<string, object> MoverSummary(Mover mover)
    {
        return new Dictionary<string, object>
        {
            ["customerId"] = mover.customerId,
            ["fromSegmentCode"] = mover.fromSegmentCode,  // null: the customer entered
            ["toSegmentCode"] = mover.toSegmentCode,  // null: the customer left
            ["valueBefore"] = mover.valueBeforeSpecified ? (object)mover.valueBefore : null,
            ["valueAfter"] = mover.valueAfterSpecified ? (object)mover.valueAfter : null,
        };
    }

    /// <summary>A feature in which a segment differs from its baseline (every field required).</summary>
    static Dictionary<string, object> DifferentiatorSummary(Differentiator differentiator)
    {
        return new Dictionary<string, object>
        {
            ["feature"] = differentiator.feature,
            ["segmentValue"] = differentiator.segmentValue,
            ["baselineValue"] = differentiator.baselineValue,
            ["lift"] = differentiator.lift,
            ["pValue"] = differentiator.pValue,
        };
    }

    /// <summary>A segment of another method's latest run and the customers it shares with this one.</summary>
    static Dictionary<string, object> OverlapSummary(Overlap overlap)
    {
        return new Dictionary<string, object>
        {
            ["method"] = overlap.method.ToString(),
            ["runId"] = overlap.runId,
            ["segmentCode"] = overlap.segmentCode,
            ["segmentName"] = overlap.segmentName,
            ["sharedCustomers"] = overlap.sharedCustomers,
            ["shareOfThisSegment"] = overlap.shareOfThisSegment,
            ["jaccard"] = overlap.jaccard,
        };
    }

    /// <summary>
    /// GetSegmentInsights' differentiators (the return value) and overlaps (an out parameter);
    /// an empty list comes back null, [] here.
    /// </summary>
    static Dictionary<string, object> Insights(
        SegmentationClient client, long runId, string segmentCode, string baseline)
    {
        Overlap[] overlaps = null;
        Differentiator[] differentiators = Call("GetSegmentInsights", () =>
            client.GetSegmentInsights(runId, segmentCode, baseline, out overlaps));
        return new Dictionary<string, object>
        {
            ["differentiators"] = (differentiators ?? new Differentiator[0]).Select(DifferentiatorSummary).ToList(),
            ["overlaps"] = (overlaps ?? new Overlap[0]).Select(OverlapSummary).ToList(),
        };
    }

    /// <summary>The operations of the generated proxy: one method per wsdl:operation.</summary>
    static List<string> ProxyOperations()
    {
        return typeof(SegmentationService)
            .GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
            .Where(m => m.GetCustomAttributes(typeof(SoapDocumentMethodAttribute), false).Length > 0)
            .Select(m => m.Name)
            .ToList();
    }

    static int Main(string[] args)
    {
        if (args.Length < 1)
        {
            Console.Error.WriteLine("usage: mono scenario.exe WSDL_URL [PAGE_SIZE]");
            return 2;
        }
        int pageSize = args.Length > 1 ? int.Parse(args[1]) : 7;
        Console.OutputEncoding = new UTF8Encoding(false);
        SegmentationClient client = SegmentationClient.FromEnvironment();

        SegmentationRun run = Call("SegmentCustomers", () =>
            client.SegmentCustomers(SegmentationMethod.APriori, ".NET ASMX proxy", null, null, null, null, null));
        string largest = run.segments
            .OrderByDescending(s => s.size).ThenBy(s => s.code, StringComparer.Ordinal)
            .First().code;

        var pages = new List<int>();
        var members = new List<string>();
        string token = null;
        int totalCount;
        do
        {
            string segmentCode = largest;  // ref: the response's segmentCode and runId come back here
            long runId = run.runId;
            bool runIdSpecified = true;
            SegmentMember[] page = null;
            totalCount = Call("ListSegmentMembers", () => client.ListSegmentMembers(
                ref segmentCode, ref runId, ref runIdSpecified, default(SegmentationMethod), false,
                pageSize, true, token, out page, out token));
            pages.Add(page.Length);
            members.AddRange(page.Select(m => m.customerId));
        } while (token != null);
        string customer = members[0];

        SegmentationRun fetched = Call("GetSegmentationRun", () => client.GetSegmentationRun(run.runId));
        CustomerSegment[] assignments = Call("GetCustomerSegment", () =>
            client.GetCustomerSegment(customer, default(SegmentationMethod), false, run.runId, true));
        string[] unknownIds = null;
        CustomerValueScore[] scores = Call("ScoreCustomerValue", () => client.ScoreCustomerValue(
            new[] { customer, UnknownCustomer }, 0, false, 0, false, default(DateTime), false, out unknownIds));
        Segment owned = Call("SetSegmentOwner", () =>
            client.SetSegmentOwner(run.runId, largest, "Key accounts (.NET)"));
        var byCustomerType = new APrioriParameters { groupBy = new[] { CustomerAttribute.customerType } };
        SegmentationRun second = Call("SegmentCustomers", () =>
            client.SegmentCustomers(SegmentationMethod.APriori, null, null, byCustomerType, null, null, null));
        SegmentationRun[] listedRuns = Call("ListSegmentationRuns", () =>
            client.ListSegmentationRuns(SegmentationMethod.APriori, true, 2, true, 0, false, null));
        long fromRunId = run.runId, toRunId = second.runId;
        double stayedShare = 0, adjustedRandIndex;
        int enteredCount = 0, leftCount = 0;
        Transition[] transitions = Call("CompareSegmentationRuns", () => client.CompareSegmentationRuns(
            ref fromRunId, ref toRunId, out stayedShare, out adjustedRandIndex, out enteredCount, out leftCount));

        // The async pattern (contract 1.3): submit twice with one idempotency key (one run), poll
        // GetSegmentationRun with a back-off until the run has finished, read it; then a schedule
        // is created, listed and deleted.
        string idempotencyKey = "dotnet-scenario-" + Guid.NewGuid().ToString("N");
        var submitted = new List<SegmentationRun>();
        for (int i = 0; i < 2; i++)
            submitted.Add(Call("SubmitSegmentation", () => client.SubmitSegmentation(SegmentationMethod.APriori,
                ".NET ASMX proxy, submitted", null, byCustomerType, null, null, idempotencyKey, null)));
        var polled = new List<string>();
        SegmentationRun finished = client.WaitForRun(
            submitted[0].runId, TimeSpan.FromSeconds(40), r => polled.Add(r.status.ToString()));
        Dictionary<string, object> cancelFinished = FaultOf(() =>
            Call("CancelSegmentationRun", () => client.CancelSegmentationRun(finished.runId)));
        var scheduled = new SegmentCustomers { method = SegmentationMethod.APriori, aPriori = byCustomerType };
        SegmentationSchedule schedule = Call("CreateSegmentationSchedule", () =>
            client.CreateSegmentationSchedule("nightly-dotnet", "0 2 * * *", scheduled, false, false));
        SegmentationSchedule[] schedules = Call("ListSegmentationSchedules", () => client.ListSegmentationSchedules());
        SegmentationSchedule deleted = Call("DeleteSegmentationSchedule", () =>
            client.DeleteSegmentationSchedule(schedule.scheduleId));

        // Customer portfolios (contract 1.4): value tiers (rows) by needs segments (columns), from
        // the latest completed run of each method, so one of each runs first. The portfolio is
        // created, evaluated (GetPortfolio), its largest cell given an owner and a treatment and
        // evaluated again, its history read, listed, deleted, and asked for once more
        // (PortfolioNotFoundFault). Before that, the value run's top tier (its first segment) gets
        // an analyst's treatment over the recommended one: with no channel given (null), the
        // recommended channel stays. The same value tiers a year back run first (older, so the
        // portfolio takes valueRun): the segment movers (contract 1.5) are the customers between the two.
        var byClvYearBack = new ValueBasedParameters
        {
            valueMetric = ValueMetric.Clv, valueMetricSpecified = true,
            asOfDate = new DateTime(2025, 6, 30), asOfDateSpecified = true,
        };
        SegmentationRun valueRunYearBack = Call("SegmentCustomers", () => client.SegmentCustomers(
            SegmentationMethod.ValueBased, ".NET ASMX proxy, value a year back", null, null, null, byClvYearBack,
            null));
        var byClv = new ValueBasedParameters { valueMetric = ValueMetric.Clv, valueMetricSpecified = true };
        SegmentationRun valueRun = Call("SegmentCustomers", () => client.SegmentCustomers(
            SegmentationMethod.ValueBased, ".NET ASMX proxy, portfolio rows", null, null, null, byClv, null));
        var threeSegments = new NeedsBasedParameters { segmentCount = 3, segmentCountSpecified = true };
        SegmentationRun needsRun = Call("SegmentCustomers", () => client.SegmentCustomers(
            SegmentationMethod.NeedsBased, ".NET ASMX proxy, portfolio columns", null, null, threeSegments, null,
            null));
        Segment topTier = valueRun.segments[0];
        Segment treatedSegment = Call("SetSegmentTreatment", () => client.SetSegmentTreatment(
            valueRun.runId, topTier.code, Strategy.Develop, null, "premium bundle dotnet"));
        Portfolio portfolio = Call("CreatePortfolio", () => client.CreatePortfolio("value-x-needs-dotnet",
            SegmentationMethod.ValueBased, SegmentationMethod.NeedsBased, "CRM team (.NET)",
            "Grow customer equity where value meets needs"));
        long portfolioId = portfolio.portfolioId;
        PortfolioEvaluation evaluation = Call("GetPortfolio", () => client.GetPortfolio(portfolioId)).evaluation;
        PortfolioCell cell = evaluation.cells.OrderByDescending(c => c.customers).First();  // stable: the first largest
        PortfolioCellOwner cellOwner = Call("SetPortfolioCellOwner", () => client.SetPortfolioCellOwner(
            portfolioId, cell.rowSegmentCode, cell.columnSegmentCode, "Retention desk (.NET)"));
        PortfolioCellTreatment cellTreatment = Call("SetPortfolioCellTreatment", () =>
            client.SetPortfolioCellTreatment(
                portfolioId, cell.rowSegmentCode, cell.columnSegmentCode, Strategy.WinBack, "Phone", null));
        PortfolioEvaluation reevaluation = Call("GetPortfolio", () => client.GetPortfolio(portfolioId)).evaluation;
        PortfolioEvaluation[] evaluations = null;
        Portfolio historyOf = Call("GetPortfolioHistory", () =>
            client.GetPortfolioHistory(portfolioId, out evaluations));
        evaluations = evaluations ?? new PortfolioEvaluation[0];
        Portfolio[] listedPortfolios = Call("ListPortfolios", () => client.ListPortfolios()) ?? new Portfolio[0];
        Portfolio deletedPortfolio = Call("DeletePortfolio", () => client.DeletePortfolio(portfolioId));

        // Segment movers (contract 1.5): every customer whose value tier changed between the run a
        // year back and the portfolio's value run, page by page with nextPageToken (each page's
        // totalCount kept), then those who fell to a worse tier (direction Down), on one page.
        long moversFrom = valueRunYearBack.runId, moversTo = valueRun.runId;
        var moverTotals = new List<int>();
        var moverPages = new List<int>();
        var movers = new List<Dictionary<string, object>>();
        string moverToken = null;
        do
        {
            Mover[] moverPage = null;
            moverTotals.Add(Call("ListSegmentMovers", () => client.ListSegmentMovers(
                moversFrom, moversTo, null, null, default(MoveDirection), false, pageSize, true, moverToken,
                out moverPage, out moverToken)));
            moverPage = moverPage ?? new Mover[0];
            moverPages.Add(moverPage.Length);
            movers.AddRange(moverPage.Select(MoverSummary));
        } while (moverToken != null);
        Mover[] down = null;
        string downNextToken = null;
        int downTotal = Call("ListSegmentMovers", () => client.ListSegmentMovers(
            moversFrom, moversTo, null, null, MoveDirection.Down, true, 1000, true, null,
            out down, out downNextToken));

        // Segment insights (contract 1.5): what sets the needs run's largest segment apart from all
        // the run's customers, and the segments of the other methods' latest runs it overlaps; then
        // against the next largest segment (baseline), and against itself (InvalidRequestFault).
        string[] needsBySize = needsRun.segments
            .OrderByDescending(s => s.size).ThenBy(s => s.code, StringComparer.Ordinal)
            .Select(s => s.code).ToArray();
        string insightsSegment = needsBySize[0], insightsBaseline = needsBySize[1];
        Dictionary<string, object> insights = Insights(client, needsRun.runId, insightsSegment, null);
        Dictionary<string, object> againstBaseline =
            Insights(client, needsRun.runId, insightsSegment, insightsBaseline);
        againstBaseline["baseline"] = insightsBaseline;
        Dictionary<string, object> selfBaselineFault = FaultOf(() =>
            Insights(client, needsRun.runId, insightsSegment, insightsSegment));

        var faults = new Dictionary<string, object>
        {
            ["CustomerNotFoundFault"] = FaultOf(() =>
                client.GetCustomerSegment(UnknownCustomer, default(SegmentationMethod), false, 0, false)),
            ["RunNotFoundFault"] = FaultOf(() => client.GetSegmentationRun(UnknownRun)),
            ["SegmentNotFoundFault"] = FaultOf(() =>
            {
                string segmentCode = UnknownSegment;
                long runId = run.runId;
                bool runIdSpecified = true;
                SegmentMember[] page;
                string next;
                client.ListSegmentMembers(ref segmentCode, ref runId, ref runIdSpecified,
                    default(SegmentationMethod), false, 0, false, null, out page, out next);
            }),
            ["InvalidRequestFault"] = FaultOf(() => client.SegmentCustomers(SegmentationMethod.APriori, null, null,
                null, null, new ValueBasedParameters { tierCount = 3, tierCountSpecified = true }, null)),
            ["PortfolioNotFoundFault"] = FaultOf(() => client.GetPortfolio(portfolioId)),
        };
        string username = Environment.GetEnvironmentVariable("SEGMENTATION_USERNAME");
        if (!string.IsNullOrEmpty(username))
        {
            var wrong = new SegmentationClient(username, "not-the-password");
            faults["AuthenticationFault"] = FaultOf(() => wrong.GetSegmentationRun(run.runId));
        }
        string viewerName = Environment.GetEnvironmentVariable("SEGMENTATION_VIEWER_USERNAME");
        if (!string.IsNullOrEmpty(viewerName))  // a role that may only read
        {
            var viewer = new SegmentationClient(
                viewerName, Environment.GetEnvironmentVariable("SEGMENTATION_VIEWER_PASSWORD"));
            faults["AccessDeniedFault"] = FaultOf(() =>
                viewer.SegmentCustomers(SegmentationMethod.APriori, null, null, null, null, null, null));
        }
        faults["CancelFinishedRun"] = cancelFinished;

        var report = new Dictionary<string, object>
        {
            ["client"] = "mono " + MonoVersion() + " (wsdl ASMX proxy)",
            ["wsdlOperations"] = ProxyOperations(),
            ["called"] = called,
            ["run"] = RunSummary(run),
            ["paging"] = new Dictionary<string, object>
            {
                ["runId"] = run.runId,
                ["segmentCode"] = largest,
                ["pageSize"] = pageSize,
                ["totalCount"] = totalCount,
                ["pages"] = pages,
                ["members"] = members,
            },
            ["getSegmentationRun"] = RunSummary(fetched),
            ["getCustomerSegment"] = (assignments ?? new CustomerSegment[0])
                .Select(a => new Dictionary<string, object>
                {
                    ["customerId"] = a.customerId, ["runId"] = a.runId, ["segmentCode"] = a.segmentCode,
                })
                .ToList(),
            ["scoreCustomerValue"] = new Dictionary<string, object>
            {
                ["scored"] = (scores ?? new CustomerValueScore[0]).Select(s => s.customerId).ToList(),
                ["unknown"] = unknownIds ?? new string[0],
            },
            ["setSegmentOwner"] = new Dictionary<string, object> { ["code"] = owned.code, ["owner"] = owned.owner },
            ["secondRun"] = RunSummary(second),
            ["listSegmentationRuns"] = (listedRuns ?? new SegmentationRun[0]).Select(r => r.runId).ToList(),
            ["compareSegmentationRuns"] = new Dictionary<string, object>
            {
                ["fromRunId"] = fromRunId,
                ["toRunId"] = toRunId,
                ["transitions"] = (transitions ?? new Transition[0]).Length,
                ["stayedShare"] = stayedShare,
                ["enteredCount"] = enteredCount,
                ["leftCount"] = leftCount,
            },
            ["background"] = new Dictionary<string, object>
            {
                ["idempotencyKey"] = idempotencyKey,
                ["submitted"] = submitted
                    .Select(r => new Dictionary<string, object> { ["runId"] = r.runId, ["status"] = r.status.ToString() })
                    .ToList(),
                ["polledStatuses"] = polled,
                ["run"] = RunSummary(finished),
                ["progress"] = finished.progressSpecified ? (object)finished.progress : null,
                ["phase"] = finished.phase,
                ["schedule"] = new Dictionary<string, object>
                {
                    ["scheduleId"] = schedule.scheduleId,
                    ["name"] = schedule.name,
                    ["cron"] = schedule.cron,
                    ["enabled"] = schedule.enabled,
                    ["requestMethod"] = schedule.request.method.ToString(),
                },
                ["listedSchedules"] = (schedules ?? new SegmentationSchedule[0]).Select(x => x.name).ToList(),
                ["deletedScheduleId"] = deleted.scheduleId,
            },
            ["segmentTreatment"] = new Dictionary<string, object>
            {
                ["runId"] = valueRun.runId,
                ["segmentCode"] = topTier.code,
                ["recommended"] = TreatmentSummary(topTier.treatment),
                ["answered"] = new Dictionary<string, object>
                {
                    ["code"] = treatedSegment.code, ["treatment"] = TreatmentSummary(treatedSegment.treatment),
                },
            },
            ["portfolio"] = new Dictionary<string, object>
            {
                ["rowsRun"] = RunSummary(valueRun),
                ["columnsRun"] = RunSummary(needsRun),
                ["created"] = PortfolioSummary(portfolio),
                ["evaluation"] = EvaluationSummary(evaluation),
                ["cell"] = CellSummary(cell),
                ["cellOwner"] = new Dictionary<string, object>
                {
                    ["portfolioId"] = cellOwner.portfolioId,
                    ["rowSegmentName"] = cellOwner.rowSegmentName,
                    ["columnSegmentName"] = cellOwner.columnSegmentName,
                    ["owner"] = cellOwner.owner,
                },
                ["cellTreatment"] = new Dictionary<string, object>
                {
                    ["portfolioId"] = cellTreatment.portfolioId,
                    ["rowSegmentName"] = cellTreatment.rowSegmentName,
                    ["columnSegmentName"] = cellTreatment.columnSegmentName,
                    ["treatment"] = TreatmentSummary(cellTreatment.treatment),
                },
                ["reevaluation"] = EvaluationSummary(reevaluation),
                ["cellReevaluated"] = CellSummary(CellNamed(reevaluation, cell.rowSegmentName, cell.columnSegmentName)),
                ["history"] = new Dictionary<string, object>
                {
                    ["portfolioId"] = historyOf.portfolioId,
                    ["evaluationIds"] = evaluations.Select(e => e.evaluationId).ToList(),
                    ["lastCell"] = CellSummary(
                        CellNamed(evaluations.Last(), cell.rowSegmentName, cell.columnSegmentName)),
                },
                ["listed"] = listedPortfolios
                    .Select(p => new Dictionary<string, object> { ["portfolioId"] = p.portfolioId, ["name"] = p.name })
                    .ToList(),
                ["deleted"] = PortfolioSummary(deletedPortfolio),
            },
            ["movers"] = new Dictionary<string, object>
            {
                ["fromRunId"] = moversFrom,
                ["toRunId"] = moversTo,
                ["totals"] = moverTotals,
                ["pages"] = moverPages,
                ["movers"] = movers,
                ["downTotalCount"] = downTotal,
                ["downNextPageToken"] = downNextToken,
                ["down"] = (down ?? new Mover[0]).Select(MoverSummary).ToList(),
            },
            ["insights"] = new Dictionary<string, object>
            {
                ["runId"] = needsRun.runId,
                ["segmentCode"] = insightsSegment,
                ["differentiators"] = insights["differentiators"],
                ["overlaps"] = insights["overlaps"],
                ["againstBaseline"] = againstBaseline,
                ["selfBaselineFault"] = selfBaselineFault,
            },
            ["faults"] = faults,
        };
        Console.WriteLine(new JavaScriptSerializer().Serialize(report));
        return 0;
    }

    static string MonoVersion()
    {
        Type mono = Type.GetType("Mono.Runtime");
        MethodInfo name = mono?.GetMethod("GetDisplayName", BindingFlags.NonPublic | BindingFlags.Static);
        return name == null ? Environment.Version.ToString() : (string)name.Invoke(null, null);
    }
}
