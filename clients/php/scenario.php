<?php
/**
 * Contract-test driver: calls every operation of the served WSDL through PHP's SoapClient
 * and prints what came back as one JSON document (read by tests/contract/test_other_clients.py).
 *
 *   php clients/php/scenario.php WSDL_URL [PAGE_SIZE]
 *
 * Credentials, when the server wants them: SEGMENTATION_USERNAME, SEGMENTATION_PASSWORD
 * (a role that may run segmentations); SEGMENTATION_VIEWER_USERNAME/_PASSWORD, if set, a
 * read-only user for AccessDeniedFault. The output has the shape of clients/node/scenario.js's.
 */

declare(strict_types=1);

require __DIR__ . '/segmentation_client.php';

const UNKNOWN_CUSTOMER = 'NO-SUCH-CUSTOMER';
const UNKNOWN_RUN = 999999999;
const UNKNOWN_SEGMENT = 'NO-SUCH-SEGMENT';

/** The declared fault an operation raised: code, message, and its one typed detail element. */
function fault_of(callable $call): array
{
    try {
        $call();
    } catch (SoapFault $fault) {
        $detail = (array) ($fault->detail ?? []);
        $element = array_key_first($detail);
        return [
            'faultcode' => $fault->faultcode,
            'faultstring' => $fault->faultstring,
            'element' => $element,
            'detail' => $element === null ? null : (array) $detail[$element],
        ];
    }
    throw new RuntimeException('expected a SOAP fault');
}

/** A portfolio as CreatePortfolio, ListPortfolios and DeletePortfolio answer it (no grid). */
function portfolio_summary(object $portfolio): array
{
    return [
        'portfolioId' => (int) $portfolio->portfolioId,
        'name' => $portfolio->name,
        'rows' => $portfolio->rows,
        'columns' => $portfolio->columns,
        'owner' => $portfolio->owner ?? null,
        'objective' => $portfolio->objective ?? null,
        'createdBy' => $portfolio->createdBy ?? null,
        'evaluated' => isset($portfolio->evaluation),
    ];
}

/** One evaluation of a portfolio's grid: its runs, and the customers in each cell, row by row. */
function evaluation_summary(object $evaluation): array
{
    return [
        'evaluationId' => (int) $evaluation->evaluationId,
        'rowsRunId' => (int) $evaluation->rowsRunId,
        'columnsRunId' => (int) $evaluation->columnsRunId,
        'customerEquity' => (float) $evaluation->customerEquity,
        'cellCustomers' => array_map(fn ($c) => (int) $c->customers, items($evaluation->cells, 'cell')),
        'rowTotals' => count(items($evaluation->rowTotals, 'cell')),
        'columnTotals' => count(items($evaluation->columnTotals, 'cell')),
        'outsideCustomers' => (int) $evaluation->outside->customers,
    ];
}

/** The cell of an evaluation's grid with these segment names (a cell's identity across runs). */
function cell_named(object $evaluation, string $row, string $column): object
{
    foreach (items($evaluation->cells, 'cell') as $cell) {
        if ($cell->rowSegmentName === $row && $cell->columnSegmentName === $column) {
            return $cell;
        }
    }
    throw new RuntimeException("no cell $row x $column");
}

/** What to do with a segment or cell: the recommendation, or an analyst's (overridden). */
function treatment_summary(object $treatment): array
{
    return [
        'strategy' => $treatment->strategy,
        'channel' => $treatment->channel ?? null,
        'message' => $treatment->message,
        'overridden' => $treatment->overridden,
    ];
}

function cell_summary(object $cell): array
{
    return [
        'rowSegmentCode' => $cell->rowSegmentCode,
        'rowSegmentName' => $cell->rowSegmentName,
        'columnSegmentCode' => $cell->columnSegmentCode,
        'columnSegmentName' => $cell->columnSegmentName,
        'customers' => (int) $cell->customers,
        'customerEquity' => (float) $cell->customerEquity,
        'equityChange' => isset($cell->equityChange) ? (float) $cell->equityChange : null,
        'owner' => $cell->owner ?? null,
        'treatment' => treatment_summary($cell->treatment),
    ];
}

/** A customer whose segment differs between two runs; an absent segment or value is null. */
function mover_summary(object $mover): array
{
    return [
        'customerId' => $mover->customerId,
        'fromSegmentCode' => $mover->fromSegmentCode ?? null,  // absent: the customer entered
        'toSegmentCode' => $mover->toSegmentCode ?? null,  // absent: the customer left
        'valueBefore' => isset($mover->valueBefore) ? (float) $mover->valueBefore : null,
        'valueAfter' => isset($mover->valueAfter) ? (float) $mover->valueAfter : null,
    ];
}

