"""What the .ci browser checks share: bounded polls, plain HTTP, processes, and headless Chromium over WebDriver.

Stdlib only. `Browser` speaks chromedriver's W3C WebDriver HTTP API directly (no selenium): each instance is its own
chromedriver process, session and Chromium profile, so two instances are two unrelated browsers (separate cookies).
"""

import base64, contextlib, http.client, json, os, signal, socket, subprocess, time
from urllib.parse import urlsplit

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
JSON = {"Content-Type": "application/json"}
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"


def check(condition, message):
    if not condition:
        raise AssertionError(message)
    return condition


def wait_for(condition, what, timeout=30):
    """Polls `condition` until it returns something truthy and returns that; after `timeout` s, fails naming `what`."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s for {what() if callable(what) else what}")
        time.sleep(0.1)
    return value


def free_port():
    with socket.create_server(("127.0.0.1", 0)) as s:
        return s.getsockname()[1]


def exchange(method, url, data=None, headers=None, timeout=15):
    """One HTTP request of raw `data`, no proxy, no redirect followed: (status, response headers, body bytes)."""
    parts = urlsplit(url)
    with contextlib.closing(http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)) as connection:
        connection.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), data, headers or {})
        answer = connection.getresponse()
        return answer.status, answer.headers, answer.read()


def request(method, url, body=None, headers=None, timeout=15):
    """One HTTP request with a JSON `body` (if any), no proxy, no redirect followed: (status, body bytes)."""
    data = None if body is None else json.dumps(body).encode()
    status, _, raw = exchange(method, url, data, {**({} if data is None else JSON), **(headers or {})}, timeout)
    return status, raw


def answers_200(url):
    with contextlib.suppress(OSError):  # a server still starting refuses the connection
        return request("GET", url, timeout=2)[0] == 200


def stop(process, grace=10):
    """Ends the process group `process` leads: SIGTERM, then SIGKILL after `grace` seconds."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, None)):
        with contextlib.suppress(ProcessLookupError, subprocess.TimeoutExpired):
            if process and process.poll() is None:
                os.killpg(process.pid, sig)
                return process.wait(wait)


class Browser:
    """Headless Chromium through chromedriver's W3C WebDriver HTTP API; `close()` it (also done if starting fails)."""

    def __init__(self, profile):
        self.base, self.session = f"http://127.0.0.1:{free_port()}", None
        self.driver = subprocess.Popen([CHROMEDRIVER, f"--port={urlsplit(self.base).port}", "--allowed-ips=127.0.0.1"],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            wait_for(lambda: self.driver.poll() is None and answers_200(self.base + "/status"), "chromedriver to answer")
            options = {"binary": CHROMIUM, "args": CHROMIUM_ARGS + ["--user-data-dir=" + profile]}
            capabilities = {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": options}}
            self.session = self.call("POST", "/session", {"capabilities": capabilities})["sessionId"]
        except BaseException:
            self.close()
            raise

    def call(self, method, path, body=None, allow_error=False):
        prefix = "" if path == "/session" else f"/session/{self.session}"
        body = {} if body is None and method == "POST" else body
        status, raw = request(method, self.base + prefix + path, body, JSON, timeout=60)
        check(status < 400 or allow_error, f"WebDriver {method} {path} answered {status}: {raw[:300]!r}")
        return json.loads(raw or b"{}").get("value")

    def url(self):
        return self.call("GET", "/url")

    def path(self):
        return urlsplit(self.url()).path

    def go(self, url):
        self.call("POST", "/url", {"url": url})

    def find(self, css):
        """The first element matching `css` now, or None (no waiting)."""
        value = self.call("POST", "/element", {"using": "css selector", "value": css}, allow_error=True)
        return isinstance(value, dict) and value.get(ELEMENT) or None

    def element(self, css):
        return wait_for(lambda: self.find(css), lambda: f"'{css}' on {self.url()}", timeout=10)

    def text(self, css):
        return self.call("GET", f"/element/{self.element(css)}/text")

    def fill(self, css, text):
        element = self.element(css)
        self.call("POST", f"/element/{element}/clear")
        self.call("POST", f"/element/{element}/value", {"text": text})

    def click(self, css, navigates=True):
        """Clicks `css` (scrolled to the middle first: in a box that scrolls sideways too); when it navigates, waits
        until the page it was on is gone."""
        page, target = self.element("html"), self.element(css)
        self.script("arguments[0].scrollIntoView({block: 'center', inline: 'center'})", {ELEMENT: target})
        self.call("POST", f"/element/{target}/click")
        if navigates:
            wait_for(lambda: "error" in (self.call("GET", f"/element/{page}/name", allow_error=True) or {}),
                     lambda: f"clicking '{css}' to leave {self.url()}", timeout=15)

    def script(self, source, *args):
        return self.call("POST", "/execute/sync", {"script": source, "args": list(args)})

    def script_async(self, source, *args):
        """Runs `source`, whose last argument is the callback that ends it with its value."""
        return self.call("POST", "/execute/async", {"script": source, "args": list(args)})

    def cdp(self, command, params=None):
        """A Chrome DevTools Protocol command, through chromedriver's goog/cdp/execute."""
        return self.call("POST", "/goog/cdp/execute", {"cmd": command, "params": params or {}})

    def screenshot(self, path, full_page=True):
        """Saves a PNG of the viewport, or of the whole page's height at the viewport's width."""
        params = {"format": "png"}
        if full_page:
            width, height = self.script("return [window.innerWidth, document.documentElement.scrollHeight]")
            params.update(captureBeyondViewport=True, clip={"x": 0, "y": 0, "width": width, "height": height, "scale": 1})
        with open(path, "wb") as file:
            file.write(base64.b64decode(self.cdp("Page.captureScreenshot", params)["data"]))

    def close(self):
        with contextlib.suppress(OSError):
            if self.session:
                request("DELETE", f"{self.base}/session/{self.session}", timeout=15)
        stop(self.driver)
