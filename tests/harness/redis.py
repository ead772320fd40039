"""A private redis-server: a fixed free 127.0.0.1 port and a unix socket
(mode 777: Apache's children may be www-data), in memory unless extra_args
say otherwise (e.g. "--appendonly", "yes").  stop()/start() keep the port
and socket, so configurations keep pointing at it."""

import os
import socket

from .server import Server
from .util import REDIS_SERVER, free_port


class RedisServer(Server):
    name, log_name = "redis", "redis.log"

    def __init__(self, base_dir, name=None, password=None, extra_args=()):
        super().__init__(base_dir, name)
        self.out_path = None              # it writes log_path itself
        self.port = free_port()
        self.sock = os.path.join(self.dir, "redis.sock")
        self.password = password
        self.extra_args = list(extra_args)

    @property
    def addr(self):
        return "127.0.0.1:%d" % self.port

    def argv(self):
        argv = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1",
                "--unixsocket", self.sock, "--unixsocketperm", "777",
                "--save", "", "--appendonly", "no", "--dir", self.dir,
                "--daemonize", "no", "--logfile", self.log_path, "--databases", "1"]
        if self.password:
            argv += ["--requirepass", self.password]
        return argv + self.extra_args

    def ready(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"*1\r\n$4\r\nPING\r\n")
                data = s.recv(64)
                # +PONG, or -NOAUTH when a password is required: up either way
                return data.startswith(b"+PONG") or data.startswith(b"-NOAUTH")
        except OSError:
            return False

    def client(self, decode_responses=True, unix=False):
        import redis  # python3-redis
        if unix:
            return redis.Redis(unix_socket_path=self.sock, password=self.password,
                               decode_responses=decode_responses, socket_timeout=5)
        return redis.Redis(host="127.0.0.1", port=self.port, password=self.password,
                           decode_responses=decode_responses, socket_timeout=5)
