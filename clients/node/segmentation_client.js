'use strict';
/**
 * node-soap client for the customer segmentation service (npm package `soap`, pinned in
 * package.json). Settings this contract needs, and why:
 *
 *  - Leave an optional element out (undefined, or no key): node-soap writes a null as
 *    xsi:nil="true", which the schema does not allow for any element, so the server
 *    answers InvalidRequestFault (field = the element, "The element is not 'nillable'").
 *  - WSSecurity with passwordType 'PasswordDigest' (node-soap's default is PasswordText);
 *    it adds a fresh Nonce and Created to every request.
 *  - Decoded values: xs:long (runId) arrives as a string, and so does a value of a
 *    simple type derived by restriction (run.progress, a Share: '0.4'); xs:date and
 *    xs:dateTime as Date (microseconds dropped); an empty list container as null. A list always
 *    decodes as an array (node-soap follows maxOccurs), even with one element.
 *  - Faults: the rejected promise's error has `root.Envelope.Body.Fault` with
 *    faultcode, faultstring and `detail.<FaultElement>` (typed values as strings).
 *  - Background runs (contract 1.3): SubmitSegmentation answers at once with the Queued
 *    run; poll GetSegmentationRun with a back-off (waitForRun below) until it is
 *    Completed, Failed or Cancelled, then read it as SegmentCustomers' answer.
 */

const soap = require('soap');

/** A node-soap client built from the served WSDL; credentials add a UsernameToken. */
async function createClient(wsdlUrl, credentials = fromEnvironment()) {
  const client = await soap.createClientAsync(wsdlUrl, { disableCache: true });
  if (credentials) {
    client.setSecurity(
      new soap.WSSecurity(credentials.username, credentials.password, {
        passwordType: 'PasswordDigest',
      }),
    );
  }
  return client;
}

/** Credentials from SEGMENTATION_USERNAME / SEGMENTATION_PASSWORD, or null. */
function fromEnvironment() {
  const username = process.env.SEGMENTATION_USERNAME;
  return username ? { username, password: process.env.SEGMENTATION_PASSWORD || '' } : null;
}

/** Calls `operation` and resolves to its result (the response wrapper's children). */
async function call(client, operation, args = {}) {
  const [result] = await client[`${operation}Async`](args);
  return result;
}

/** The items of a list container (run.segments, 'segment'); [] when empty or absent. */
function items(container, child) {
  return (container && container[child]) || [];
}

/** The statuses a run ends in: polling stops there. */
const FINISHED_STATUSES = ['Completed', 'Failed', 'Cancelled'];

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls GetSegmentationRun until the run has finished (Completed, Failed or Cancelled) and
 * resolves to it: the async pattern of SubmitSegmentation. Waits 200 ms before the first
 * poll, then 1.5 times longer each time, at most 5 s; rejects after `timeoutMs`.
 * `onPoll`, if given, sees every run polled (its status, progress and phase).
 */
async function waitForRun(client, runId, { timeoutMs = 600000, onPoll } = {}) {
  const deadline = Date.now() + timeoutMs;
  let delay = 200;
  for (;;) {
    await sleep(delay);
    const { run } = await call(client, 'GetSegmentationRun', { runId });
    if (onPoll) onPoll(run);
    if (FINISHED_STATUSES.includes(run.status)) return run;
    if (Date.now() > deadline) throw new Error(`run ${runId} is still ${run.status} after ${timeoutMs} ms`);
    delay = Math.min(delay * 1.5, 5000);
  }
}

module.exports = { createClient, fromEnvironment, call, items, waitForRun };