/** A feature in which a segment differs from its baseline (every field required). */
function differentiator_summary(object $differentiator): array
{
    return [
        'feature' => $differentiator->feature,
        'segmentValue' => (float) $differentiator->segmentValue,
        'baselineValue' => (float) $differentiator->baselineValue,
        'lift' => (float) $differentiator->lift,
        'pValue' => (float) $differentiator->pValue,
    ];
}

/** A segment of another method's latest run and the customers it shares with this one. */
function overlap_summary(object $overlap): array
{
    return [
        'method' => $overlap->method,
        'runId' => (int) $overlap->runId,
        'segmentCode' => $overlap->segmentCode,
        'segmentName' => $overlap->segmentName,
        'sharedCustomers' => (int) $overlap->sharedCustomers,
        'shareOfThisSegment' => (float) $overlap->shareOfThisSegment,
        'jaccard' => (float) $overlap->jaccard,
    ];
}

/** GetSegmentInsights' answer: an empty list may come back absent; it is [] here. */
function insights_summary(object $insights): array
{
    return [
        'differentiators' => array_map(
            'differentiator_summary', items($insights->differentiators ?? null, 'differentiator'),
        ),
        'overlaps' => array_map('overlap_summary', items($insights->overlaps ?? null, 'overlap')),
    ];
}

function run_summary(object $run): array
{
    $segments = [];
    foreach (items($run->segments, 'segment') as $segment) {
        $segments[] = ['code' => $segment->code, 'size' => $segment->size, 'owner' => $segment->owner ?? null];
    }
    return [
        'runId' => (int) $run->runId,
        'method' => $run->method,
        'status' => $run->status,
        'label' => $run->label ?? null,
        'customerCount' => $run->customerCount,
        'assignedCount' => $run->assignedCount,
        'startedBy' => $run->startedBy ?? null,
        'segments' => $segments,
    ];
}

$wsdlUrl = $argv[1] ?? throw new InvalidArgumentException('usage: scenario.php WSDL_URL [PAGE_SIZE]');
$pageSize = (int) ($argv[2] ?? 7);
$client = SegmentationClient::fromEnvironment($wsdlUrl);
$called = [];
$call = function (string $operation, array $arguments) use ($client, &$called): object {
    $called[] = $operation;
    return $client->call($operation, $arguments);
};

$run = $call('SegmentCustomers', ['method' => 'APriori', 'label' => 'PHP SoapClient'])->run;
$segments = items($run->segments, 'segment');
usort($segments, fn ($a, $b) => [$b->size, $a->code] <=> [$a->size, $b->code]);
$largest = $segments[0]->code;

$pages = [];
$members = [];
$token = null;
do {
    $page = $call('ListSegmentMembers', [
        'segmentCode' => $largest, 'runId' => $run->runId, 'pageSize' => $pageSize, 'pageToken' => $token,
    ]);
    $ids = array_map(fn ($member) => $member->customerId, items($page->members, 'member'));
    $pages[] = count($ids);
    array_push($members, ...$ids);
    $token = $page->nextPageToken ?? null;
} while ($token !== null);
$customer = $members[0];

$fetched = $call('GetSegmentationRun', ['runId' => $run->runId])->run;
$assignments = $call('GetCustomerSegment', ['customerId' => $customer, 'runId' => $run->runId])->assignments;
$scored = $call('ScoreCustomerValue', ['customerIds' => ['customerId' => [$customer, UNKNOWN_CUSTOMER]]]);
$owned = $call('SetSegmentOwner', ['runId' => $run->runId, 'segmentCode' => $largest, 'owner' => 'Key accounts (PHP)'])->segment;
$second = $call('SegmentCustomers', [
    'method' => 'APriori',
    'aPriori' => ['groupBy' => ['attribute' => ['customerType']]],  // a one-element list
])->run;
$listedRuns = $call('ListSegmentationRuns', ['method' => 'APriori', 'limit' => 2])->runs;
$comparison = $call('CompareSegmentationRuns', ['fromRunId' => $run->runId, 'toRunId' => $second->runId]);

