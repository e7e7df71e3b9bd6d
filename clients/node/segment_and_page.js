'use strict';
/**
 * Example: segment every customer a priori, then page through the largest segment.
 *
 *   SEGMENTATION_USERNAME=alice SEGMENTATION_PASSWORD=... \
 *     node clients/node/segment_and_page.js http://127.0.0.1:8000/soap?wsdl
 */

const { createClient, call, items } = require('./segmentation_client');

async function main(wsdlUrl) {
  const client = await createClient(wsdlUrl);

  const { run } = await call(client, 'SegmentCustomers', { method: 'APriori', label: 'Node example' });
  const segments = items(run.segments, 'segment');
  console.log(`run ${run.runId}: ${run.status}, ${run.assignedCount} customers in ${segments.length} segments`);

  const largest = segments.reduce((best, segment) => (segment.size > best.size ? segment : best));
  let pageToken; // undefined on the first page: node-soap leaves it out (null would be xsi:nil)
  let listed = 0;
  let page;
  do {
    page = await call(client, 'ListSegmentMembers', {
      segmentCode: largest.code,
      runId: run.runId,
      pageSize: 25,
      pageToken,
    });
    listed += items(page.members, 'member').length;
    pageToken = page.nextPageToken;
  } while (pageToken);

  console.log(`segment ${largest.code} (${largest.name}): listed ${listed} of ${page.totalCount} members`);
}

main(process.argv[2] || 'http://127.0.0.1:8000/soap?wsdl').catch((error) => {
  console.error(error.message);
  process.exit(1);
});
