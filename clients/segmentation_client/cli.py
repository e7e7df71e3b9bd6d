"""`segmentation-client`: parse, connect, run one operation, map failures to exit statuses.

Exit statuses: 0 success; 2 usage error or a fault blaming the request
(faultcode Client); 1 any other fault, or the service could not be reached.
`wait` and `submit --wait` also exit 1 when the run Failed or was Cancelled,
and 3 when --max-wait ran out before the run ended.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

from zeep.exceptions import Error as ZeepError
from zeep.exceptions import Fault

from .arguments import parse_arguments
from .connection import Connection, username_token
from .connection import connect as open_connection
from .faults import is_soap_fault, parse_fault
from .files import OutputFileError
from .paging import PagingError
from .transport_errors import TRANSPORT_ERRORS, describe_transport_error

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_INTERRUPTED = 130

Connect = Callable[[str, str | None, float], Connection]


def main(argv: Sequence[str] | None = None, *, connect: Connect | None = None) -> int:
    """Entry point; `connect` is replaceable so tests can supply a fake service."""
    args = parse_arguments(argv)
    # rich and the renderers load after parsing: --help and usage errors answer at once.
    from .commands import run_command
    from .output import make_console, print_error, report_fault

    if connect is None:
        token = None
        if args.username is not None:
            token = username_token(args.username, args.password, args.password_digest)
        connect = partial(open_connection, wsse=token)
    try:
        connection = connect(args.wsdl, args.endpoint, args.timeout)
    except TRANSPORT_ERRORS as error:
        print_error(describe_transport_error(args.wsdl, error, args.timeout))
        return EXIT_FAILURE
    except ZeepError as error:
        print_error(f"{args.wsdl}: cannot use this WSDL: {error.message}")
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED

    try:
        status = run_command(args, connection.service, make_console())
    except OutputFileError as error:
        print_error(str(error))
        return EXIT_FAILURE
    except Fault as fault:
        if not is_soap_fault(fault):
            print_error(f"{connection.address}: the answer is neither a SOAP response nor a fault")
            return EXIT_FAILURE
        service_fault = parse_fault(fault)
        report_fault(service_fault, as_json=args.json)
        return service_fault.exit_status
    except TRANSPORT_ERRORS as error:
        print_error(describe_transport_error(connection.address, error, args.timeout))
        return EXIT_FAILURE
    except (PagingError, ZeepError) as error:
        print_error(f"{connection.address}: {error}")
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    return status
