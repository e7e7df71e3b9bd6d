'use strict';
/**
 * Contract-test driver: calls every operation of the served WSDL through node-soap and
 * prints what came back as one JSON document (read by tests/contract/test_other_clients.py).
 *
 *   node clients/node/scenario.js WSDL_URL [PAGE_SIZE]
 *
 * Credentials, when the server wants them: SEGMENTATION_USERNAME, SEGMENTATION_PASSWORD
 * (a role that may run segmentations); SEGMENTATION_VIEWER_USERNAME/_PASSWORD, if set, a
 * read-only user for AccessDeniedFault. The output has the shape of clients/php/scenario.php's.
 */

const { randomBytes } = require('crypto');
const { createClient, fromEnvironment, call, items, waitForRun } = require('./segmentation_client');

const UNKNOWN_CUSTOMER = 'NO-SUCH-CUSTOMER';
const UNKNOWN_RUN = 999999999;
const UNKNOWN_SEGMENT = 'NO-SUCH-SEGMENT';

/** The declared fault a call raised: code, message, and its one typed detail element. */
async function faultOf(promise) {
  try {
    await promise;
  } catch (error) {
    const fault = error.root && error.root.Envelope && error.root.Envelope.Body.Fault;
    if (!fault) throw error;
    const [element] = Object.keys(fault.detail || {});
    return {
      faultcode: fault.faultcode,
      faultstring: fault.faultstring,
      element: element === undefined ? null : element,
      detail: element === undefined ? null : fault.detail[element],
    };
  }
  throw new Error('expected a SOAP fault');
}

function runSummary(run) {
  return {
    runId: Number(run.runId),
    method: run.method,
    status: run.status,
    label: run.label ?? null,
    customerCount: run.customerCount,
    assignedCount: run.assignedCount,
    startedBy: run.startedBy ?? null,
    segments: items(run.segments, 'segment').map((s) => ({ code: s.code, size: s.size, owner: s.owner ?? null })),
  };
}

/** A portfolio as CreatePortfolio, ListPortfolios and DeletePortfolio answer it (no grid). */
function portfolioSummary(portfolio) {
  return {
    portfolioId: Number(portfolio.portfolioId),
    name: portfolio.name,
    rows: portfolio.rows,
    columns: portfolio.columns,
    owner: portfolio.owner ?? null,
    objective: portfolio.objective ?? null,
    createdBy: portfolio.createdBy ?? null,
    evaluated: portfolio.evaluation != null,
  };
}

/** One evaluation of a portfolio's grid: its runs, and the customers in each cell, row by row. */
function evaluationSummary(evaluation) {
  return {
    evaluationId: Number(evaluation.evaluationId),
    rowsRunId: Number(evaluation.rowsRunId),
    columnsRunId: Number(evaluation.columnsRunId),
    customerEquity: Number(evaluation.customerEquity),
    cellCustomers: items(evaluation.cells, 'cell').map((cell) => Number(cell.customers)),
    rowTotals: items(evaluation.rowTotals, 'cell').length,
    columnTotals: items(evaluation.columnTotals, 'cell').length,
    outsideCustomers: Number(evaluation.outside.customers),
  };
}

/** The cell of an evaluation's grid with these segment names (a cell's identity across runs). */
function cellNamed(evaluation, row, column) {
  const found = items(evaluation.cells, 'cell').find(
    (cell) => cell.rowSegmentName === row && cell.columnSegmentName === column,
  );
  if (!found) throw new Error(`no cell ${row} x ${column}`);
  return found;
}

/** What to do with a segment or cell: the recommendation, or an analyst's (overridden). */
function treatmentSummary(treatment) {
  return {
    strategy: treatment.strategy,
    channel: treatment.channel ?? null,
    message: treatment.message,
    overridden: treatment.overridden,
  };
}

function cellSummary(cell) {
  return {
    rowSegmentCode: cell.rowSegmentCode,
    rowSegmentName: cell.rowSegmentName,
    columnSegmentCode: cell.columnSegmentCode,
    columnSegmentName: cell.columnSegmentName,
    customers: Number(cell.customers),
    customerEquity: Number(cell.customerEquity),
    equityChange: cell.equityChange == null ? null : Number(cell.equityChange),
    owner: cell.owner ?? null,
    treatment: treatmentSummary(cell.treatment),
  };
}

