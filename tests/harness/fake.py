"""The base of the harness's fakes of third-party services (Twilio, an LLM
API): a Python script started with --port 0 that prints "PORT n" once it
listens; its pid is written to pid_file for leftovers to be found."""

import os
import subprocess
import threading

from .server import Server
from .util import write_file


class FakeServer(Server):
    start_timeout = 15
    stdout = subprocess.PIPE
    pid_name = "fake.pid"

    def __init__(self, base_dir, name=None):
        super().__init__(base_dir, name)
        self.pid_file = os.path.join(self.dir, self.pid_name)

    def launch(self):
        self.port = None
        if os.path.exists(self.pid_file):
            os.unlink(self.pid_file)
        super().launch()
        write_file(self.pid_file, "%d\n" % self.proc.pid)
        stdout = self.proc.stdout

        def read_port():
            line = stdout.readline().decode("ascii", "replace")
            if line.startswith("PORT "):
                self.port = int(line.split()[1])
        threading.Thread(target=read_port, daemon=True).start()

    def ready(self):
        return self.port is not None