// The async pattern (contract 1.3): submit twice with one idempotency key (one run), poll
// GetSegmentationRun with a back-off until the run has finished, read it; then a schedule
// is created, listed and deleted.
$idempotencyKey = 'php-scenario-' . bin2hex(random_bytes(8));
$byCustomerType = ['method' => 'APriori', 'aPriori' => ['groupBy' => ['attribute' => ['customerType']]]];
$submitted = [];
foreach (['first', 'again'] as $_) {
    $submitted[] = $call('SubmitSegmentation', $byCustomerType + [
        'label' => 'PHP SoapClient, submitted', 'idempotencyKey' => $idempotencyKey,
    ])->run;
}
$polled = [];
$finished = wait_for_run($client, $submitted[0]->runId, 40.0, function (object $run) use (&$polled): void {
    $polled[] = $run->status;
});
$cancelFinished = fault_of(fn () => $call('CancelSegmentationRun', ['runId' => $finished->runId]));
$schedule = $call('CreateSegmentationSchedule', [
    'name' => 'nightly-php', 'cron' => '0 2 * * *', 'request' => $byCustomerType,
])->schedule;
$schedules = items($call('ListSegmentationSchedules', [])->schedules, 'schedule');
$deleted = $call('DeleteSegmentationSchedule', ['scheduleId' => $schedule->scheduleId])->schedule;

// Customer portfolios (contract 1.4): value tiers (rows) by needs segments (columns), from
// the latest completed run of each method, so one of each runs first. The portfolio is
// created, evaluated (GetPortfolio), its largest cell given an owner and a treatment and
// evaluated again, its history read, listed, deleted, and asked for once more
// (PortfolioNotFoundFault). Before that, the value run's top tier (its first segment) gets
// an analyst's treatment over the recommended one: the recommended channel stays.
// The same value tiers a year back run first (older, so the portfolio takes $valueRun):
// the segment movers (contract 1.5) are the customers between the two.
$valueRunYearBack = $call('SegmentCustomers', [
    'method' => 'ValueBased', 'label' => 'PHP SoapClient, value a year back',
    'valueBased' => ['valueMetric' => 'Clv', 'asOfDate' => '2025-06-30'],
])->run;
$valueRun = $call('SegmentCustomers', [
    'method' => 'ValueBased', 'label' => 'PHP SoapClient, portfolio rows', 'valueBased' => ['valueMetric' => 'Clv'],
])->run;
$needsRun = $call('SegmentCustomers', [
    'method' => 'NeedsBased', 'label' => 'PHP SoapClient, portfolio columns', 'needsBased' => ['segmentCount' => 3],
])->run;
$topTier = items($valueRun->segments, 'segment')[0];
$treatedSegment = $call('SetSegmentTreatment', [
    'runId' => $valueRun->runId, 'segmentCode' => $topTier->code, 'strategy' => 'Develop',
    'message' => 'premium bundle php',
])->segment;
$portfolio = $call('CreatePortfolio', [
    'name' => 'value-x-needs-php', 'rows' => 'ValueBased', 'columns' => 'NeedsBased',
    'owner' => 'CRM team (PHP)', 'objective' => 'Grow customer equity where value meets needs',
])->portfolio;
$portfolioId = $portfolio->portfolioId;
$evaluation = $call('GetPortfolio', ['portfolioId' => $portfolioId])->portfolio->evaluation;
$cells = items($evaluation->cells, 'cell');
usort($cells, fn ($a, $b) => $b->customers <=> $a->customers);  // stable: the first largest
$cell = $cells[0];
$cellOwner = $call('SetPortfolioCellOwner', [
    'portfolioId' => $portfolioId, 'rowSegmentCode' => $cell->rowSegmentCode,
    'columnSegmentCode' => $cell->columnSegmentCode, 'owner' => 'Retention desk (PHP)',
])->cellOwner;
$cellTreatment = $call('SetPortfolioCellTreatment', [
    'portfolioId' => $portfolioId, 'rowSegmentCode' => $cell->rowSegmentCode,
    'columnSegmentCode' => $cell->columnSegmentCode, 'strategy' => 'WinBack', 'channel' => 'Phone',
])->cellTreatment;
$reevaluation = $call('GetPortfolio', ['portfolioId' => $portfolioId])->portfolio->evaluation;
$history = $call('GetPortfolioHistory', ['portfolioId' => $portfolioId]);
$evaluations = items($history->evaluations, 'evaluation');
$listedPortfolios = items($call('ListPortfolios', [])->portfolios, 'portfolio');
$deletedPortfolio = $call('DeletePortfolio', ['portfolioId' => $portfolioId])->portfolio;

