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

$faults = [
    'CustomerNotFoundFault' => fault_of(fn () => $client->call('GetCustomerSegment', ['customerId' => UNKNOWN_CUSTOMER])),
    'RunNotFoundFault' => fault_of(fn () => $client->call('GetSegmentationRun', ['runId' => UNKNOWN_RUN])),
    'SegmentNotFoundFault' => fault_of(fn () => $client->call('ListSegmentMembers', [
        'segmentCode' => UNKNOWN_SEGMENT, 'runId' => $run->runId,
    ])),
    'InvalidRequestFault' => fault_of(fn () => $client->call('SegmentCustomers', [
        'method' => 'APriori', 'valueBased' => ['tierCount' => 3],
    ])),
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
    'faults' => $faults,
], JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR), "\n";
