//! Starting guichet for a test: in-process on port 0, or as the real binary.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use guichet::config::{Secret, Settings};
use guichet::pipeline::Pipeline;
use serde_json::{json, Value};
use tokio::sync::oneshot;

pub const TOKEN: &str = "test-staff-token";

/// The shipped configuration, as every test starts from it.
pub fn default_settings() -> Settings {
    Settings::load(&manifest().join("config/default.toml"))
        .expect("the shipped configuration loads")
}

pub fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub struct TestApp {
    pub address: SocketAddr,
    pub client: reqwest::Client,
    pub pipeline: Arc<Pipeline>,
    _dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// guichet on 127.0.0.1:0 with a fresh store and a staff token.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut settings = default_settings();
    settings.store.path = dir.path().join("store");
    settings.responses.dir = Some(manifest().join("responses"));
    settings.staff.token = Secret::new(TOKEN);
    // Every test client writes from 127.0.0.1: the per-address flood limit has its own test.
    settings.flood.per_address_burst = 1_000_000;
    adjust(&mut settings);
    let pipeline = guichet::server::build(settings).expect("guichet builds");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let p = Arc::clone(&pipeline);
    tokio::spawn(async move {
        let _ = guichet::server::run(listener, p, async {
            let _ = stopped.await;
        })
        .await;
    });
    TestApp {
        address,
        client: reqwest::Client::new(),
        pipeline,
        _dir: dir,
        stop: Some(stop),
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.address, path)
    }

    /// POST /api/messages; returns the status and the JSON body.
    pub async fn post_message(&self, body: Value) -> (u16, Value) {
        send(self.client.post(self.url("/api/messages")).json(&body)).await
    }

    pub async fn post_raw(&self, body: impl Into<reqwest::Body>) -> (u16, Value) {
        let request = self.client.post(self.url("/api/messages"));
        send(
            request
                .header("content-type", "application/json")
                .body(body),
        )
        .await
    }

    /// A staff GET with the token.
    pub async fn staff_get(&self, path: &str) -> (u16, Value) {
        send(self.client.get(self.url(path)).bearer_auth(TOKEN)).await
    }

    /// A staff POST with the token.
    pub async fn staff_post(&self, path: &str, body: Value) -> (u16, Value) {
        send(
            self.client
                .post(self.url(path))
                .bearer_auth(TOKEN)
                .json(&body),
        )
        .await
    }

    /// Every thread in the store, whatever its state.
    pub async fn all_threads(&self) -> Vec<Value> {
        let mut threads = Vec::new();
        let mut path = "/api/threads?state=all&limit=1000".to_owned();
        loop {
            let (status, body) = self.staff_get(&path).await;
            assert_eq!(status, 200, "{body}");
            threads.extend(body["threads"].as_array().cloned().unwrap_or_default());
            match body["next_cursor"].as_str() {
                Some(c) => path = format!("/api/threads?state=all&limit=1000&cursor={c}"),
                None => return threads,
            }
        }
    }
}

/// Sends a request; returns the status and the JSON body (null when there is none).
pub async fn send(request: reqwest::RequestBuilder) -> (u16, Value) {
    let r = request.send().await.expect("the server answers");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Sends a request; returns the body as text (the Prometheus page).
pub async fn text(request: reqwest::RequestBuilder) -> String {
    let r = request.send().await.expect("the server answers");
    r.text().await.expect("a text body")
}

pub fn message(sender: &str, text: &str) -> Value {
    json!({ "sender": sender, "text": text })
}

/// The real `guichet` binary, serving on a port of its own choice with `data_dir`.
pub struct Served {
    pub child: Child,
    pub address: SocketAddr,
}

impl Served {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.address, path)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn guichet(data_dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_guichet"));
    cmd.current_dir(manifest())
        .arg("--data-dir")
        .arg(data_dir)
        .env("GUICHET__STAFF__TOKEN", TOKEN)
        .env("GUICHET__FLOOD__PER_ADDRESS_BURST", "1000000")
        .env("RUST_LOG", "warn");
    cmd
}

/// Starts `guichet serve` and waits for the address it announces.
pub fn serve(data_dir: &Path) -> Served {
    serve_with(data_dir, &[])
}

/// `serve` with extra environment variables (`GUICHET__…` settings).
pub fn serve_with(data_dir: &Path, env: &[(&str, String)]) -> Served {
    let mut cmd = guichet(data_dir);
    for (key, value) in env {
        cmd.env(key, value);
    }
    spawn_serve(cmd)
}

/// Runs `cmd serve --listen 127.0.0.1:0` and waits for the address it announces.
pub fn spawn_serve(mut cmd: Command) -> Served {
    let mut child = cmd
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let stderr = child.stderr.take().expect("piped stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(addr) = line.strip_prefix("guichet listening on http://") {
                let _ = tx.send(addr.trim().to_owned());
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("guichet announces its address within 30 s");
    Served {
        child,
        address: addr.parse().expect("a socket address"),
    }
}

/// The real `guichet` binary run in `cwd`, with nothing but the staff token: no `--config`,
/// no `--data-dir`, as a coordinator would type it anywhere.
pub fn guichet_in(cwd: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_guichet"));
    cmd.current_dir(cwd)
        .env_remove("GUICHET_CONFIG")
        .env("GUICHET__STAFF__TOKEN", TOKEN)
        .env("RUST_LOG", "warn");
    cmd
}

/// Polls `check` until it holds or `timeout` passes.
pub async fn eventually<F, Fut>(timeout: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while start.elapsed() < timeout {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}
