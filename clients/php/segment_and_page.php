<?php
/**
 * Example: segment every customer a priori, then page through the largest segment.
 *
 *   SEGMENTATION_USERNAME=alice SEGMENTATION_PASSWORD=... \
 *     php clients/php/segment_and_page.php http://127.0.0.1:8000/soap?wsdl
 */

declare(strict_types=1);

require __DIR__ . '/segmentation_client.php';

$client = SegmentationClient::fromEnvironment($argv[1] ?? 'http://127.0.0.1:8000/soap?wsdl');

$run = $client->call('SegmentCustomers', ['method' => 'APriori', 'label' => 'PHP example'])->run;
printf("run %d: %s, %d customers in %d segments\n", $run->runId, $run->status,
    $run->assignedCount, count(items($run->segments, 'segment')));

$segments = items($run->segments, 'segment');
usort($segments, fn ($a, $b) => $b->size <=> $a->size);
$largest = $segments[0];

$token = null;
$listed = 0;
do {
    $page = $client->call('ListSegmentMembers', [
        'segmentCode' => $largest->code,
        'runId' => $run->runId,
        'pageSize' => 25,
        'pageToken' => $token,  // null on the first page: PHP leaves it out
    ]);
    $listed += count(items($page->members, 'member'));
    $token = $page->nextPageToken ?? null;
} while ($token !== null);

printf("segment %s (%s): listed %d of %d members\n", $largest->code, $largest->name, $listed,
    $page->totalCount);
