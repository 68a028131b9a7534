//! A small W3C WebDriver client over HTTP, enough to drive the app through tauri-driver.

use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};

/// The W3C key under which an element reference is returned.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

pub struct Session {
    http: reqwest::Client,
    base: String,
}

#[derive(Clone)]
pub struct Element(String);

impl Session {
    /// Starts the app at `application` through the driver listening on `driver_url`.
    pub async fn start(driver_url: &str, application: &std::path::Path) -> Result<Self> {
        slipway::http::install_tls();
        let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build()?;
        let capabilities = json!({
            "capabilities": { "alwaysMatch": { "tauri:options": { "application": application } } }
        });
        // tauri-driver drops the request when WebKitWebDriver is still starting (or closed their
        // kept-alive connection under it): asked again, as the installed-package check does.
        let mut attempt = 0;
        let answer: Value = loop {
            attempt += 1;
            match http
                .post(format!("{driver_url}/session"))
                .json(&capabilities)
                .send()
                .await
            {
                Ok(response) => break response.json().await?,
                Err(error) if attempt < 3 && (error.is_request() || error.is_connect()) => {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err(error) => return Err(error.into()),
            }
        };
        let id = answer["value"]["sessionId"]
            .as_str()
            .ok_or_else(|| format!("the driver did not start a session: {answer}"))?;
        Ok(Self {
            http,
            base: format!("{driver_url}/session/{id}"),
        })
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value> {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer: Value = request.send().await?.json().await?;
        if let Some(error) = answer["value"]["error"].as_str() {
            return Err(format!("{error}: {}", answer["value"]["message"]).into());
        }
        Ok(answer["value"].clone())
    }

    /// Finds the first element matching an XPath, waiting up to `seconds` for it.
    pub async fn wait_for(&self, xpath: &str, seconds: u64) -> Result<Element> {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        loop {
            let found = self
                .send(
                    reqwest::Method::POST,
                    "/element",
                    Some(json!({ "using": "xpath", "value": xpath })),
                )
                .await;
            match found {
                Ok(value) => {
                    let id = value[ELEMENT_KEY].as_str().ok_or("an element without an id")?;
                    return Ok(Element(id.to_owned()));
                }
                Err(error) if Instant::now() >= deadline => {
                    return Err(format!("{xpath} did not appear within {seconds}s: {error}").into())
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }

    /// True when nothing matches the XPath right now.
    pub async fn absent(&self, xpath: &str) -> Result<bool> {
        let found = self
            .send(
                reqwest::Method::POST,
                "/elements",
                Some(json!({ "using": "xpath", "value": xpath })),
            )
            .await?;
        Ok(found.as_array().is_some_and(|items| items.is_empty()))
    }

    pub async fn click(&self, element: &Element) -> Result<()> {
        self.send(
            reqwest::Method::POST,
            &format!("/element/{}/click", element.0),
            Some(json!({})),
        )
        .await
        .map(drop)
    }

    pub async fn type_text(&self, element: &Element, text: &str) -> Result<()> {
        self.send(
            reqwest::Method::POST,
            &format!("/element/{}/value", element.0),
            Some(json!({ "text": text })),
        )
        .await
        .map(drop)
    }

    pub async fn text(&self, element: &Element) -> Result<String> {
        let value = self
            .send(reqwest::Method::GET, &format!("/element/{}/text", element.0), None)
            .await?;
        Ok(value.as_str().unwrap_or_default().to_owned())
    }

    /// Runs a script in the page and returns its value.
    pub async fn execute(&self, script: &str) -> Result<Value> {
        self.send(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
        .await
    }

    /// Resizes the window as a person would drag it (W3C Set Window Rect).
    pub async fn set_window_size(&self, width: u32, height: u32) -> Result<()> {
        self.send(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({ "width": width, "height": height })),
        )
        .await
        .map(drop)
    }

    /// Moves the window as a person would drag it (W3C Set Window Rect).
    pub async fn set_window_position(&self, x: i32, y: i32) -> Result<()> {
        self.send(reqwest::Method::POST, "/window/rect", Some(json!({ "x": x, "y": y })))
            .await
            .map(drop)
    }

    /// The window's place and size: `[x, y, width, height]` (W3C Get Window Rect).
    pub async fn window_rect(&self) -> Result<[i64; 4]> {
        let rect = self.send(reqwest::Method::GET, "/window/rect", None).await?;
        let field = |name: &str| {
            rect[name]
                .as_i64()
                .ok_or(format!("the window's rect has no {name}: {rect}"))
        };
        Ok([field("x")?, field("y")?, field("width")?, field("height")?])
    }

    /// A PNG of the window.
    pub async fn screenshot(&self) -> Result<Vec<u8>> {
        // WebKitGTK without compositing (Slipway's mode on a machine without a GPU) takes a
        // screenshot after its next paint, and a page with nothing changing never paints
        // again: the command would wait forever. One corner pixel, nearly clear, changes
        // for a couple of seconds, then goes.
        self.execute(
            "const pixel = document.createElement('div'); \
             pixel.style.cssText = 'position:fixed;left:0;top:0;width:1px;height:1px;pointer-events:none'; \
             document.body.append(pixel); let frames = 0; \
             const change = () => { pixel.style.background = frames++ % 2 ? 'rgb(0 0 0 / 0.01)' : 'transparent'; \
               if (frames < 120) requestAnimationFrame(change); else pixel.remove(); }; \
             requestAnimationFrame(change); return true;",
        )
        .await?;
        let value = self.send(reqwest::Method::GET, "/screenshot", None).await?;
        let encoded = value.as_str().ok_or("the screenshot is not base64 text")?;
        Ok(base64::engine::general_purpose::STANDARD.decode(encoded)?)
    }

    /// Ends the session, which closes the app.
    pub async fn end(self) -> Result<()> {
        self.http.delete(&self.base).send().await?;
        Ok(())
    }
}
