//! Assembles guichet from its settings and runs it: the one code path shared by `main` and
//! the tests (which start it on port 0 with a temporary store).
//!
//! The HTTP connections are served by hand (hyper-util) rather than by `axum::serve`, for
//! what a public inbox needs and `axum::serve` does not offer: a deadline on request heads
//! (which also closes idle kept-alive connections), a cap on connections served at once,
//! the peer's address for the flood limits, and a shutdown whose draining is bounded.

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tower::ServiceExt as _;

use crate::adapters::http::{self, AppState};
use crate::adapters::{desk, discord, messenger};
use crate::config::{ConfigSource, Settings};
use crate::domain::outbox::Destination;
use crate::forwarders::Forwarders;
use crate::metrics::Metrics;
use crate::pipeline::Pipeline;
use crate::responses::{Origin, Responses};
use crate::status::Connections;
use crate::store::Store;
use crate::{digest, outbox, watcher};

/// How long requests in flight may take to finish once shutdown starts.
const DRAIN: Duration = Duration::from_secs(5);
/// How long the background tasks may take to stop after the connections are closed.
const TASKS_STOP: Duration = Duration::from_secs(2);
/// How long a failed store keeps answering 503 before the process exits for a restart, so
/// that health checks and clients see why.
const FAILED_STORE_GRACE: Duration = Duration::from_secs(2);
/// How often idle keys are evicted from the flood limiters.
const LIMITER_SWEEP: Duration = Duration::from_secs(30);

/// Opens the store and loads and checks every template (see [`Origin::configured`]).
///
/// # Errors
/// The store cannot be opened, or a template is missing or invalid.
pub fn build(settings: Settings) -> anyhow::Result<Arc<Pipeline>> {
    let responses = Responses::load_from(Origin::configured(settings.responses.dir.as_deref()))?;
    let store = Store::open_with_cache(&settings.store.path, settings.store.cache_bytes())?;
    let pipeline = Pipeline::new(
        store,
        Arc::new(settings),
        responses,
        Arc::new(Metrics::default()),
    )
    .map_err(anyhow::Error::msg)?;
    Ok(Arc::new(pipeline))
}

/// Loads the settings over `config` (the embedded configuration, or a file), with
/// `data_dir` replacing the store's path.
///
/// # Errors
/// The configuration is missing or invalid.
pub fn settings(config: &ConfigSource, data_dir: Option<&Path>) -> anyhow::Result<Settings> {
    let mut settings = Settings::load_from(config)?;
    if let Some(dir) = data_dir {
        settings.store.path = dir.to_path_buf();
    }
    Ok(settings)
}

