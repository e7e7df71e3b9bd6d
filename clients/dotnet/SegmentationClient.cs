// .NET (Mono) client for the customer segmentation service: the proxy that `wsdl` generates
// from the served WSDL (class SegmentationService, used unmodified), plus a subclass that
// sends a WS-Security UsernameToken, and a reader for the declared faults.
//
// Settings this contract needs, and why:
//
//  - WS-Security: ASMX proxies know only the SOAP headers a WSDL binds to an operation, and
//    this WSDL binds none (the token is a policy of the service, not a message part). The
//    subclass SegmentationClient overrides GetWriterForMessage, the documented hook that
//    runs for every request just before the envelope is written, and adds a wsse:Security
//    header there as a SoapUnknownHeader: UsernameToken Profile 1.1 PasswordDigest with a
//    fresh Nonce and Created per request. Nothing in the generated file changes.
//  - Optional value types (xs:long, xs:int, xs:double, xs:boolean, xs:date, enumerations)
//    come with a ...Specified flag: set it to send the value (runIdSpecified, pageSizeSpecified),
//    and read it before trusting a value in a response (SegmentMember.valueSpecified).
//    Optional strings are null when absent; lists are arrays, empty or null when absent.
//  - Operations are unwrapped: the request's children are parameters; the response's first
//    child is the return value and the others are out (or ref, when the request has a child
//    of the same name: ListSegmentMembers's segmentCode and runId).
//  - Faults: every declared fault arrives as SoapException (HTTP 500). Code is the faultcode
//    (Client.CustomerNotFound), Detail the <detail> element holding the fault's typed detail
//    element (CustomerNotFoundFault with its customerId); ASMX ignores wsdl:fault, so read
//    the element as XML (DeclaredFault below).
//  - Background runs (contract 1.3): SubmitSegmentation answers at once with the Queued run;
//    poll GetSegmentationRun with a back-off (WaitForRun below) until it is Completed, Failed
//    or Cancelled, then read it as SegmentCustomers' answer. Its progress is optional
//    (progressSpecified), as are queuedAt and CreateSegmentationSchedule's enabled.
//  - The endpoint is the WSDL's soap:address, which the service rewrites to its public URL
//    and `wsdl` puts into the proxy's constructor; set Url only to call another address.

using System;
using System.Collections.Generic;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Web.Services.Protocols;
using System.Xml;

/// <summary>The generated SegmentationService proxy, sending a UsernameToken when given credentials.</summary>
public class SegmentationClient : SegmentationService
{
    public const string WsseNamespace =
        "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
    public const string WsuNamespace =
        "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd";
    const string TokenProfile =
        "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0";
    const string MessageSecurity =
        "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0";

    readonly string username;
    readonly string password;

    /// <summary>A client for the proxy's endpoint; with a username, every request carries its token.</summary>
    public SegmentationClient(string username = null, string password = null)
    {
        this.username = username;
        this.password = password ?? "";
        Timeout = 120000;
    }

    /// <summary>Credentials from SEGMENTATION_USERNAME / SEGMENTATION_PASSWORD, when the username is set.</summary>
    public static SegmentationClient FromEnvironment()
    {
        string username = Environment.GetEnvironmentVariable("SEGMENTATION_USERNAME");
        if (string.IsNullOrEmpty(username))
            return new SegmentationClient();
        return new SegmentationClient(username, Environment.GetEnvironmentVariable("SEGMENTATION_PASSWORD"));
    }

    protected override XmlWriter GetWriterForMessage(SoapClientMessage message, int bufferSize)
    {
        if (username != null)
            message.Headers.Add(new SoapUnknownHeader { Element = Security(username, password) });
        return base.GetWriterForMessage(message, bufferSize);
    }

    /// <summary>
    /// Polls GetSegmentationRun until the run has finished (Completed, Failed or Cancelled) and
    /// returns it: the async pattern of SubmitSegmentation. Waits 200 ms before the first poll,
    /// then 1.5 times longer each time, at most 5 s; onPoll sees every run polled (its status,
    /// progress and phase). Throws TimeoutException when the run has not finished in time.
    /// </summary>
    public SegmentationRun WaitForRun(long runId, TimeSpan timeout, Action<SegmentationRun> onPoll = null)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        int delay = 200;
        while (true)
        {
            Thread.Sleep(delay);
            SegmentationRun run = GetSegmentationRun(runId);
            onPoll?.Invoke(run);
            if (run.status == RunStatus.Completed || run.status == RunStatus.Failed
                || run.status == RunStatus.Cancelled)
                return run;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException("run " + runId + " is still " + run.status);
            delay = Math.Min(delay * 3 / 2, 5000);
        }
    }

    /// <summary>A wsse:Security element with a UsernameToken carrying a PasswordDigest.</summary>
    public static XmlElement Security(string username, string password)
    {
        byte[] nonce = new byte[16];
        using (var random = RandomNumberGenerator.Create())
            random.GetBytes(nonce);
        string created = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'");
        byte[] createdAndPassword = Encoding.UTF8.GetBytes(created + password);
        byte[] digested = new byte[nonce.Length + createdAndPassword.Length];
        nonce.CopyTo(digested, 0);
        createdAndPassword.CopyTo(digested, nonce.Length);
        string digest;
        using (var sha1 = SHA1.Create())
            digest = Convert.ToBase64String(sha1.ComputeHash(digested));

        var document = new XmlDocument();
        XmlElement security = document.CreateElement("wsse", "Security", WsseNamespace);
        XmlElement token = Child(security, "UsernameToken", WsseNamespace, null);
        Child(token, "Username", WsseNamespace, username);
        Child(token, "Password", WsseNamespace, digest).SetAttribute("Type", TokenProfile + "#PasswordDigest");
        Child(token, "Nonce", WsseNamespace, Convert.ToBase64String(nonce))
            .SetAttribute("EncodingType", MessageSecurity + "#Base64Binary");
        Child(token, "Created", WsuNamespace, created);
        return security;
    }

    static XmlElement Child(XmlElement parent, string name, string ns, string text)
    {
        string prefix = ns == WsuNamespace ? "wsu" : "wsse";
        XmlElement child = parent.OwnerDocument.CreateElement(prefix, name, ns);
        if (text != null)
            child.InnerText = text;
        parent.AppendChild(child);
        return child;
    }
}

/// <summary>A declared fault as SoapException carries it: code, message and the typed detail element.</summary>
public sealed class DeclaredFault
{
    public string Code;      // the faultcode's local name, e.g. Client.CustomerNotFound
    public string Message;   // the faultstring
    public string Element;   // the detail element's local name, e.g. CustomerNotFoundFault; null if none
    public Dictionary<string, string> Fields = new Dictionary<string, string>();  // its children, as text

    public static DeclaredFault From(SoapException exception)
    {
        var fault = new DeclaredFault { Code = exception.Code.Name, Message = exception.Message };
        XmlElement element = FirstElement(exception.Detail);
        if (element == null)
            return fault;
        fault.Element = element.LocalName;
        foreach (XmlNode child in element.ChildNodes)
            if (child is XmlElement)
                fault.Fields[child.LocalName] = child.InnerText;
        return fault;
    }

    static XmlElement FirstElement(XmlNode node)
    {
        if (node == null)
            return null;
        foreach (XmlNode child in node.ChildNodes)
            if (child is XmlElement)
                return (XmlElement)child;
        return null;
    }
}
