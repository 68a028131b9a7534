"""The installed app's window through tauri-driver, for the installed-package checks in
scripts/lib/package.sh: one session, found by XPath, waited for, clicked, read, pictured."""

import base64
import json
import time
import urllib.error
import urllib.request

WAIT = 60

# Without a GPU the window draws without compositing, and WebKitGTK then takes a screenshot
# after its next paint: a still page never paints again. One nearly clear corner pixel changes
# for a couple of seconds (as the window tests' screenshots do).
REPAINT = (
    "const pixel = document.createElement('div');"
    "pixel.style.cssText = 'position:fixed;left:0;top:0;width:1px;height:1px;pointer-events:none';"
    "document.body.append(pixel); let frames = 0;"
    "const change = () => { pixel.style.background = frames++ % 2 ? 'rgb(0 0 0 / 0.01)' : 'transparent';"
    " if (frames < 120) requestAnimationFrame(change); else pixel.remove(); };"
    "requestAnimationFrame(change); return true;"
)


def call(method, url, body=None):
    data = None if body is None else json.dumps(body).encode()
    for attempt in range(4):
        request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=90) as answer:
                return json.load(answer)["value"]
        except urllib.error.HTTPError as error:
            value = json.load(error)["value"]
            raise RuntimeError(f"{value.get('error')}: {value.get('message')}") from None
        except (ConnectionError, urllib.error.URLError) as error:
            # tauri-driver drops the request when its kept-alive connection to WebKitWebDriver
            # was closed under it (or WebKitWebDriver is still starting): the same request again.
            if attempt == 3:
                raise RuntimeError(f"{method} {url}: no answer from tauri-driver: {error}") from None
            time.sleep(1)


class Window:
    """A WebDriver session on `application` (started with `args`) through the driver at `driver`."""

    def __init__(self, driver, application, args):
        options = {"application": application}
        if args:
            options["args"] = args
        try:
            session = call("POST", f"{driver}/session", {"capabilities": {"alwaysMatch": {"tauri:options": options}}})
        except RuntimeError as error:
            raise SystemExit(f"tauri-driver did not start a session with {application}: {error}")
        self.base = f"{driver}/session/{session['sessionId']}"

    def call(self, method, path, body=None):
        return call(method, f"{self.base}{path}", body)

    def find(self, xpath):
        found = self.call("POST", "/elements", {"using": "xpath", "value": xpath})
        return [next(iter(element.values())) for element in found]

    def script(self, source):
        return self.call("POST", "/execute/sync", {"args": [], "script": source})

    def text(self, xpath):
        return self.script(
            f"const e = document.evaluate({json.dumps(xpath)}, document, null, 9, null).singleNodeValue;"
            " return e ? e.innerText : null"
        )

    def wait_for(self, xpath, what, seconds=WAIT):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                found = self.find(xpath)
                if found:
                    return found[0]
            except RuntimeError:
                pass
            time.sleep(0.25)
        try:
            shown = self.text("//body")
        except RuntimeError as error:
            shown = f"(could not read the page: {error})"
        raise SystemExit(f"the installed app's window does not show {what} within {seconds}s; it shows: {shown!r}")

    def click(self, xpath, what):
        self.call("POST", f"/element/{self.wait_for(xpath, what)}/click", {})

    def screenshot(self, path):
        self.script(REPAINT)
        png = base64.b64decode(self.call("GET", "/screenshot"))
        if not png.startswith(b"\x89PNG"):
            raise SystemExit("the window's screenshot is not a PNG")
        with open(path, "wb") as f:
            f.write(png)

    def close(self):
        try:
            self.call("DELETE", "")
        except Exception:
            pass