/** A customer whose segment differs between two runs; an absent segment or value is null. */
function moverSummary(mover) {
  return {
    customerId: mover.customerId,
    fromSegmentCode: mover.fromSegmentCode ?? null, // absent: the customer entered
    toSegmentCode: mover.toSegmentCode ?? null, // absent: the customer left
    valueBefore: mover.valueBefore == null ? null : Number(mover.valueBefore),
    valueAfter: mover.valueAfter == null ? null : Number(mover.valueAfter),
  };
}

/** A feature in which a segment differs from its baseline (every field required). */
function differentiatorSummary(differentiator) {
  return {
    feature: differentiator.feature,
    segmentValue: Number(differentiator.segmentValue),
    baselineValue: Number(differentiator.baselineValue),
    lift: Number(differentiator.lift),
    pValue: Number(differentiator.pValue),
  };
}

/** A segment of another method's latest run and the customers it shares with this one. */
function overlapSummary(overlap) {
  return {
    method: overlap.method,
    runId: Number(overlap.runId),
    segmentCode: overlap.segmentCode,
    segmentName: overlap.segmentName,
    sharedCustomers: Number(overlap.sharedCustomers),
    shareOfThisSegment: Number(overlap.shareOfThisSegment),
    jaccard: Number(overlap.jaccard),
  };
}

/** GetSegmentInsights' answer: an empty list may come back absent, a list of one unwrapped. */
function insightsSummary(insights) {
  const list = (container, child) => [].concat(items(container, child));
  return {
    differentiators: list(insights.differentiators, 'differentiator').map(differentiatorSummary),
    overlaps: list(insights.overlaps, 'overlap').map(overlapSummary),
  };
}

