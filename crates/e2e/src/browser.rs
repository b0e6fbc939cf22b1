//! A real headless Chromium driven through the DevTools protocol, for the
//! tests of pages a learner opens in a browser.
//!
//! The browser is `CHROME_PATH` when set (GitHub's workflow sets it to the
//! Chrome its setup action installs), else Debian's `chromium` package; if
//! that is missing and the tests run as root, it is installed with apt-get
//! (otherwise the test fails saying how to install it). The flags are the
//! ones a container or a CI runner needs: no sandbox (root), no GPU, and
//! none of Chromium's background connections, which a closed network
//! refuses.

use std::{
    net::TcpStream,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use serde_json::{json, Value};
use tungstenite::{stream::MaybeTlsStream, Message, WebSocket};

/// Debian's Chromium, used when `CHROME_PATH` is not set.
const CHROMIUM: &str = "/usr/bin/chromium";

/// The browser the tests drive: `CHROME_PATH`, or Debian's Chromium,
/// installed first if it is missing and the tests run as root.
pub fn ensure_chromium() -> PathBuf {
    if let Some(given) = std::env::var_os("CHROME_PATH").filter(|p| !p.is_empty()) {
        let given = PathBuf::from(given);
        assert!(
            given.is_file(),
            "CHROME_PATH={} is not a file",
            given.display()
        );
        return given;
    }
    if Path::new(CHROMIUM).exists() {
        return PathBuf::from(CHROMIUM);
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    assert!(
        root,
        "{CHROMIUM} is missing and the tests are not root: run `sudo apt-get install -y \
         chromium`, or set CHROME_PATH to a Chrome or Chromium"
    );
    for args in [
        &["update", "-qq"][..],
        &[
            "install",
            "-y",
            "-qq",
            "--no-install-recommends",
            "chromium",
        ][..],
    ] {
        let status = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(Stdio::null())
            .status()
            .expect("apt-get runs");
        assert!(
            status.success(),
            "apt-get {args:?} failed: install chromium by hand"
        );
    }
    PathBuf::from(CHROMIUM)
}

/// One headless Chromium with one tab, killed on drop.
#[derive(Debug)]
pub struct Browser {
    child: Child,
    socket: WebSocket<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts Chromium on `about:blank` and connects to its tab.
    pub fn launch() -> Self {
        let chromium = ensure_chromium();
        let profile = tempfile::tempdir().expect("a temporary profile folder");
        let child = Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--remote-debugging-port=0",
                "--window-size=1200,900",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromium starts");
        // Chromium writes the port it chose into the profile folder.
        let port_file = profile.path().join("DevToolsActivePort");
        let port: u16 =
            crate::wait_until("chromium's DevTools port", Duration::from_secs(30), || {
                std::fs::read_to_string(&port_file)
                    .ok()
                    .and_then(|text| text.lines().next()?.trim().parse().ok())
            });
        let targets = crate::wait_until("chromium's tab", Duration::from_secs(30), || {
            let answer = crate::http::try_get(&format!("http://127.0.0.1:{port}/json/list"))?;
            let list: Value = serde_json::from_str(&answer.body).ok()?;
            list.as_array()?
                .iter()
                .find(|t| t["type"] == "page")
                .and_then(|t| t["webSocketDebuggerUrl"].as_str().map(str::to_owned))
        });
        let (socket, _) = tungstenite::connect(targets.as_str()).expect("DevTools WebSocket");
        if let MaybeTlsStream::Plain(stream) = socket.get_ref() {
            stream
                .set_read_timeout(Some(Duration::from_secs(30)))
                .expect("a read timeout");
        }
        Self {
            child,
            socket,
            next_id: 0,
            _profile: profile,
        }
    }

    /// Sends a DevTools command and returns its `result`.
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let message = json!({"id": id, "method": method, "params": params}).to_string();
        self.socket
            .send(Message::text(message))
            .expect("send to DevTools");
        loop {
            let message = self.socket.read().expect("read from DevTools");
            let Message::Text(text) = message else {
                continue;
            };
            let value: Value = serde_json::from_str(text.as_str()).expect("DevTools JSON");
            if value["id"] == id {
                assert!(value.get("error").is_none(), "{method}: {value}");
                return value["result"].clone();
            }
        }
    }

    /// Opens `url` in the tab and waits until its document has loaded:
    /// `Page.navigate` answers as soon as navigation starts, so a query
    /// made straight after it may still see the old, empty page.
    #[track_caller]
    pub fn goto(&mut self, url: &str) {
        self.call("Page.navigate", json!({"url": url}));
        self.wait_for(
            &format!("{url} to load"),
            &format!("location.href === {url:?} && document.readyState === 'complete'"),
        );
    }

    /// Evaluates JavaScript in the page (awaiting a promise) and returns
    /// its value; a thrown exception fails the test.
    pub fn eval(&mut self, expression: &str) -> Value {
        let result = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "awaitPromise": true, "returnByValue": true}),
        );
        assert!(
            result.get("exceptionDetails").is_none(),
            "`{expression}` threw: {}",
            result["exceptionDetails"]
        );
        result["result"]["value"].clone()
    }

    /// Polls `expression` until it is truthy; returns its value.
    #[track_caller]
    pub fn wait_for(&mut self, what: &str, expression: &str) -> Value {
        crate::wait_until(what, Duration::from_secs(15), || {
            let value = self.eval(expression);
            let truthy = !matches!(&value, Value::Null | Value::Bool(false))
                && value != json!("")
                && value != json!(0);
            truthy.then_some(value)
        })
    }

    /// A PNG of the page, base64-encoded as DevTools sends it.
    pub fn screenshot_base64(&mut self) -> String {
        self.call("Page.captureScreenshot", json!({"format": "png"}))["data"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
