//! Assembles guichet from its settings and runs it: the one code path shared by `main` and
//! the tests (which start it on port 0 with a temporary store).

use std::future::Future;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::adapters::http::{self, AppState};
use crate::config::Settings;
use crate::forwarders::Forwarders;
use crate::metrics::Metrics;
use crate::pipeline::Pipeline;
use crate::responses::Responses;
use crate::store::Store;
use crate::{outbox, watcher};

/// Opens the store and loads and checks every template.
///
/// # Errors
/// The store cannot be opened, or a template is missing or invalid.
pub fn build(settings: Settings) -> anyhow::Result<Arc<Pipeline>> {
    let responses = Responses::load(&settings.responses.dir)?;
    let store = Store::open(&settings.store.path)?;
    let pipeline = Pipeline::new(
        store,
        Arc::new(settings),
        responses,
        Arc::new(Metrics::default()),
    )
    .map_err(anyhow::Error::msg)?;
    Ok(Arc::new(pipeline))
}

/// Loads the settings from `config`, with `data_dir` replacing the store's path.
///
/// # Errors
/// The configuration is missing or invalid.
pub fn settings(config: &Path, data_dir: Option<&Path>) -> anyhow::Result<Settings> {
    let mut settings = Settings::load(config)?;
    if let Some(dir) = data_dir {
        settings.store.path = dir.to_path_buf();
    }
    Ok(settings)
}

/// Serves HTTP on `listener` and runs the SLA watcher and the outbox worker until
/// `shutdown` completes, then flushes the store.
///
/// # Errors
/// The server failed.
pub async fn run(
    listener: TcpListener,
    pipeline: Arc<Pipeline>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let forwarders = Arc::new(Forwarders::new(pipeline.settings())?);
    let watcher = tokio::spawn(watcher::run(Arc::clone(&pipeline), stop_rx.clone()));
    let outbox = tokio::spawn(outbox::run(Arc::clone(&pipeline), forwarders, stop_rx));
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .context("the HTTP client could not be built")?;
    let app = http::router(AppState {
        pipeline: Arc::clone(&pipeline),
        client,
    });
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .context("the HTTP server failed");
    let _ = stop_tx.send(true);
    let _ = watcher.await;
    let _ = outbox.await;
    pipeline.store().flush()?;
    served
}