// Segment movers (contract 1.5): every customer whose value tier changed between the run a
// year back and the portfolio's value run, page by page with nextPageToken (each page's
// totalCount kept), then those who fell to a worse tier (direction Down), on one page.
$moverRuns = ['fromRunId' => $valueRunYearBack->runId, 'toRunId' => $valueRun->runId];
$moverTotals = [];
$moverPages = [];
$movers = [];
$token = null;
do {
    $moverPage = $call('ListSegmentMovers', $moverRuns + ['pageSize' => $pageSize, 'pageToken' => $token]);
    $listed = array_map('mover_summary', items($moverPage->movers, 'mover'));
    $moverTotals[] = $moverPage->totalCount;
    $moverPages[] = count($listed);
    array_push($movers, ...$listed);
    $token = $moverPage->nextPageToken ?? null;
} while ($token !== null);
$down = $call('ListSegmentMovers', $moverRuns + ['direction' => 'Down', 'pageSize' => 1000]);

// Segment insights (contract 1.5): what sets the needs run's largest segment apart from all
// the run's customers, and the segments of the other methods' latest runs it overlaps; then
// against the next largest segment (baseline), and against itself (InvalidRequestFault).
$needsSegments = items($needsRun->segments, 'segment');
usort($needsSegments, fn ($a, $b) => [$b->size, $a->code] <=> [$a->size, $b->code]);
[$insightsSegment, $insightsBaseline] = [$needsSegments[0]->code, $needsSegments[1]->code];
$insightsRequest = ['runId' => $needsRun->runId, 'segmentCode' => $insightsSegment];
$insights = insights_summary($call('GetSegmentInsights', $insightsRequest));
$againstBaseline = insights_summary(
    $call('GetSegmentInsights', $insightsRequest + ['baseline' => $insightsBaseline]),
);
$selfBaselineFault = fault_of(
    fn () => $call('GetSegmentInsights', $insightsRequest + ['baseline' => $insightsSegment]),
);

$faults = [
    'CustomerNotFoundFault' => fault_of(fn () => $client->call('GetCustomerSegment', ['customerId' => UNKNOWN_CUSTOMER])),
    'RunNotFoundFault' => fault_of(fn () => $client->call('GetSegmentationRun', ['runId' => UNKNOWN_RUN])),
    'SegmentNotFoundFault' => fault_of(fn () => $client->call('ListSegmentMembers', [
        'segmentCode' => UNKNOWN_SEGMENT, 'runId' => $run->runId,
    ])),
    'InvalidRequestFault' => fault_of(fn () => $client->call('SegmentCustomers', [
        'method' => 'APriori', 'valueBased' => ['tierCount' => 3],
    ])),
    'PortfolioNotFoundFault' => fault_of(fn () => $client->call('GetPortfolio', ['portfolioId' => $portfolioId])),
];
if (getenv('SEGMENTATION_USERNAME')) {
    $wrong = new SegmentationClient($wsdlUrl, (string) getenv('SEGMENTATION_USERNAME'), 'not-the-password');
    $faults['AuthenticationFault'] = fault_of(fn () => $wrong->call('GetSegmentationRun', ['runId' => $run->runId]));
}
if (getenv('SEGMENTATION_VIEWER_USERNAME')) {  // a role that may only read
    $viewer = new SegmentationClient(
        $wsdlUrl, (string) getenv('SEGMENTATION_VIEWER_USERNAME'), (string) getenv('SEGMENTATION_VIEWER_PASSWORD'),
    );
    $faults['AccessDeniedFault'] = fault_of(fn () => $viewer->call('SegmentCustomers', ['method' => 'APriori']));
}
$faults['CancelFinishedRun'] = $cancelFinished;

