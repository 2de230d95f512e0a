//! A scripted HTTP server on 127.0.0.1 for the client and inventory tests: it records every
//! request and answers each with what the script returns for it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use axum::Router;

/// A request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: Method,
    pub path: String,
    pub query: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Seen {
    /// The decoded value of a query parameter (the first, if repeated).
    pub fn param(&self, name: &str) -> Option<String> {
        self.params(name).into_iter().next()
    }

    pub fn params(&self, name: &str) -> Vec<String> {
        let url = reqwest::Url::parse(&format!("http://x/?{}", self.query)).unwrap();
        url.query_pairs()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .collect()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("request body is JSON")
    }
}

pub struct Reply {
    pub status: u16,
    pub body: String,
    pub headers: Vec<(&'static str, String)>,
    pub delay: Duration,
}

impl Reply {
    pub fn json(body: impl Into<String>) -> Self {
        Reply::status(200).body(body)
    }

    pub fn status(status: u16) -> Self {
        Reply {
            status,
            body: String::new(),
            headers: Vec::new(),
            delay: Duration::ZERO,
        }
    }

    pub fn body(mut self, body: impl Into<String>) -> Self {
        self.body = body.into();
        self
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn delay(mut self, d: Duration) -> Self {
        self.delay = d;
        self
    }
}

type Script = dyn Fn(&Seen, usize) -> Reply + Send + Sync;

struct Shared {
    seen: Mutex<Vec<Seen>>,
    script: Box<Script>,
}

pub struct Server {
    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub url: String,
    shared: Arc<Shared>,
}

impl Server {
    pub fn seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.shared.seen.lock().unwrap().len()
    }
}

/// Start a server whose answer to the n-th request (0-based) is `script(request, n)`.
pub async fn start(script: impl Fn(&Seen, usize) -> Reply + Send + Sync + 'static) -> Server {
    let shared = Arc::new(Shared {
        seen: Mutex::new(Vec::new()),
        script: Box::new(script),
    });
    let app = Router::new().fallback(handle).with_state(shared.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Server {
        url: format!("http://{addr}"),
        shared,
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let seen = Seen {
        method,
        path: uri.path().to_owned(),
        query: uri.query().unwrap_or("").to_owned(),
        headers,
        body: body.to_vec(),
    };
    let reply = {
        let mut log = shared.seen.lock().unwrap();
        let n = log.len();
        log.push(seen.clone());
        (shared.script)(&seen, n)
    };
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let mut resp = Response::builder().status(StatusCode::from_u16(reply.status).unwrap());
    if !reply.body.is_empty() {
        resp = resp.header("content-type", "application/json");
    }
    for (k, v) in reply.headers {
        resp = resp.header(k, v);
    }
    resp.body(Body::from(reply.body)).unwrap()
}
