"""Graph file resources the emulator serves: the drive items that reference attachments point
to, by sharing URL (/shares/{u!…}/driveItem) or by id (/drives/{d}/items/{i}), and their
/content, a 302 to a short-lived pre-authenticated /_download/… URL (served by graph_http.py).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from migrate.sandbox.graph_odata import GraphError, check_options, decode_sharing_token, not_found
from migrate.sandbox.graph_resources import Call, Reply

if TYPE_CHECKING:
    from migrate.sandbox.graph_emulator import GraphEmulator
    from migrate.sandbox.tenant import DriveItem

Json = dict[str, Any]
# `…/content` redirects to a short-lived pre-authenticated URL, valid minutes
# (https://learn.microsoft.com/graph/api/driveitem-get-content)
DOWNLOAD_URL_SECONDS = 600


def _drive_item_json(app: GraphEmulator, call: Call, item: DriveItem) -> Json:
    return {
        "@odata.context": f"{call.base}/$metadata#driveItem/$entity",
        "@microsoft.graph.downloadUrl": _download_url(app, call, item),
        "id": item.id, "name": item.name, "size": len(item.data), "webUrl": item.web_url,
        "file": {"mimeType": item.mime_type},
        "parentReference": {"driveId": item.drive_id, "driveType": "documentLibrary"},
    }


def _download_url(app: GraphEmulator, call: Call, item: DriveItem) -> str:
    token = app.signer.sign({"k": "download", "d": item.drive_id, "i": item.id,
                             "e": int(time.time()) + DOWNLOAD_URL_SECONDS})
    return f"{call.base.rsplit('/v1.0', 1)[0]}/_download/{token}"


def _shared_item(app: GraphEmulator, call: Call) -> DriveItem:
    url = decode_sharing_token(call.params["share"])
    if url is None:
        raise GraphError(400, "invalidRequest", "Invalid shares key.")
    item = app.store.items_by_url.get(url) or app.store.items_by_url.get(unquote(url))
    if item is None:
        raise not_found("The resource could not be found.", "itemNotFound")
    return item


def _drive_item(app: GraphEmulator, call: Call) -> DriveItem:
    item = app.store.drive_items.get((call.params["drive"], call.params["item"]))
    if item is None:
        raise not_found("The resource could not be found.", "itemNotFound")
    return item


def get_drive_item(app: GraphEmulator, call: Call) -> Reply:
    check_options(call.query, {"$select"})
    item = _shared_item(app, call) if "share" in call.params else _drive_item(app, call)
    return Reply(200, _drive_item_json(app, call, item))


def get_drive_item_content(app: GraphEmulator, call: Call) -> Reply:
    check_options(call.query, set())
    item = _shared_item(app, call) if "share" in call.params else _drive_item(app, call)
    # 302 to a pre-authenticated URL; the client fetches it without Authorization
    # (https://learn.microsoft.com/graph/api/driveitem-get-content).
    return Reply(302, raw=b"", headers={"Location": _download_url(app, call, item)})