async function main(wsdlUrl, pageSize) {
  const client = await createClient(wsdlUrl);
  const called = new Set();
  const invoke = (operation, args) => {
    called.add(operation);
    return call(client, operation, args);
  };

  const { run } = await invoke('SegmentCustomers', { method: 'APriori', label: 'node-soap' });
  const [largest] = items(run.segments, 'segment')
    .slice()
    .sort((a, b) => b.size - a.size || (a.code < b.code ? -1 : 1))
    .map((segment) => segment.code);

  const pages = [];
  const members = [];
  let pageToken;
  let page;
  do {
    page = await invoke('ListSegmentMembers', { segmentCode: largest, runId: run.runId, pageSize, pageToken });
    const ids = items(page.members, 'member').map((member) => member.customerId);
    pages.push(ids.length);
    members.push(...ids);
    pageToken = page.nextPageToken;
  } while (pageToken);
  const customer = members[0];

  const fetched = (await invoke('GetSegmentationRun', { runId: run.runId })).run;
  const { assignments } = await invoke('GetCustomerSegment', { customerId: customer, runId: run.runId });
  const scored = await invoke('ScoreCustomerValue', { customerIds: { customerId: [customer, UNKNOWN_CUSTOMER] } });
  const owned = (
    await invoke('SetSegmentOwner', { runId: run.runId, segmentCode: largest, owner: 'Key accounts (Node)' })
  ).segment;
  const second = (
    await invoke('SegmentCustomers', { method: 'APriori', aPriori: { groupBy: { attribute: ['customerType'] } } })
  ).run;
  const { runs } = await invoke('ListSegmentationRuns', { method: 'APriori', limit: 2 });
  const comparison = await invoke('CompareSegmentationRuns', { fromRunId: run.runId, toRunId: second.runId });

  // The async pattern (contract 1.3): submit twice with one idempotency key (one run), poll
  // GetSegmentationRun with a back-off until the run has finished, read it; then a schedule
  // is created, listed and deleted.
  const idempotencyKey = `node-scenario-${randomBytes(8).toString('hex')}`;
  const byCustomerType = { method: 'APriori', aPriori: { groupBy: { attribute: ['customerType'] } } };
  const submitted = [];
  for (let i = 0; i < 2; i += 1) {
    const submission = { ...byCustomerType, label: 'node-soap, submitted', idempotencyKey };
    submitted.push((await invoke('SubmitSegmentation', submission)).run);
  }
  const polled = [];
  const finished = await waitForRun(client, submitted[0].runId, {
    timeoutMs: 40000,
    onPoll: (polledRun) => polled.push(polledRun.status),
  });
  const cancelFinished = await faultOf(invoke('CancelSegmentationRun', { runId: finished.runId }));
  const { schedule } = await invoke('CreateSegmentationSchedule', {
    name: 'nightly-node',
    cron: '0 2 * * *',
    request: byCustomerType,
  });
  const { schedules } = await invoke('ListSegmentationSchedules', {});
  const deleted = (await invoke('DeleteSegmentationSchedule', { scheduleId: schedule.scheduleId })).schedule;

  // Customer portfolios (contract 1.4): value tiers (rows) by needs segments (columns), from
  // the latest completed run of each method, so one of each runs first. The portfolio is
  // created, evaluated (GetPortfolio), its largest cell given an owner and a treatment and
  // evaluated again, its history read, listed, deleted, and asked for once more
  // (PortfolioNotFoundFault). Before that, the value run's top tier (its first segment) gets
  // an analyst's treatment over the recommended one: the recommended channel stays.
  // The same value tiers a year back run first (older, so the portfolio takes valueRun):
  // the segment movers (contract 1.5) are the customers between the two.
  const valueRunYearBack = (
    await invoke('SegmentCustomers', {
      method: 'ValueBased',
      label: 'node-soap, value a year back',
      valueBased: { valueMetric: 'Clv', asOfDate: '2025-06-30' },
    })
  ).run;
  const valueRun = (
    await invoke('SegmentCustomers', {
      method: 'ValueBased',
      label: 'node-soap, portfolio rows',
      valueBased: { valueMetric: 'Clv' },
    })
  ).run;
  const needsRun = (
    await invoke('SegmentCustomers', {
      method: 'NeedsBased',
      label: 'node-soap, portfolio columns',
      needsBased: { segmentCount: 3 },
    })
  ).run;
  const [topTier] = items(valueRun.segments, 'segment');
  const treatedSegment = (
    await invoke('SetSegmentTreatment', {
      runId: valueRun.runId,
      segmentCode: topTier.code,
      strategy: 'Develop',
      message: 'premium bundle node',
    })
  ).segment;
  const { portfolio } = await invoke('CreatePortfolio', {
    name: 'value-x-needs-node',
    rows: 'ValueBased',
    columns: 'NeedsBased',
    owner: 'CRM team (Node)',
    objective: 'Grow customer equity where value meets needs',
  });
  const { portfolioId } = portfolio;
  const { evaluation } = (await invoke('GetPortfolio', { portfolioId })).portfolio;
  const [cell] = items(evaluation.cells, 'cell')
    .slice()
    .sort((a, b) => Number(b.customers) - Number(a.customers)); // stable: the first largest
  const { cellOwner } = await invoke('SetPortfolioCellOwner', {
    portfolioId,
    rowSegmentCode: cell.rowSegmentCode,
    columnSegmentCode: cell.columnSegmentCode,
    owner: 'Retention desk (Node)',
  });
  const { cellTreatment } = await invoke('SetPortfolioCellTreatment', {
    portfolioId,
    rowSegmentCode: cell.rowSegmentCode,
    columnSegmentCode: cell.columnSegmentCode,
    strategy: 'WinBack',
    channel: 'Phone',
  });
  const reevaluation = (await invoke('GetPortfolio', { portfolioId })).portfolio.evaluation;
  const history = await invoke('GetPortfolioHistory', { portfolioId });
  const evaluations = items(history.evaluations, 'evaluation');
  const listedPortfolios = items((await invoke('ListPortfolios', {})).portfolios, 'portfolio');
  const deletedPortfolio = (await invoke('DeletePortfolio', { portfolioId })).portfolio;

  // Segment movers (contract 1.5): every customer whose value tier changed between the run a
  // year back and the portfolio's value run, page by page with nextPageToken (each page's
  // totalCount kept), then those who fell to a worse tier (direction Down), on one page.
  const moverRuns = { fromRunId: valueRunYearBack.runId, toRunId: valueRun.runId };
  const moverTotals = [];
  const moverPages = [];
  const movers = [];
  let moverToken;
  do {
    const moverPage = await invoke('ListSegmentMovers', { ...moverRuns, pageSize, pageToken: moverToken });
    const listed = items(moverPage.movers, 'mover').map(moverSummary);
    moverTotals.push(Number(moverPage.totalCount));
    moverPages.push(listed.length);
    movers.push(...listed);
    moverToken = moverPage.nextPageToken;
  } while (moverToken);
  const down = await invoke('ListSegmentMovers', { ...moverRuns, direction: 'Down', pageSize: 1000 });

  // Segment insights (contract 1.5): what sets the needs run's largest segment apart from all
  // the run's customers, and the segments of the other methods' latest runs it overlaps; then
  // against the next largest segment (baseline), and against itself (InvalidRequestFault).
  const [insightsSegment, insightsBaseline] = items(needsRun.segments, 'segment')
    .slice()
    .sort((a, b) => b.size - a.size || (a.code < b.code ? -1 : 1))
    .map((segment) => segment.code);
  const insightsRequest = { runId: needsRun.runId, segmentCode: insightsSegment };
  const insights = insightsSummary(await invoke('GetSegmentInsights', insightsRequest));
  const againstBaseline = insightsSummary(
    await invoke('GetSegmentInsights', { ...insightsRequest, baseline: insightsBaseline }),
  );
  const selfBaselineFault = await faultOf(
    invoke('GetSegmentInsights', { ...insightsRequest, baseline: insightsSegment }),
  );

  const faults = {
    CustomerNotFoundFault: await faultOf(call(client, 'GetCustomerSegment', { customerId: UNKNOWN_CUSTOMER })),
    RunNotFoundFault: await faultOf(call(client, 'GetSegmentationRun', { runId: UNKNOWN_RUN })),
    SegmentNotFoundFault: await faultOf(
      call(client, 'ListSegmentMembers', { segmentCode: UNKNOWN_SEGMENT, runId: run.runId }),
    ),
    InvalidRequestFault: await faultOf(
      call(client, 'SegmentCustomers', { method: 'APriori', valueBased: { tierCount: 3 } }),
    ),
    PortfolioNotFoundFault: await faultOf(call(client, 'GetPortfolio', { portfolioId })),
  };
  const credentials = fromEnvironment();
  if (credentials) {
    const wrong = await createClient(wsdlUrl, { ...credentials, password: 'not-the-password' });
    faults.AuthenticationFault = await faultOf(call(wrong, 'GetSegmentationRun', { runId: run.runId }));
  }
  if (process.env.SEGMENTATION_VIEWER_USERNAME) {
    // a role that may only read
    const viewer = await createClient(wsdlUrl, {
      username: process.env.SEGMENTATION_VIEWER_USERNAME,
      password: process.env.SEGMENTATION_VIEWER_PASSWORD || '',
    });
    faults.AccessDeniedFault = await faultOf(call(viewer, 'SegmentCustomers', { method: 'APriori' }));
  }
  faults.CancelFinishedRun = cancelFinished;

  const description = client.describe();
  const wsdlOperations = Object.values(description).flatMap((service) =>
    Object.values(service).flatMap((port) => Object.keys(port)),
  );
  const output = {
    client: `node-soap ${require('soap/package.json').version} on node ${process.versions.node}`,
    wsdlOperations: [...new Set(wsdlOperations)],
    called: [...called],
    run: runSummary(run),
    paging: { runId: Number(run.runId), segmentCode: largest, pageSize, totalCount: page.totalCount, pages, members },
    getSegmentationRun: runSummary(fetched),
    getCustomerSegment: items(assignments, 'assignment').map((a) => ({
      customerId: a.customerId,
      runId: Number(a.runId),
      segmentCode: a.segmentCode,
    })),
    scoreCustomerValue: {
      scored: items(scored.scores, 'score').map((score) => score.customerId),
      unknown: items(scored.unknownCustomerIds, 'customerId'),
    },
    setSegmentOwner: { code: owned.code, owner: owned.owner ?? null },
    secondRun: runSummary(second),
    listSegmentationRuns: items(runs, 'run').map((r) => Number(r.runId)),
    compareSegmentationRuns: {
      fromRunId: Number(comparison.fromRunId),
      toRunId: Number(comparison.toRunId),
      transitions: items(comparison.transitions, 'transition').length,
      stayedShare: comparison.stayedShare,
      enteredCount: comparison.enteredCount,
      leftCount: comparison.leftCount,
    },
    background: {
      idempotencyKey,
      submitted: submitted.map((r) => ({ runId: Number(r.runId), status: r.status })),
      polledStatuses: polled,
      run: runSummary(finished),
      progress: finished.progress == null ? null : Number(finished.progress),
      phase: finished.phase ?? null,
      schedule: {
        scheduleId: Number(schedule.scheduleId),
        name: schedule.name,
        cron: schedule.cron,
        enabled: schedule.enabled,
        requestMethod: schedule.request.method,
      },
      listedSchedules: items(schedules, 'schedule').map((s) => s.name),
      deletedScheduleId: Number(deleted.scheduleId),
    },
    segmentTreatment: {
      runId: Number(valueRun.runId),
      segmentCode: topTier.code,
      recommended: treatmentSummary(topTier.treatment),
      answered: { code: treatedSegment.code, treatment: treatmentSummary(treatedSegment.treatment) },
    },
    portfolio: {
      rowsRun: runSummary(valueRun),
      columnsRun: runSummary(needsRun),
      created: portfolioSummary(portfolio),
      evaluation: evaluationSummary(evaluation),
      cell: cellSummary(cell),
      cellOwner: {
        portfolioId: Number(cellOwner.portfolioId),
        rowSegmentName: cellOwner.rowSegmentName,
        columnSegmentName: cellOwner.columnSegmentName,
        owner: cellOwner.owner,
      },
      cellTreatment: {
        portfolioId: Number(cellTreatment.portfolioId),
        rowSegmentName: cellTreatment.rowSegmentName,
        columnSegmentName: cellTreatment.columnSegmentName,
        treatment: treatmentSummary(cellTreatment.treatment),
      },
      reevaluation: evaluationSummary(reevaluation),
      cellReevaluated: cellSummary(cellNamed(reevaluation, cell.rowSegmentName, cell.columnSegmentName)),
      history: {
        portfolioId: Number(history.portfolio.portfolioId),
        evaluationIds: evaluations.map((e) => Number(e.evaluationId)),
        lastCell: cellSummary(
          cellNamed(evaluations[evaluations.length - 1], cell.rowSegmentName, cell.columnSegmentName),
        ),
      },
      listed: listedPortfolios.map((p) => ({ portfolioId: Number(p.portfolioId), name: p.name })),
      deleted: portfolioSummary(deletedPortfolio),
    },
    movers: {
      fromRunId: Number(valueRunYearBack.runId),
      toRunId: Number(valueRun.runId),
      totals: moverTotals,
      pages: moverPages,
      movers,
      downTotalCount: Number(down.totalCount),
      downNextPageToken: down.nextPageToken ?? null,
      down: items(down.movers, 'mover').map(moverSummary),
    },
    insights: {
      runId: Number(needsRun.runId),
      segmentCode: insightsSegment,
      ...insights,
      againstBaseline: { baseline: insightsBaseline, ...againstBaseline },
      selfBaselineFault,
    },
    faults,
  };
  console.log(JSON.stringify(output, null, 2));
}

if (!process.argv[2]) {
  console.error('usage: node scenario.js WSDL_URL [PAGE_SIZE]');
  process.exit(2);
}
main(process.argv[2], Number(process.argv[3] || 7)).catch((error) => {
  console.error(error.stack || error);
  process.exit(1);
});