echo json_encode([
    'client' => 'php ' . PHP_VERSION,
    'wsdlOperations' => $client->operations(),
    'called' => array_values(array_unique($called)),
    'run' => run_summary($run),
    'paging' => [
        'runId' => (int) $run->runId,
        'segmentCode' => $largest,
        'pageSize' => $pageSize,
        'totalCount' => $page->totalCount,
        'pages' => $pages,
        'members' => $members,
    ],
    'getSegmentationRun' => run_summary($fetched),
    'getCustomerSegment' => array_map(fn ($a) => [
        'customerId' => $a->customerId, 'runId' => (int) $a->runId, 'segmentCode' => $a->segmentCode,
    ], items($assignments, 'assignment')),
    'scoreCustomerValue' => [
        'scored' => array_map(fn ($s) => $s->customerId, items($scored->scores, 'score')),
        'unknown' => items($scored->unknownCustomerIds, 'customerId'),
    ],
    'setSegmentOwner' => ['code' => $owned->code, 'owner' => $owned->owner ?? null],
    'secondRun' => run_summary($second),
    'listSegmentationRuns' => array_map(fn ($r) => (int) $r->runId, items($listedRuns, 'run')),
    'compareSegmentationRuns' => [
        'fromRunId' => (int) $comparison->fromRunId,
        'toRunId' => (int) $comparison->toRunId,
        'transitions' => count(items($comparison->transitions, 'transition')),
        'stayedShare' => $comparison->stayedShare,
        'enteredCount' => $comparison->enteredCount,
        'leftCount' => $comparison->leftCount,
    ],
    'background' => [
        'idempotencyKey' => $idempotencyKey,
        'submitted' => array_map(fn ($r) => ['runId' => (int) $r->runId, 'status' => $r->status], $submitted),
        'polledStatuses' => $polled,
        'run' => run_summary($finished),
        'progress' => $finished->progress ?? null,
        'phase' => $finished->phase ?? null,
        'schedule' => [
            'scheduleId' => (int) $schedule->scheduleId,
            'name' => $schedule->name,
            'cron' => $schedule->cron,
            'enabled' => $schedule->enabled,
            'requestMethod' => $schedule->request->method,
        ],
        'listedSchedules' => array_map(fn ($s) => $s->name, $schedules),
        'deletedScheduleId' => (int) $deleted->scheduleId,
    ],
    'segmentTreatment' => [
        'runId' => (int) $valueRun->runId,
        'segmentCode' => $topTier->code,
        'recommended' => treatment_summary($topTier->treatment),
        'answered' => ['code' => $treatedSegment->code, 'treatment' => treatment_summary($treatedSegment->treatment)],
    ],
    'portfolio' => [
        'rowsRun' => run_summary($valueRun),
        'columnsRun' => run_summary($needsRun),
        'created' => portfolio_summary($portfolio),
        'evaluation' => evaluation_summary($evaluation),
        'cell' => cell_summary($cell),
        'cellOwner' => [
            'portfolioId' => (int) $cellOwner->portfolioId,
            'rowSegmentName' => $cellOwner->rowSegmentName,
            'columnSegmentName' => $cellOwner->columnSegmentName,
            'owner' => $cellOwner->owner,
        ],
        'cellTreatment' => [
            'portfolioId' => (int) $cellTreatment->portfolioId,
            'rowSegmentName' => $cellTreatment->rowSegmentName,
            'columnSegmentName' => $cellTreatment->columnSegmentName,
            'treatment' => treatment_summary($cellTreatment->treatment),
        ],
        'reevaluation' => evaluation_summary($reevaluation),
        'cellReevaluated' => cell_summary(cell_named($reevaluation, $cell->rowSegmentName, $cell->columnSegmentName)),
        'history' => [
            'portfolioId' => (int) $history->portfolio->portfolioId,
            'evaluationIds' => array_map(fn ($e) => (int) $e->evaluationId, $evaluations),
            'lastCell' => cell_summary(cell_named(end($evaluations), $cell->rowSegmentName, $cell->columnSegmentName)),
        ],
        'listed' => array_map(fn ($p) => ['portfolioId' => (int) $p->portfolioId, 'name' => $p->name], $listedPortfolios),
        'deleted' => portfolio_summary($deletedPortfolio),
    ],
    'movers' => [
        'fromRunId' => (int) $valueRunYearBack->runId,
        'toRunId' => (int) $valueRun->runId,
        'totals' => $moverTotals,
        'pages' => $moverPages,
        'movers' => $movers,
        'downTotalCount' => $down->totalCount,
        'downNextPageToken' => $down->nextPageToken ?? null,
        'down' => array_map('mover_summary', items($down->movers, 'mover')),
    ],
    'insights' => [
        'runId' => (int) $needsRun->runId,
        'segmentCode' => $insightsSegment,
        'differentiators' => $insights['differentiators'],
        'overlaps' => $insights['overlaps'],
        'againstBaseline' => ['baseline' => $insightsBaseline] + $againstBaseline,
        'selfBaselineFault' => $selfBaselineFault,
    ],
    'faults' => $faults,
], JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR), "\n";