/// Serves HTTP on `listener` and runs the SLA watcher, the digest task and the outbox worker until
/// `shutdown` completes or the store fails a write, then drains and flushes the store.
///
/// # Errors
/// The server failed, or the store failed a write: the process should exit non-zero so
/// that its supervisor restarts it (sled cannot be reopened in the same process).
pub async fn run(
    listener: TcpListener,
    pipeline: Arc<Pipeline>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    pipeline
        .refuse_plaintext_destinations(chrono::Utc::now())
        .await?;
    pipeline
        .record_unfinished_rewrite(chrono::Utc::now())
        .await?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let retention = tokio::spawn(crate::retention::run(
        Arc::clone(&pipeline),
        stop_rx.clone(),
    ));
    let forwarders = Arc::new(Forwarders::new(pipeline.settings())?);
    let watcher = tokio::spawn(watcher::run(Arc::clone(&pipeline), stop_rx.clone()));
    let digests = tokio::spawn(digest::run(
        Arc::clone(&pipeline),
        Arc::new(digest::SystemClock),
        stop_rx.clone(),
    ));
    let outbox = tokio::spawn(outbox::run(
        Arc::clone(&pipeline),
        Arc::clone(&forwarders),
        stop_rx.clone(),
    ));
    let messenger = &pipeline.settings().channels.messenger;
    if messenger.enabled() {
        let timeout = Duration::from_secs(pipeline.settings().outbox.request_timeout_seconds);
        let api = messenger::send::SendApi::new(messenger, timeout)?;
        forwarders.register(Destination::Messenger, Arc::new(messenger::Replies(api)));
    }
    let connections = Arc::new(Connections::default());
    // Without a token nothing Discord-related starts: no connection is attempted.
    let discord = pipeline.settings().channels.discord.enabled().then(|| {
        tokio::spawn(discord::gateway::run(
            Arc::clone(&pipeline),
            forwarders,
            Arc::clone(&connections),
            stop_rx.clone(),
        ))
    });
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .context("the HTTP client could not be built")?;
    let state = AppState::new(Arc::clone(&pipeline), client, connections)?;
    let sweeper = tokio::spawn(sweep_limiters(state.clone(), stop_rx));
    // Platforms' webhooks: without their secrets the routes do not exist (404).
    let platforms = if pipeline.settings().channels.messenger.enabled() {
        messenger::routes::router(Arc::clone(&pipeline))
    } else {
        axum::Router::new()
    };
    let platforms = platforms.merge(desk::router(Arc::clone(&pipeline)));
    let app = http::router(state, platforms);

    let store = pipeline.store().clone();
    let store_failed = async move {
        store.failed().await;
        // Keep answering 503 for a moment, so that health checks and clients see why.
        tokio::time::sleep(FAILED_STORE_GRACE).await;
    };
    let stopped_by = serve(listener, app, pipeline.settings(), shutdown, store_failed).await;

    let _ = stop_tx.send(true);
    for task in [watcher, digests, outbox, sweeper, retention]
        .into_iter()
        .chain(discord)
    {
        if tokio::time::timeout(TASKS_STOP, task).await.is_err() {
            tracing::warn!("a background task did not stop in time");
        }
    }
    if let Some(reason) = pipeline.store().failure() {
        anyhow::bail!("the store failed a write ({reason}); guichet stops so that it can be restarted once the disk is usable");
    }
    pipeline.store().flush()?;
    // Once every handle is let go, sled writes its snapshot: the next command opens the store
    // without replaying what this run wrote.
    if let Some(dir) = pipeline.store().dir() {
        drop(pipeline);
        let started = std::time::Instant::now();
        // sled replays the run's log here: off the async workers, as other store work is.
        let checkpoint = tokio::task::spawn_blocking(move || Store::checkpoint(&dir))
            .await
            .unwrap_or(Ok(false));
        match checkpoint {
            Ok(true) => tracing::info!(
                elapsed_ms = started.elapsed().as_millis() as u64,
                "the store's snapshot is written"
            ),
            Ok(false) => tracing::debug!("the store is still held: its snapshot waits"),
            Err(e) => tracing::warn!(error = %e, "the store's snapshot could not be written"),
        }
    }
    stopped_by
}

/// Accepts connections until `shutdown` or `failed` completes, then lets the requests in
/// flight finish for at most [`DRAIN`].
async fn serve(
    listener: TcpListener,
    app: axum::Router,
    settings: &Settings,
    shutdown: impl Future<Output = ()> + Send + 'static,
    failed: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let http = &settings.http;
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(http.header_timeout_seconds))
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Duration::from_secs(http.header_timeout_seconds))
        .keep_alive_timeout(Duration::from_secs(http.header_timeout_seconds))
        .max_concurrent_streams(64);
    let slots = Arc::new(Semaphore::new(http.max_connections));
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    tokio::pin!(failed);
    loop {
        // At the cap, wait for a connection to end before accepting: the others wait in the
        // kernel's listen queue instead of being accepted and starved.
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => slot.context("the connection limit closed")?,
            () = &mut shutdown => break,
            () = &mut failed => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before it was accepted:
                    // wait a moment rather than spin.
                    tracing::warn!(error = %e, "a connection could not be accepted");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
            () = &mut failed => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<_>| {
            request
                .extensions_mut()
                .insert(ConnectInfo::<SocketAddr>(peer));
            app.clone().oneshot(request)
        });
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            "requests still in flight after {} s were cut short",
            DRAIN.as_secs()
        );
    }
    Ok(())
}

/// Forgets flood-limiter keys that are back to a full allowance, so that a stream of new
/// senders or addresses does not grow memory for ever.
async fn sweep_limiters(state: AppState, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(LIMITER_SWEEP) => state.forget_idle_clients(),
            _ = stop.changed() => return,
        }
    }
}
