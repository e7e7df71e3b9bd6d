import java.net.MalformedURLException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import javax.xml.namespace.QName;
import javax.xml.soap.SOAPElement;
import javax.xml.soap.SOAPEnvelope;
import javax.xml.soap.SOAPException;
import javax.xml.soap.SOAPFault;
import javax.xml.soap.SOAPHeader;
import javax.xml.ws.BindingProvider;
import javax.xml.ws.WebServiceException;
import javax.xml.ws.handler.Handler;
import javax.xml.ws.handler.MessageContext;
import javax.xml.ws.handler.soap.SOAPHandler;
import javax.xml.ws.handler.soap.SOAPMessageContext;
import segmentation.customer.v1.AccessDeniedFault_Exception;
import segmentation.customer.v1.AuthenticationFault_Exception;
import segmentation.customer.v1.InvalidRequestFault_Exception;
import segmentation.customer.v1.RunNotFoundFault_Exception;
import segmentation.customer.v1.RunStatus;
import segmentation.customer.v1.SegmentationPortType;
import segmentation.customer.v1.SegmentationRun;
import segmentation.customer.v1.SegmentationService;
import segmentation.customer.v1.ServiceUnavailableFault_Exception;

/**
 * JAX-WS RI client for the customer segmentation service: ports of the classes that
 * plain {@code wsimport} generates from the served WSDL, with a WS-Security header.
 *
 * <p>Settings this contract needs, and why:
 *
 * <ul>
 *   <li>The JAX-WS RI has no WS-Security: {@link UsernameToken}, a {@link SOAPHandler},
 *       adds a wsse:Security header with a fresh UsernameToken (PasswordDigest, Nonce,
 *       Created) to every request.
 *   <li>A declared fault arrives as its typed {@code ..._Exception} whose
 *       {@code getFaultInfo()} is the detail element, but the exception does not carry
 *       the faultcode: the same handler copies it, application-scoped, into the port's
 *       response context ({@link #faultCode}).
 *   <li>Optional request elements are {@code null} (JAXB leaves them out; nothing is
 *       sent as xsi:nil). ListSegmentMembers' segmentCode and runId, and
 *       CompareSegmentationRuns' fromRunId and toRunId, are INOUT {@code Holder}s: the
 *       call overwrites them with the response's values, so build fresh ones per call.
 *   <li>Background runs (contract 1.3): {@code submitSegmentation} answers at once with the
 *       Queued run; poll {@code getSegmentationRun} with a back-off ({@link #waitForRun})
 *       until it is Completed, Failed or Cancelled, then read it as SegmentCustomers'
 *       answer.
 * </ul>
 */
public final class SegmentationClient {
    /** The response-context key under which a fault's faultcode is left. */
    public static final String FAULT_CODE = "segmentation.soap.faultcode";

    private static final int CONNECT_TIMEOUT_MS = 10_000;
    private static final int REQUEST_TIMEOUT_MS = 120_000;

    private final SegmentationService service;

    /** Loads the WSDL (and the XSD it imports) from {@code wsdlUrl}, for the endpoint it names. */
    public SegmentationClient(String wsdlUrl) throws MalformedURLException {
        this.service = new SegmentationService(new URL(wsdlUrl));
    }

    /** A port with credentials from SEGMENTATION_USERNAME / SEGMENTATION_PASSWORD, if set. */
    public SegmentationPortType portFromEnvironment() {
        String username = System.getenv("SEGMENTATION_USERNAME");
        String password = System.getenv("SEGMENTATION_PASSWORD");
        boolean anonymous = username == null || username.isEmpty();
        return port(anonymous ? null : username, password == null ? "" : password);
    }

    /** A port sending {@code username}'s UsernameToken in every request (none if null). */
    public SegmentationPortType port(String username, String password) {
        SegmentationPortType port = service.getSegmentationPort();
        BindingProvider provider = (BindingProvider) port;
        Map<String, Object> request = provider.getRequestContext();
        request.put("com.sun.xml.ws.connect.timeout", CONNECT_TIMEOUT_MS);
        request.put("com.sun.xml.ws.request.timeout", REQUEST_TIMEOUT_MS);
        @SuppressWarnings("rawtypes") // the JAX-WS API takes a raw List<Handler>
        List<Handler> chain = List.of(new UsernameToken(username, password));
        provider.getBinding().setHandlerChain(chain);
        return port;
    }

    /** The faultcode (prefix:local, as sent) of the last fault {@code port} received. */
    public static String faultCode(SegmentationPortType port) {
        Object code = ((BindingProvider) port).getResponseContext().get(FAULT_CODE);
        if (code == null) {
            throw new IllegalStateException("no SOAP fault was received on this port");
        }
        return (String) code;
    }

    /** The statuses a run ends in: polling stops there. */
    public static final Set<RunStatus> FINISHED =
            Set.of(RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED);

