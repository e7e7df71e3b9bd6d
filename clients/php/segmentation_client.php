<?php
/**
 * PHP SoapClient for the customer segmentation service: the client and its WS-Security header.
 *
 * Needs PHP 8.1+ with the soap extension (Debian: php-cli php-soap). Settings this
 * contract needs, and why:
 *
 *  - SOAP_SINGLE_ELEMENT_ARRAYS: a list with one element (one segment, one score)
 *    otherwise decodes as a bare object instead of an array of one.
 *  - WSDL_CACHE_NONE: PHP caches WSDLs on disk by URL; a changed contract at the same
 *    URL would be served stale.
 *  - Leave optional elements out or pass null: PHP omits a null optional element
 *    (never sends xsi:nil, which the schema does not allow).
 *  - Fault details decode without schema types: RunNotFoundFault's runId is the
 *    string "42", so cast it.
 *  - Empty lists: the container is an empty object; read `$list->item ?? []`.
 *  - Background runs (contract 1.3): SubmitSegmentation answers at once with the Queued
 *    run; poll GetSegmentationRun with a back-off (wait_for_run below) until it is
 *    Completed, Failed or Cancelled, then read it as SegmentCustomers' answer.
 */

declare(strict_types=1);

const WSSE_NS = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
const WSU_NS = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd';
const WSS_TOKEN_PROFILE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0';
const WSS_MESSAGE_SECURITY = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0';

/**
 * Calls operations with arrays of arguments and, given credentials, a fresh UsernameToken
 * (PasswordDigest, Nonce, Created) in every request, as the WSS UsernameToken Profile 1.1 says.
 */
final class SegmentationClient
{
    private SoapClient $soap;

    public function __construct(
        string $wsdlUrl,
        private ?string $username = null,
        private ?string $password = null,
    ) {
        ini_set('default_socket_timeout', '120');
        $this->soap = new SoapClient($wsdlUrl, [
            'soap_version' => SOAP_1_1,
            'features' => SOAP_SINGLE_ELEMENT_ARRAYS,
            'cache_wsdl' => WSDL_CACHE_NONE,
            'connection_timeout' => 10,
            'exceptions' => true,
        ]);
    }

    /** Credentials from SEGMENTATION_USERNAME / SEGMENTATION_PASSWORD, when both are set. */
    public static function fromEnvironment(string $wsdlUrl): self
    {
        $username = getenv('SEGMENTATION_USERNAME') ?: null;
        $password = getenv('SEGMENTATION_PASSWORD');
        return new self($wsdlUrl, $username, $username === null ? null : (string) $password);
    }

    /** The operation names the WSDL declares, as SoapClient sees them. */
    public function operations(): array
    {
        $names = [];
        foreach ($this->soap->__getFunctions() as $signature) {
            if (preg_match('/^\S+ (\w+)\(/', $signature, $match)) {
                $names[] = $match[1];
            }
        }
        return array_values(array_unique($names));
    }

    public function call(string $operation, array $arguments = []): object
    {
        $headers = $this->username === null ? null : [self::security($this->username, $this->password ?? '')];
        return $this->soap->__soapCall($operation, [$arguments], null, $headers);
    }

    /** A wsse:Security header with a UsernameToken carrying a PasswordDigest. */
    public static function security(string $username, string $password): SoapHeader
    {
        $nonce = random_bytes(16);
        $created = gmdate('Y-m-d\TH:i:s\Z');
        $digest = base64_encode(sha1($nonce . $created . $password, true));
        $xml = sprintf(
            '<wsse:Security xmlns:wsse="%s" xmlns:wsu="%s"><wsse:UsernameToken>'
            . '<wsse:Username>%s</wsse:Username>'
            . '<wsse:Password Type="%s#PasswordDigest">%s</wsse:Password>'
            . '<wsse:Nonce EncodingType="%s#Base64Binary">%s</wsse:Nonce>'
            . '<wsu:Created>%s</wsu:Created>'
            . '</wsse:UsernameToken></wsse:Security>',
            WSSE_NS,
            WSU_NS,
            htmlspecialchars($username, ENT_XML1 | ENT_QUOTES, 'UTF-8'),
            WSS_TOKEN_PROFILE,
            $digest,
            WSS_MESSAGE_SECURITY,
            base64_encode($nonce),
            $created,
        );
        return new SoapHeader(WSSE_NS, 'Security', new SoapVar($xml, XSD_ANYXML));
    }
}

/** The items of a list container (`$run->segments`, 'segment'); [] when it is empty or absent. */
function items(?object $container, string $child): array
{
    return $container === null ? [] : ($container->{$child} ?? []);
}

/** The statuses a run ends in: polling stops there. */
const FINISHED_STATUSES = ['Completed', 'Failed', 'Cancelled'];

/**
 * Polls GetSegmentationRun until the run has finished (Completed, Failed or Cancelled) and
 * answers with it: the async pattern of SubmitSegmentation. Waits 0.2 s before the first
 * poll, then 1.5 times longer each time, at most 5 s; throws after $timeout seconds.
 * $onPoll, if given, sees every run polled (its status, progress and phase).
 */
function wait_for_run(SegmentationClient $client, int|string $runId, float $timeout = 600.0, ?callable $onPoll = null): object
{
    $deadline = microtime(true) + $timeout;
    $delay = 0.2;
    while (true) {
        usleep((int) ($delay * 1e6));
        $run = $client->call('GetSegmentationRun', ['runId' => $runId])->run;
        if ($onPoll !== null) {
            $onPoll($run);
        }
        if (in_array($run->status, FINISHED_STATUSES, true)) {
            return $run;
        }
        if (microtime(true) > $deadline) {
            throw new RuntimeException("run $runId is still {$run->status} after {$timeout} s");
        }
        $delay = min($delay * 1.5, 5.0);
    }
}
