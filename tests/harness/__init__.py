"""Real servers for the end-to-end tests (tests/it), dev/ and bench/, each
a Server (server.py) started in its own directory under a base dir on free
127.0.0.1 ports; Stack (stack.py) wires them into the whole assistant.

Scripts outside tests/ put tests/ on sys.path and `import harness`; nothing
is installed.  See README.md.
"""

from .apache import Apache, ApacheError, MPMS, default_body  # noqa: F401
from .llm import FakeLLM  # noqa: F401
from .postgres import PG_BINDIR, PgDatabase, PostgresServer, PsqlError  # noqa: F401
from .redis import RedisServer  # noqa: F401
from .server import Server, ServerError, stop_all_and_scan_logs  # noqa: F401
from .stack import FAST_RECLAIM, Stack  # noqa: F401
from .twilio import FakeTwilio  # noqa: F401
from .util import Binaries  # noqa: F401
from .webhook import Webhook  # noqa: F401
from .worker import Worker  # noqa: F401
