//! A real headless Chromium driven over the W3C WebDriver protocol (Debian's `chromium` and `chromedriver`,
//! installed by `tests/setup.sh`). Only what the dashboard's tests need: open a page, run a script in it,
//! wait for a condition, read the console, take a screenshot.
//!
//! The browser is kept off the network: no background services, no first-run fetches, and a resolver that
//! answers no name but `localhost` (and maps no address but 127.0.0.1), so the only address it ever reaches is the loopback one it is given.

use super::process::{Supervised, free_port, wait_until};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

pub struct Browser {
    http: reqwest::Client,
    /// `http://127.0.0.1:PORT/session/ID`.
    session: String,
    // Dropped last: the driver (and the browser in its process group) is killed when the session is done.
    _driver: Supervised,
}

const CHROME_ARGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox", // the suite may run as root
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
    "--window-size=1400,1000",
];

impl Browser {
    pub async fn start(dir: &Path) -> Result<Browser, String> {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        let port = free_port();
        let mut cmd = Command::new("chromedriver");
        cmd.arg(format!("--port={port}")).arg("--allowed-ips=127.0.0.1");
        let mut driver = Supervised::spawn("chromedriver", cmd, &dir.join("chromedriver.log"))?;
        let http = reqwest::Client::builder().no_proxy().build().map_err(|e| e.to_string())?;
        let base = format!("http://127.0.0.1:{port}");
        wait_until("chromedriver", Duration::from_secs(30), &mut driver, || async {
            http.get(format!("{base}/status")).send().await.is_ok_and(|r| r.status().is_success())
        })
        .await?;
        let profile = dir.join("profile");
        let mut args: Vec<String> = CHROME_ARGS.iter().map(|a| a.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium(), "args": args},
            // The console, as the page's developer would see it: errors, CSP violations, uncaught exceptions.
            "goog:loggingPrefs": {"browser": "ALL"},
        }}});
        let created = post(&http, &format!("{base}/session"), &capabilities).await?;
        let id = created["sessionId"].as_str().ok_or_else(|| format!("no session: {created}"))?;
        Ok(Browser { http, session: format!("{base}/session/{id}"), _driver: driver })
    }

    pub async fn goto(&self, url: &str) -> Result<(), String> {
        post(&self.http, &format!("{}/url", self.session), &json!({ "url": url })).await.map(drop)
    }

    /// Runs `body` (a function body: `return ...`) in the page and returns its value.
    pub async fn eval(&self, body: &str) -> Result<Value, String> {
        post(&self.http, &format!("{}/execute/sync", self.session), &json!({"script": body, "args": []})).await
    }

    /// Polls `body` until it returns something truthy (which is returned), for at most `timeout`.
    pub async fn wait_for(&self, what: &str, body: &str, timeout: Duration) -> Result<Value, String> {
        let deadline = Instant::now() + timeout;
        loop {
            let value = self.eval(body).await?;
            if !matches!(value, Value::Null | Value::Bool(false)) && value != json!("") && value != json!(0) {
                return Ok(value);
            }
            if Instant::now() > deadline {
                return Err(format!("{what}: not so after {timeout:?}; console: {:?}", self.console().await));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The console entries since the last call, as `LEVEL message`.
    pub async fn console(&self) -> Result<Vec<String>, String> {
        let log = post(&self.http, &format!("{}/se/log", self.session), &json!({"type": "browser"})).await?;
        let entries = log.as_array().ok_or_else(|| format!("no log: {log}"))?;
        Ok(entries
            .iter()
            .map(|e| format!("{} {}", e["level"].as_str().unwrap_or("?"), e["message"].as_str().unwrap_or("")))
            .collect())
    }

    /// The viewport as PNG.
    pub async fn screenshot(&self) -> Result<Vec<u8>, String> {
        let answer = self.http.get(format!("{}/screenshot", self.session)).send().await;
        let value = value_of(answer).await?;
        use base64::Engine;
        let text = value.as_str().ok_or("no screenshot")?;
        base64::engine::general_purpose::STANDARD.decode(text).map_err(|e| e.to_string())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Closing the session lets Chromium remove its profile's lock; the driver is killed right after anyway.
        let (http, session) = (self.http.clone(), self.session.clone());
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
            if let Ok(runtime) = runtime {
                runtime.block_on(async {
                    let _ = tokio::time::timeout(Duration::from_secs(5), http.delete(session).send()).await;
                });
            }
        })
        .join();
    }
}

fn chromium() -> String {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .unwrap_or("chromium")
        .to_string()
}

async fn post(http: &reqwest::Client, url: &str, body: &Value) -> Result<Value, String> {
    value_of(http.post(url).json(body).send().await).await
}

/// The `value` of a WebDriver answer, or its error.
async fn value_of(answer: reqwest::Result<reqwest::Response>) -> Result<Value, String> {
    let answer = answer.map_err(|e| format!("webdriver: {e}"))?;
    let status = answer.status();
    let mut body: Value = answer.json().await.map_err(|e| format!("webdriver: {e}"))?;
    if !status.is_success() {
        return Err(format!("webdriver {status}: {}", body["value"]));
    }
    Ok(body.get_mut("value").map(Value::take).unwrap_or(body))
}