    /**
     * Polls GetSegmentationRun until the run has finished (Completed, Failed or Cancelled)
     * and returns it: the async pattern of SubmitSegmentation. Waits 200 ms before the first
     * poll, then 1.5 times longer each time, at most 5 s; {@code onPoll}, if not null, sees
     * every run polled (its status, progress and phase).
     *
     * @throws TimeoutException when the run has not finished after {@code timeoutMillis}
     */
    public static SegmentationRun waitForRun(SegmentationPortType port, long runId,
            long timeoutMillis, Consumer<SegmentationRun> onPoll)
            throws InterruptedException, TimeoutException, RunNotFoundFault_Exception,
                    AccessDeniedFault_Exception, AuthenticationFault_Exception,
                    InvalidRequestFault_Exception, ServiceUnavailableFault_Exception {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        long delay = 200;
        while (true) {
            Thread.sleep(delay);
            SegmentationRun run = port.getSegmentationRun(runId);
            if (onPoll != null) {
                onPoll.accept(run);
            }
            if (FINISHED.contains(run.getStatus())) {
                return run;
            }
            if (System.nanoTime() > deadline) {
                throw new TimeoutException(
                        "run " + runId + " is still " + run.getStatus().value());
            }
            delay = Math.min(delay * 3 / 2, 5_000);
        }
    }

    /**
     * Adds wsse:Security/UsernameToken to outgoing messages (WSS UsernameToken Profile 1.1,
     * PasswordDigest = Base64(SHA-1(nonce + created + password))) and records incoming
     * faultcodes in the response context.
     */
    public static final class UsernameToken implements SOAPHandler<SOAPMessageContext> {
        static final String OASIS = "http://docs.oasis-open.org/wss/2004/01/";
        static final String WSSE = OASIS + "oasis-200401-wss-wssecurity-secext-1.0.xsd";
        static final String WSU = OASIS + "oasis-200401-wss-wssecurity-utility-1.0.xsd";
        static final String TOKEN_PROFILE = OASIS + "oasis-200401-wss-username-token-profile-1.0";
        static final String MESSAGE_SECURITY =
                OASIS + "oasis-200401-wss-soap-message-security-1.0";

        private static final SecureRandom RANDOM = new SecureRandom();

        private final String username;
        private final String password;

        /** {@code username} null: no header, only faultcodes are recorded. */
        public UsernameToken(String username, String password) {
            this.username = username;
            this.password = password;
        }

        @Override
        public boolean handleMessage(SOAPMessageContext context) {
            boolean outbound = (Boolean) context.get(MessageContext.MESSAGE_OUTBOUND_PROPERTY);
            if (outbound && username != null) {
                try {
                    addSecurity(context.getMessage().getSOAPPart().getEnvelope());
                } catch (SOAPException e) {
                    throw new WebServiceException("cannot add the wsse:Security header", e);
                }
            }
            return true;
        }

        @Override
        public boolean handleFault(SOAPMessageContext context) {
            try {
                SOAPFault fault = context.getMessage().getSOAPBody().getFault();
                if (fault != null) {
                    context.put(FAULT_CODE, fault.getFaultCode());
                    context.setScope(FAULT_CODE, MessageContext.Scope.APPLICATION);
                }
            } catch (SOAPException e) {
                throw new WebServiceException("cannot read the SOAP fault", e);
            }
            return true;
        }

        @Override
        public Set<QName> getHeaders() {
            return Set.of();
        }

        @Override
        public void close(MessageContext context) {}

        private void addSecurity(SOAPEnvelope envelope) throws SOAPException {
            SOAPHeader header = envelope.getHeader();
            if (header == null) {
                header = envelope.addHeader();
            }
            byte[] nonce = new byte[16];
            RANDOM.nextBytes(nonce);
            String created = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();

            SOAPElement token =
                    header.addChildElement("Security", "wsse", WSSE)
                            .addChildElement("UsernameToken", "wsse");
            token.addChildElement("Username", "wsse").addTextNode(username);
            token.addChildElement("Password", "wsse")
                    .addAttribute(new QName("Type"), TOKEN_PROFILE + "#PasswordDigest")
                    .addTextNode(digest(nonce, created, password));
            token.addChildElement("Nonce", "wsse")
                    .addAttribute(new QName("EncodingType"), MESSAGE_SECURITY + "#Base64Binary")
                    .addTextNode(Base64.getEncoder().encodeToString(nonce));
            token.addChildElement("Created", "wsu", WSU).addTextNode(created);
        }

        static String digest(byte[] nonce, String created, String password) {
            try {
                MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
                sha1.update(nonce);
                sha1.update(created.getBytes(StandardCharsets.UTF_8));
                sha1.update(password.getBytes(StandardCharsets.UTF_8));
                return Base64.getEncoder().encodeToString(sha1.digest());
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("every JDK has SHA-1", e);
            }
        }
    }
}
