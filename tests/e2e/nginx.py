"""A real nginx in front of a real `liveblog serve`, with one of the repository's shipped
configurations (deploy/nginx/: the cache in front of the service, or a newsroom's article
server including a blog), in a folder of the test's own."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from .server import free_port, stop_process

SHIPPED = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "liveblog.conf"
ARTICLE = SHIPPED.with_name("article-ssi.conf")


def nginx_path() -> str:
    """nginx's executable (scripts/test installs Debian's package); fails loudly when missing."""
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists()
                                      else None)
    if found is None:
        raise RuntimeError("nginx is not installed: scripts/test installs it (apt-get install"
                           " nginx-light) when run as root")
    return found


class Nginx:
    """nginx with a shipped site config (``config``), listening on a free port, proxying to
    ``origin``; an article server's pages are in ``folder / "article"``."""

    def __init__(self, folder: Path, origin_port: int, config: Path = SHIPPED) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "article").mkdir(exist_ok=True)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        site = config.read_text()
        cache = "/var/cache/nginx/liveblog" if config == SHIPPED else "/var/cache/nginx/article"
        for old, new in ((cache, str(folder / "cache")),
                         ("server 127.0.0.1:8000;", f"server 127.0.0.1:{origin_port};"),
                         ("listen 80;", f"listen 127.0.0.1:{self.port};"),
                         *((("root /srv/article;", f"root {folder / 'article'};"),)
                           if config == ARTICLE else ())):
            assert old in site, f"{old!r} is no longer in {config}"
            site = site.replace(old, new)
        (folder / "nginx.conf").write_text(f"""
user root;
daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log {folder}/access.log;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
{site}
}}
""")
        self.proc = subprocess.Popen([nginx_path(), "-p", str(folder), "-c",
                                      str(folder / "nginx.conf")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"nginx did not start: {(folder / 'error.log').read_text()}")

    def stop(self) -> None:
        stop_process(self.proc, signal.SIGQUIT, 10)  # nginx's graceful shutdown
