"""The customer-facing files: the embeddable widget, the demo help center and the content team's dashboard."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, HTMLResponse

from app.api.deps import SettingsDep

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
# Scripts and styles only from this origin, no inline code; API calls only to this origin.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-cache",
}
# Short: a changed widget reaches every host page within minutes.
ASSET_CACHE = "public, max-age=300"
JAVASCRIPT, CSS = "application/javascript; charset=utf-8", "text/css; charset=utf-8"
# The only files under /static/ that are served: URL name -> media type.
ASSETS = {
    "deflect.css": CSS,
    "demo.js": JAVASCRIPT,
    "dashboard.js": JAVASCRIPT,
    "vendor/chart.umd.min.js": JAVASCRIPT,
}
THANKS_PAGE = """<!doctype html>
<html lang="ja">
<head>
<meta charset="utf-8"><title>送信しました | Deflect デモ</title>
<link rel="icon" href="data:,"><link rel="stylesheet" href="/static/deflect.css">
</head>
<body class="demo"><main class="demo-narrow">
<h1>お問い合わせを受け付けました</h1>
<p>デモのため、送信された内容は保存していません。</p>
<p><a href="/demo">ヘルプセンターに戻る</a></p>
</main></body>
</html>
"""

router = APIRouter(tags=["pages"], include_in_schema=False)


def _asset(name: str, media_type: str) -> FileResponse:
    return FileResponse(
        STATIC_DIR / name,
        media_type=media_type,
        headers={"Cache-Control": ASSET_CACHE, "X-Content-Type-Options": "nosniff"},
    )


def _page(name: str) -> FileResponse:
    return FileResponse(STATIC_DIR / name, media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)


@router.get("/widget.js")
def read_widget() -> FileResponse:
    """The embeddable widget: `<script src=".../widget.js" data-key="pk_..." defer>`."""
    return _asset("widget.js", JAVASCRIPT)


@router.get("/widget.css")
def read_widget_styles() -> FileResponse:
    """The widget's styles, which the widget links once into its host page."""
    return _asset("widget.css", CSS)


@router.get("/static/{name:path}")
def read_static_file(name: str) -> FileResponse:
    """A script or stylesheet of the pages below; only the files listed in ASSETS exist."""
    media_type = ASSETS.get(name)
    if media_type is None:
        raise HTTPException(status_code=404, detail="no such file")
    return _asset(name, media_type)


@router.get("/demo")
def read_demo_help_center() -> FileResponse:
    """A demo help center page (Japanese) with a search box that suggests articles as you type."""
    return _page("demo.html")


@router.get("/demo/form")
def read_demo_inquiry_form() -> FileResponse:
    """A demo inquiry form that suggests articles before the customer sends it."""
    return _page("demo-form.html")


@router.post("/demo/submitted")
def thank_for_demo_inquiry() -> HTMLResponse:
    """Where the demo form posts: a thank-you page. What was posted is neither read nor stored."""
    return HTMLResponse(THANKS_PAGE, headers=PAGE_HEADERS)


@router.get("/dashboard")
def read_dashboard(settings: SettingsDep) -> HTMLResponse:
    """The content team's dashboard: it reads the report APIs with a secret key, or with none on a service that
    runs open (no keys set), and then says so."""
    page = (STATIC_DIR / "dashboard.html").read_text(encoding="utf-8")
    if settings.open_access:
        page = page.replace('data-access="key"', 'data-access="open"', 1)
    return HTMLResponse(page, headers=PAGE_HEADERS)
