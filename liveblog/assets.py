"""Static files under content-hashed URLs: ``/assets/<digest>/<file>``, cached for a year.

A file's URL names its bytes, so a shared cache may keep it forever (``immutable``): a new
release has new URLs. The ES modules of a folder (the console's) import each other by relative
URLs, so they share one digest, of the whole folder: any change to one is a new URL for all.
``build`` names the release's assets and templates together, for the validators of the pages
that refer to them.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    request,
    send_from_directory,
)

from .http.caching import policies

bp = Blueprint("assets", __name__)

#: folders of ES modules served under one digest (they import each other by relative URLs)
MODULE_FOLDERS = ("console",)

#: scripts served as one file: static files joined in one closure (their functions are not
#: the host page's globals). The script embed is the reader page's own scripts and its part.
BUNDLES = {"embed.js": ("liveblog.js", "embeds.js", "verify.js", "audience.js", "shadow.js")}


class Assets:
    """The digests of the app's static files (read once, at start)."""

    def __init__(self, static: Path, templates: Path) -> None:
        self.folder = static
        self.digests: dict[str, str] = {}
        whole = hashlib.sha256()
        for path in sorted(p for p in static.rglob("*") if p.is_file()):
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
            name = path.relative_to(static).as_posix()
            self.digests[name] = digest
            whole.update(f"{name}:{digest}\n".encode())
        for folder in MODULE_FOLDERS:
            members = sorted(n for n in self.digests if n.startswith(folder + "/"))
            shared = hashlib.sha256("".join(self.digests[n] for n in members).encode())
            for name in members:
                self.digests[name] = shared.hexdigest()[:16]
        for path in sorted(p for p in templates.rglob("*") if p.is_file()):
            whole.update(path.read_bytes())
        #: the bundles' bytes, by name
        self.bundles = {name: b"(function () {\n" + b"\n".join(
            (static / part).read_bytes() for part in parts) + b"\n})();\n"
            for name, parts in BUNDLES.items()}
        for name, data in self.bundles.items():
            self.digests[name] = hashlib.sha256(data).hexdigest()[:16]
        #: names this release's assets and templates (changes with any of them)
        self.build = whole.hexdigest()[:12].encode()

    def url(self, filename: str) -> str:
        """The content-hashed URL of a static file."""
        return f"/assets/{self.digests[filename]}/{filename}"


@bp.route("/assets/<digest>/<path:filename>")
def asset(digest: str, filename: str) -> Response:
    """A static file by its content hash: the same URL is always the same bytes."""
    assets: Assets = current_app.extensions["liveblog.assets"]
    if assets.digests.get(filename) != digest:
        abort(404)
    response = send_from_directory(assets.folder, filename, max_age=31536000,
                                   conditional=True, etag=f"{digest}")
    response.headers["Cache-Control"] = policies().immutable
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def fixed_url_asset(filename: str) -> Response:
    """A static file at a URL that does not name its bytes (one that other sites copy into
    their pages): kept for an hour (:attr:`Policies.loader`), revalidated by its digest."""
    assets: Assets = current_app.extensions["liveblog.assets"]
    if filename in assets.bundles:
        response = Response(assets.bundles[filename], mimetype="text/javascript")
        response.set_etag(assets.digests[filename])
        response.make_conditional(request)
    else:
        response = send_from_directory(assets.folder, filename, conditional=True,
                                       etag=assets.digests[filename])
    response.headers["Cache-Control"] = policies().loader
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def init_app(app: Flask) -> None:
    """Read the static files' digests and register the assets route and template helper."""
    assets = Assets(Path(app.static_folder or "static"), Path(app.root_path) / "templates")
    app.extensions["liveblog.assets"] = assets
    app.register_blueprint(bp)
    app.add_template_global(assets.url, "asset_url")
