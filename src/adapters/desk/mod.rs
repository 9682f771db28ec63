//! The web desk at `/desk`: server-rendered pages for agents and coordinators — the queue
//! (overdue and at-risk threads first), a thread with its messages and audit trail and the
//! forms to answer, claim, resolve and recategorise it, and the report with its charts.
//!
//! Plain HTML forms, no JavaScript. A staff token signs in once; the desk then keeps a session
//! cookie (`HttpOnly`, `SameSite=Strict`, `Secure` over HTTPS, expiring after
//! `desk.session_hours`). Every form carries the session's CSRF token, and a POST whose token
//! is not the session's is refused with 403 before anything is read or changed; the sign-in
//! form, before any session, is checked against a cookie of its own (double submit). Actions
//! are recorded under the signed-in member's name; the report and the export are the
//! coordinators' and are neither shown nor served to agents.
//!
//! French first; English by a switch kept in the session. The templates are compiled into the
//! binary. The pages read and act through the pipeline only.

mod chart;
mod text;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use minijinja::{context, Environment, Value};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::domain::export::{self, date_range};
use crate::domain::message::MessageText;
use crate::domain::privacy::NEARING_DAYS;
use crate::domain::session::{self, Session};
use crate::domain::sla::SlaStatus;
use crate::domain::staff::{Actor, Role};
use crate::domain::thread::ThreadId;
use crate::domain::{Category, Language};
use crate::pipeline::{Pipeline, PipelineError};
use crate::staff::{Cursor, Filter, Summary};

/// The session cookie, and the sign-in form's own.
const COOKIE: &str = "guichet_desk";
const SIGN_IN_COOKIE: &str = "guichet_desk_sign_in";

/// Threads on a page of the queue, and at most how many are read to fill one when filters
/// leave most out (the next page goes on from there).
const PAGE: usize = 50;
const SCAN: usize = 2000;

const TEMPLATES: [(&str, &str); 7] = [
    ("base.html", include_str!("templates/base.html")),
    ("sign_in.html", include_str!("templates/sign_in.html")),
    ("queue.html", include_str!("templates/queue.html")),
    ("thread.html", include_str!("templates/thread.html")),
    ("report.html", include_str!("templates/report.html")),
    ("error.html", include_str!("templates/error.html")),
    ("privacy.html", include_str!("templates/privacy.html")),
];

/// The queue's views: `queue` (overdue, then at risk, then the other open threads), or one
/// of the staff API's lists.
const VIEWS: [&str; 7] = [
    "queue", "open", "at_risk", "overdue", "answered", "resolved", "all",
];

#[derive(Clone)]
struct Desk {
    pipeline: Arc<Pipeline>,
    pages: Arc<Environment<'static>>,
}

/// The desk's routes, under `/desk`.
///
/// # Panics
/// A shipped template does not compile (a unit test renders each).
pub fn router(pipeline: Arc<Pipeline>) -> Router {
    let desk = Desk {
        pipeline,
        pages: Arc::new(environment()),
    };
    Router::new()
        .route("/desk", get(|| async { Redirect::to("/desk/queue") }))
        .route("/desk/sign-in", get(sign_in_page).post(sign_in))
        .route("/desk/sign-out", post(sign_out))
        .route("/desk/language", post(language))
        .route("/desk/queue", get(queue))
        .route("/desk/threads/{id}", get(thread))
        .route("/desk/threads/{id}/{action}", post(act))
        .route("/desk/report", get(report))
        .route("/desk/export.csv", get(export_csv))
        .route("/desk/privacy", get(privacy))
        .with_state(desk)
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    for (name, source) in TEMPLATES {
        env.add_template(name, source)
            .unwrap_or_else(|e| panic!("the desk template {name} does not compile: {e}"));
    }
    env
}

/// Who is signed in, through which session.
struct Signed {
    id: String,
    session: Session,
    actor: Actor,
}

/// A refusal or a failure, as a page in the reader's language.
struct Problem {
    status: StatusCode,
    /// The key of its sentence (`err_<key>`).
    key: &'static str,
    detail: String,
}

impl Problem {
    fn new(status: StatusCode, key: &'static str) -> Problem {
        Problem {
            status,
            key,
            detail: String::new(),
        }
    }

    fn bad(detail: impl Into<String>) -> Problem {
        Problem {
            detail: detail.into(),
            ..Problem::new(StatusCode::BAD_REQUEST, "bad_request")
        }
    }

    fn csrf() -> Problem {
        Problem::new(StatusCode::FORBIDDEN, "csrf")
    }
}

impl From<PipelineError> for Problem {
    fn from(e: PipelineError) -> Problem {
        match e {
            PipelineError::UnknownThread(_) => Problem::new(StatusCode::NOT_FOUND, "not_found"),
            PipelineError::Transition(t) => Problem {
                detail: t.to_string(),
                ..Problem::new(StatusCode::CONFLICT, "conflict")
            },
            e if e.is_unavailable() => Problem::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            other => {
                tracing::error!(error = %other, "a desk request failed");
                Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "failed")
            }
        }
    }
}

/// Either a page or, for no session, the way to the sign-in page.
enum Refusal {
    SignIn,
    Problem(Problem),
}

impl From<Problem> for Refusal {
    fn from(p: Problem) -> Refusal {
        Refusal::Problem(p)
    }
}

impl From<PipelineError> for Refusal {
    fn from(e: PipelineError) -> Refusal {
        Refusal::Problem(e.into())
    }
}

impl Desk {
    fn settings(&self) -> &crate::config::Settings {
        self.pipeline.settings()
    }

    fn local(&self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.settings().city.timezone)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    }

    /// The signed-in member of a request's session cookie.
    fn signed(&self, headers: &HeaderMap) -> Result<Signed, Refusal> {
        let Some(id) = cookie(headers, COOKIE) else {
            return Err(Refusal::SignIn);
        };
        match self.pipeline.session(&id, Utc::now())? {
            Some((session, actor)) => Ok(Signed { id, session, actor }),
            None => Err(Refusal::SignIn),
        }
    }

    /// A page: `name` with the layout's variables and `extra`.
    fn page(
        &self,
        status: StatusCode,
        name: &str,
        language: Language,
        signed: Option<&Signed>,
        here: &str,
        extra: Value,
    ) -> Response {
        let layout = context! {
            lang => language.as_str(),
            t => text::table(language),
            city => self.settings().city.name.clone(),
            member => signed.map(|s| s.actor.name.clone()),
            role => signed.map(|s| s.actor.role.as_str()),
            coordinator => signed.is_some_and(|s| s.actor.role == Role::Coordinator),
            csrf => signed.map(|s| s.session.csrf.clone()),
            here => here,
        };
        // The page's own values come first: they win over the layout's of the same name.
        let ctx = context! { ..extra, ..layout };
        let rendered = self.pages.get_template(name).and_then(|t| t.render(ctx));
        match rendered {
            Ok(html) => html_response(status, html),
            Err(e) => {
                tracing::error!(error = %e, template = name, "a desk page could not be rendered");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the page could not be rendered",
                )
                    .into_response()
            }
        }
    }

    fn problem(&self, p: Problem, signed: Option<&Signed>, language: Language) -> Response {
        self.page(
            p.status,
            "error.html",
            language,
            signed,
            "/desk/queue",
            context! { problem => p.key, detail => p.detail },
        )
    }

    /// Answers a refusal: the sign-in page for no session, else the problem's page.
    fn refuse(&self, r: Refusal, signed: Option<&Signed>) -> Response {
        match r {
            Refusal::SignIn => Redirect::to("/desk/sign-in").into_response(),
            Refusal::Problem(p) => {
                let language = signed.map_or(Language::Fr, |s| s.session.language);
                self.problem(p, signed, language)
            }
        }
    }

    /// The session cookie's attributes: `Secure` when configured, or when the request came
    /// over HTTPS through a trusted proxy.
    fn cookie_attributes(&self, request: &RequestInfo, max_age: i64) -> String {
        let mut attributes = format!("; Path=/desk; HttpOnly; SameSite=Strict; Max-Age={max_age}");
        let trusted = request
            .peer
            .is_some_and(|p| self.settings().http.trusted_proxies.contains(&p.ip()));
        let forwarded_https = trusted
            && request
                .headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"));
        if self.settings().desk.secure_cookie || forwarded_https {
            attributes.push_str("; Secure");
        }
        attributes
    }

    /// Reads a form's body within the configured limit.
    async fn form<T: DeserializeOwned>(&self, body: Body) -> Result<T, Problem> {
        let limit = self.settings().http.max_body_bytes;
        let bytes = to_bytes(body, limit).await.map_err(|_| Problem {
            detail: format!("{limit} bytes at most"),
            ..Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "bad_request")
        })?;
        serde_urlencoded::from_bytes(&bytes).map_err(|e| Problem::bad(e.to_string()))
    }
}

/// What the handlers need of a request besides its body.
struct RequestInfo {
    headers: HeaderMap,
    peer: Option<SocketAddr>,
    /// Path and query, to come back to after switching languages.
    here: String,
}

impl RequestInfo {
    fn of(request: Request) -> (RequestInfo, Body) {
        let (parts, body) = request.into_parts();
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0);
        let here = parts
            .uri
            .path_and_query()
            .map_or("/desk/queue".to_owned(), |p| p.as_str().to_owned());
        (
            RequestInfo {
                headers: parts.headers,
                peer,
                here,
            },
            body,
        )
    }
}

fn html_response(status: StatusCode, html: String) -> Response {
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    secure_headers(headers);
    response
}

/// Pages are never cached, framed, or allowed scripts.
fn secure_headers(headers: &mut HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
}

/// The value of cookie `name`.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

fn see_other(to: &str, cookies: &[String]) -> Response {
    let mut response = Redirect::to(to).into_response();
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    secure_headers(response.headers_mut());
    response
}

fn parse_language(raw: Option<&str>) -> Language {
    match raw.map(str::trim) {
        Some("en") => Language::En,
        _ => Language::Fr,
    }
}

#[derive(Deserialize)]
struct SignInQuery {
    language: Option<String>,
    signed_out: Option<String>,
}

async fn sign_in_page(State(desk): State<Desk>, request: Request) -> Response {
    let q: SignInQuery = Query::try_from_uri(request.uri())
        .map(|q| q.0)
        .unwrap_or(SignInQuery {
            language: None,
            signed_out: None,
        });
    let (info, _) = RequestInfo::of(request);
    if desk.signed(&info.headers).is_ok() {
        return Redirect::to("/desk/queue").into_response();
    }
    let language = parse_language(q.language.as_deref());
    sign_in_form(&desk, &info, language, false, q.signed_out.is_some())
}

/// The sign-in form, with a fresh token of its own in a cookie and in the form.
fn sign_in_form(
    desk: &Desk,
    info: &RequestInfo,
    language: Language,
    failed: bool,
    signed_out: bool,
) -> Response {
    let csrf = session::secret();
    let status = if failed {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    let mut response = desk.page(
        status,
        "sign_in.html",
        language,
        None,
        "/desk/sign-in",
        context! { csrf => csrf.clone(), failed => failed, signed_out => signed_out },
    );
    let set = format!(
        "{SIGN_IN_COOKIE}={csrf}{}",
        desk.cookie_attributes(info, 3600)
    );
    if let Ok(v) = HeaderValue::from_str(&set) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

#[derive(Deserialize)]
struct SignInForm {
    csrf: Option<String>,
    token: Option<String>,
    language: Option<String>,
}

async fn sign_in(State(desk): State<Desk>, request: Request) -> Response {
    let (info, body) = RequestInfo::of(request);
    let form: SignInForm = match desk.form(body).await {
        Ok(f) => f,
        Err(p) => return desk.problem(p, None, Language::Fr),
    };
    let language = parse_language(form.language.as_deref());
    let expected = cookie(&info.headers, SIGN_IN_COOKIE).unwrap_or_default();
    if !session::same(
        expected.as_bytes(),
        form.csrf.as_deref().unwrap_or("").trim().as_bytes(),
    ) {
        return desk.problem(Problem::csrf(), None, language);
    }
    let token = form.token.as_deref().unwrap_or("").trim();
    let opened = if token.is_empty() {
        Ok(None)
    } else {
        desk.pipeline
            .open_session(token, language, Utc::now())
            .await
    };
    match opened {
        Ok(Some(opened)) => {
            let max_age = (opened.session.expires_at - opened.session.created_at).num_seconds();
            tracing::info!(member = %opened.actor.name, "signed in to the desk");
            see_other(
                "/desk/queue",
                &[
                    format!(
                        "{COOKIE}={}{}",
                        opened.id,
                        desk.cookie_attributes(&info, max_age)
                    ),
                    format!("{SIGN_IN_COOKIE}={}", desk.cookie_attributes(&info, 0)),
                ],
            )
        }
        Ok(None) => sign_in_form(&desk, &info, language, true, false),
        Err(e) => desk.problem(e.into(), None, language),
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: Option<String>,
    language: Option<String>,
    back: Option<String>,
    text: Option<String>,
    category: Option<String>,
}

/// The signed-in member of a POST and its form, once its CSRF token is the session's.
async fn posted(
    desk: &Desk,
    request: Request,
) -> Result<(Signed, RequestInfo, CsrfForm), Response> {
    let (info, body) = RequestInfo::of(request);
    let signed = desk
        .signed(&info.headers)
        .map_err(|r| desk.refuse(r, None))?;
    let form: CsrfForm = desk
        .form(body)
        .await
        .map_err(|p| desk.problem(p, Some(&signed), signed.session.language))?;
    if !signed.session.accepts(form.csrf.as_deref().unwrap_or("")) {
        tracing::warn!(member = %signed.actor.name, "a desk form was refused: its CSRF token is not the session's");
        return Err(desk.problem(Problem::csrf(), Some(&signed), signed.session.language));
    }
    Ok((signed, info, form))
}

async fn sign_out(State(desk): State<Desk>, request: Request) -> Response {
    let (signed, info, _) = match posted(&desk, request).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    if let Err(e) = desk.pipeline.close_session(&signed.id).await {
        return desk.problem(e.into(), Some(&signed), signed.session.language);
    }
    let language = signed.session.language.as_str();
    see_other(
        &format!("/desk/sign-in?signed_out=1&language={language}"),
        &[format!("{COOKIE}={}", desk.cookie_attributes(&info, 0))],
    )
}

async fn language(State(desk): State<Desk>, request: Request) -> Response {
    let (signed, _, form) = match posted(&desk, request).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let language = parse_language(form.language.as_deref());
    if let Err(e) = desk
        .pipeline
        .set_session_language(&signed.id, &signed.session, language)
        .await
    {
        return desk.problem(e.into(), Some(&signed), language);
    }
    // Back only to a page of the desk.
    let back = form
        .back
        .filter(|b| b.starts_with("/desk/") && !b.contains("//") && !b.contains('\\'))
        .unwrap_or_else(|| "/desk/queue".into());
    see_other(&back, &[])
}

#[derive(Deserialize, Default)]
struct QueueQuery {
    state: Option<String>,
    category: Option<String>,
    channel: Option<String>,
    agent: Option<String>,
    after: Option<String>,
}

/// One list the queue reads, and whether it keeps only on-track threads (the open threads
/// after the overdue and at-risk ones, which came first).
type Stage = (Filter, bool);

fn stages(view: &str) -> Vec<Stage> {
    match view {
        "queue" => vec![
            (Filter::Overdue, false),
            (Filter::AtRisk, false),
            (Filter::Open, true),
        ],
        other => vec![(other.parse::<Filter>().unwrap_or(Filter::Open), false)],
    }
}

/// Where a page of the queue starts: a stage and the cursor in its list.
fn parse_after(raw: &str, stages: &[Stage]) -> Result<(usize, Option<Cursor>), Problem> {
    let bad = || Problem::bad("after");
    let (stage, cursor) = raw.split_once('~').unwrap_or((raw, ""));
    let stage: usize = stage.parse().map_err(|_| bad())?;
    let (filter, _) = stages.get(stage).ok_or_else(bad)?;
    let cursor = if cursor.is_empty() {
        None
    } else {
        Some(Cursor::parse(cursor, *filter).map_err(Problem::bad)?)
    };
    Ok((stage, cursor))
}

async fn queue(State(desk): State<Desk>, request: Request) -> Response {
    let q: QueueQuery = Query::try_from_uri(request.uri())
        .map(|q| q.0)
        .unwrap_or_default();
    let (info, _) = RequestInfo::of(request);
    let signed = match desk.signed(&info.headers) {
        Ok(s) => s,
        Err(r) => return desk.refuse(r, None),
    };
    match queue_view(&desk, &signed, &info, q).await {
        Ok(r) => r,
        Err(p) => desk.problem(p, Some(&signed), signed.session.language),
    }
}

async fn queue_view(
    desk: &Desk,
    signed: &Signed,
    info: &RequestInfo,
    q: QueueQuery,
) -> Result<Response, Problem> {
    let language = signed.session.language;
    let view = q
        .state
        .as_deref()
        .filter(|v| VIEWS.contains(v))
        .unwrap_or("queue")
        .to_owned();
    let stages = stages(&view);
    let (stage, cursor) = match q.after.as_deref().filter(|a| !a.is_empty()) {
        Some(a) => parse_after(a, &stages)?,
        None => (0, None),
    };
    let category = q
        .category
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(|c| c.parse::<Category>().map_err(|_| Problem::bad("category")))
        .transpose()?;
    let trimmed = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let (channel, agent) = (trimmed(&q.channel), trimmed(&q.agent));
    let keep = {
        let (channel, agent) = (channel.clone(), agent.clone());
        move |s: &Summary| {
            category.map_or(true, |c| s.category == c)
                && channel.as_deref().map_or(true, |c| s.channel == c)
                && agent
                    .as_deref()
                    .map_or(true, |a| s.claimed_by.as_deref() == Some(a))
        }
    };
    let now = Utc::now();
    let pipeline = Arc::clone(&desk.pipeline);
    let stages_read = stages.clone();
    let (threads, next) = tokio::task::spawn_blocking(move || {
        queue_page(&pipeline, &stages_read, stage, cursor, keep, now)
    })
    .await
    .map_err(|e| PipelineError::Aborted(e.to_string()))??;
    let rows: Vec<Value> = threads.iter().map(|s| desk.row(s, language, now)).collect();
    let link = |after: Option<&str>| {
        let mut pairs = vec![("state", view.clone())];
        if let Some(c) = category {
            pairs.push(("category", c.as_str().to_owned()));
        }
        if let Some(c) = &channel {
            pairs.push(("channel", c.clone()));
        }
        if let Some(a) = &agent {
            pairs.push(("agent", a.clone()));
        }
        if let Some(a) = after {
            pairs.push(("after", a.to_owned()));
        }
        format!(
            "/desk/queue?{}",
            serde_urlencoded::to_string(pairs).unwrap_or_default()
        )
    };
    Ok(desk.page(
        StatusCode::OK,
        "queue.html",
        language,
        Some(signed),
        &info.here,
        context! {
            views => VIEWS,
            state => view.clone(),
            categories => Category::ALL.map(Category::as_str),
            category => category.map(Category::as_str),
            channel => channel.clone().unwrap_or_default(),
            agent => agent.clone().unwrap_or_default(),
            rows => rows,
            next => next.as_deref().map(|a| link(Some(a))),
            first => link(None),
            paged => q.after.is_some(),
        },
    ))
}

/// One page of the queue from `stage` and `cursor` on: the threads `keep` keeps, and where
/// the next page starts (`after`), if anywhere.
fn queue_page(
    pipeline: &Pipeline,
    stages: &[Stage],
    stage: usize,
    cursor: Option<Cursor>,
    keep: impl Fn(&Summary) -> bool,
    now: DateTime<Utc>,
) -> Result<(Vec<Summary>, Option<String>), PipelineError> {
    let mut rows = Vec::new();
    let mut read = 0;
    let (mut stage, mut cursor) = (stage, cursor);
    loop {
        let (filter, on_track_only) = stages[stage];
        // Never more than the page still needs, so that the cursor does not skip a thread.
        let page = pipeline.threads_page(filter, now, cursor.as_ref(), PAGE - rows.len())?;
        read += page.threads.len().max(1);
        rows.extend(
            page.threads
                .into_iter()
                .filter(|s| !on_track_only || s.sla == SlaStatus::OnTrack)
                .filter(|s| keep(s)),
        );
        let next = match page.next_cursor {
            Some(raw) => {
                let parsed = Cursor::parse(&raw, filter).map_err(PipelineError::Job)?;
                cursor = Some(parsed);
                Some(format!("{stage}~{raw}"))
            }
            None if stage + 1 < stages.len() => {
                stage += 1;
                cursor = None;
                Some(stage.to_string())
            }
            None => None,
        };
        match next {
            None => return Ok((rows, None)),
            Some(after) if rows.len() >= PAGE || read >= SCAN => return Ok((rows, Some(after))),
            Some(_) => {}
        }
    }
}

impl Desk {
    /// A thread as a row of the queue.
    fn row(&self, s: &Summary, language: Language, now: DateTime<Utc>) -> Value {
        let running = matches!(
            s.sla,
            SlaStatus::OnTrack | SlaStatus::AtRisk | SlaStatus::Overdue
        );
        context! {
            id => s.thread_id.get(),
            reference => s.thread_id.to_string(),
            sla => s.sla.as_str(),
            left => running.then(|| text::time_left(s.due_at - now, language)),
            due => if running { self.local(s.due_at) } else { String::new() },
            category => s.category.as_str(),
            channel => s.channel.clone(),
            state => s.state.as_str(),
            agent => s.claimed_by.clone().unwrap_or_default(),
            opened => self.local(s.opened_at),
        }
    }
}

#[derive(Deserialize, Default)]
struct ThreadQuery {
    done: Option<String>,
    problem: Option<String>,
}

async fn thread(State(desk): State<Desk>, Path(id): Path<String>, request: Request) -> Response {
    let q: ThreadQuery = Query::try_from_uri(request.uri())
        .map(|q| q.0)
        .unwrap_or_default();
    let (info, _) = RequestInfo::of(request);
    let signed = match desk.signed(&info.headers) {
        Ok(s) => s,
        Err(r) => return desk.refuse(r, None),
    };
    match thread_view(&desk, &signed, &info, &id, q) {
        Ok(r) => r,
        Err(p) => desk.problem(p, Some(&signed), signed.session.language),
    }
}

fn thread_view(
    desk: &Desk,
    signed: &Signed,
    info: &RequestInfo,
    id: &str,
    q: ThreadQuery,
) -> Result<Response, Problem> {
    let id = ThreadId::parse(id).map_err(|_| Problem::new(StatusCode::NOT_FOUND, "not_found"))?;
    let now = Utc::now();
    let detail = desk
        .pipeline
        .thread_detail(id, now)?
        .ok_or_else(|| Problem::new(StatusCode::NOT_FOUND, "not_found"))?;
    let language = signed.session.language;
    let messages: Vec<Value> = detail
        .messages
        .iter()
        .map(|m| {
            context! {
                kind => serde_json::to_value(m.kind).ok().and_then(|v| v.as_str().map(str::to_owned)),
                author => m.author.clone(),
                at => desk.local(m.at),
                text => m.text.clone(),
                masked => m.masked,
            }
        })
        .collect();
    let audit: Vec<Value> = detail
        .audit
        .iter()
        .map(|e| {
            context! {
                at => desk.local(e.at),
                kind => serde_json::to_value(e.kind).ok().and_then(|v| v.as_str().map(str::to_owned)),
                actor => e.actor.clone(),
                detail => e.detail.clone(),
            }
        })
        .collect();
    let done = q
        .done
        .as_deref()
        .filter(|d| ["answered", "claimed", "resolved", "recategorised"].contains(d));
    let problem = q
        .problem
        .as_deref()
        .filter(|p| ["empty_answer", "long_answer"].contains(p));
    Ok(desk.page(
        StatusCode::OK,
        "thread.html",
        language,
        Some(signed),
        &info.here,
        context! {
            d => desk.row(&detail.summary, language, now),
            messages => messages,
            audit => audit,
            categories => Category::ALL.map(Category::as_str),
            done => done,
            problem => problem,
            max_chars => desk.settings().messages.max_chars,
        },
    ))
}

/// Answer, claim, resolve or recategorise a thread, under the signed-in member's name.
async fn act(
    State(desk): State<Desk>,
    Path((id, action)): Path<(String, String)>,
    request: Request,
) -> Response {
    let (signed, _, form) = match posted(&desk, request).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    match act_on(&desk, &signed, &id, &action, form).await {
        Ok(r) => r,
        Err(p) => desk.problem(p, Some(&signed), signed.session.language),
    }
}

async fn act_on(
    desk: &Desk,
    signed: &Signed,
    id: &str,
    action: &str,
    form: CsrfForm,
) -> Result<Response, Problem> {
    let id = ThreadId::parse(id).map_err(|_| Problem::new(StatusCode::NOT_FOUND, "not_found"))?;
    let page = format!("/desk/threads/{}", id.get());
    let name = signed.actor.name.as_str();
    let now = Utc::now();
    let done = match action {
        "answer" => {
            let max = desk.settings().messages.max_chars;
            let raw = form.text.as_deref().unwrap_or("");
            let text = match MessageText::parse(raw, max) {
                Ok(t) => t,
                Err(_) if raw.trim().is_empty() => {
                    return Ok(see_other(&format!("{page}?problem=empty_answer"), &[]))
                }
                Err(_) => return Ok(see_other(&format!("{page}?problem=long_answer"), &[])),
            };
            desk.pipeline.reply(id, name, text.as_str(), now).await?;
            "answered"
        }
        "claim" => {
            desk.pipeline.claim(id, name, now).await?;
            "claimed"
        }
        "resolve" => {
            desk.pipeline.resolve(id, name, now).await?;
            "resolved"
        }
        "category" => {
            let category = form
                .category
                .as_deref()
                .and_then(|c| c.parse::<Category>().ok())
                .ok_or_else(|| Problem::bad("category: urgent, info or complaint"))?;
            desk.pipeline.correct(id, category, name, now).await?;
            "recategorised"
        }
        _ => return Err(Problem::new(StatusCode::NOT_FOUND, "not_found")),
    };
    Ok(see_other(&format!("{page}?done={done}"), &[]))
}

#[derive(Deserialize, Default)]
struct RangeQuery {
    from: Option<String>,
    to: Option<String>,
}

/// The signed-in coordinator of a request and the range it asks for.
/// The signed-in coordinator, or the answer to anyone else: the sign-in page, or 403.
fn coordinator(desk: &Desk, headers: &HeaderMap) -> Result<Signed, Box<Response>> {
    let signed = desk.signed(headers).map_err(|r| desk.refuse(r, None))?;
    if signed.actor.role != Role::Coordinator {
        let p = Problem::new(StatusCode::FORBIDDEN, "coordinators");
        let language = signed.session.language;
        return Err(Box::new(desk.problem(p, Some(&signed), language)));
    }
    Ok(signed)
}

fn coordinator_range(
    desk: &Desk,
    request: Request,
) -> Result<(Signed, RequestInfo, chrono::NaiveDate, chrono::NaiveDate), Box<Response>> {
    let q: RangeQuery = Query::try_from_uri(request.uri())
        .map(|q| q.0)
        .unwrap_or_default();
    let (info, _) = RequestInfo::of(request);
    let signed = coordinator(desk, &info.headers)?;
    let language = signed.session.language;
    let tz = desk.settings().city.timezone;
    let today = Utc::now().with_timezone(&tz).date_naive();
    match date_range(q.from.as_deref(), q.to.as_deref(), today) {
        Ok((from, to)) => Ok((signed, info, from, to)),
        Err(e) => Err(Box::new(desk.problem(
            Problem::bad(e),
            Some(&signed),
            language,
        ))),
    }
}

/// First-response times in buckets of hours (in each category's counting).
const BUCKETS: [(u64, &str); 6] = [
    (60, "< 1 h"),
    (240, "1–4 h"),
    (480, "4–8 h"),
    (1440, "8–24 h"),
    (2880, "24–48 h"),
    (u64::MAX, "≥ 48 h"),
];

fn distribution(minutes: impl IntoIterator<Item = u64>) -> Vec<(String, u64)> {
    let mut counts = [0u64; BUCKETS.len()];
    for minutes in minutes {
        let i = BUCKETS
            .iter()
            .position(|(below, _)| minutes < *below)
            .unwrap_or(BUCKETS.len() - 1);
        counts[i] += 1;
    }
    BUCKETS
        .iter()
        .zip(counts)
        .map(|((_, label), n)| ((*label).to_owned(), n))
        .collect()
}

/// The line colours and dashes of the categories: distinct in hue and in pattern, each with
/// at least 4.5:1 contrast on white.
fn style(category: Category) -> (&'static str, &'static str) {
    match category {
        Category::Urgent => ("#b00020", "none"),
        Category::Info => ("#0b5cad", "7 4"),
        Category::Complaint => ("#5b2c83", "2 3"),
    }
}

async fn report(State(desk): State<Desk>, request: Request) -> Response {
    let (signed, info, from, to) = match coordinator_range(&desk, request) {
        Ok(r) => r,
        Err(r) => return *r,
    };
    let language = signed.session.language;
    let pipeline = Arc::clone(&desk.pipeline);
    let read = tokio::task::spawn_blocking(move || pipeline.report(from, to, Utc::now()))
        .await
        .map_err(|e| PipelineError::Aborted(e.to_string()));
    let report = match read.and_then(|r| r) {
        Ok(r) => r,
        Err(e) => return desk.problem(e.into(), Some(&signed), language),
    };
    let t = text::table(language);
    let weeks: Vec<String> = report.weeks.iter().map(|w| w.week.clone()).collect();
    let series: Vec<chart::Series> = Category::ALL
        .iter()
        .map(|c| {
            let (colour, dash) = style(*c);
            chart::Series {
                name: t
                    .get(format!("cat_{}", c.as_str()).as_str())
                    .copied()
                    .unwrap_or(""),
                colour,
                dash,
                values: report
                    .weeks
                    .iter()
                    .map(|w| w.categories.get(c).and_then(|f| f.compliance_percent))
                    .collect(),
            }
        })
        .collect();
    let week_rows: Vec<Value> = report
        .weeks
        .iter()
        .map(|w| {
            let values: Vec<String> = Category::ALL
                .iter()
                .map(|c| {
                    w.categories
                        .get(c)
                        .and_then(|f| f.compliance_percent)
                        .map_or("—".to_owned(), |p| format!("{p}"))
                })
                .collect();
            context! { week => w.week.clone(), values => values }
        })
        .collect();
    let buckets = distribution(
        report
            .categories
            .values()
            .flat_map(|f| f.first_response_minutes().iter().copied()),
    );
    desk.page(
        StatusCode::OK,
        "report.html",
        language,
        Some(&signed),
        &info.here,
        context! {
            from => from.to_string(),
            to => to.to_string(),
            empty => report.categories.values().all(|f| f.threads == 0),
            // Pairs, so that the tables keep the categories' order (urgent first).
            categories => Category::ALL
                .iter()
                .filter_map(|c| report.categories.get(c).map(|f| (c.as_str(), Value::from_serialize(f))))
                .collect::<Vec<_>>(),
            channels => report
                .channels
                .iter()
                .map(|(c, f)| (c.clone(), Value::from_serialize(f)))
                .collect::<Vec<_>>(),
            agents => Value::from_serialize(&report.agents),
            category_names => Category::ALL.map(Category::as_str),
            weeks => week_rows,
            week_chart => chart::weekly_lines(t["chart_weeks"], &weeks, &series),
            buckets => buckets.clone(),
            distribution_chart => chart::bars(t["chart_distribution"], &buckets),
        },
    )
}

async fn export_csv(State(desk): State<Desk>, request: Request) -> Response {
    let (signed, _, from, to) = match coordinator_range(&desk, request) {
        Ok(r) => r,
        Err(r) => return *r,
    };
    let pipeline = Arc::clone(&desk.pipeline);
    let read = tokio::task::spawn_blocking(move || pipeline.export_rows(from, to, Utc::now()))
        .await
        .map_err(|e| PipelineError::Aborted(e.to_string()));
    match read.and_then(|r| r) {
        Ok(rows) => {
            let mut response = export::csv(&rows).into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            );
            if let Ok(v) =
                HeaderValue::from_str(&format!("attachment; filename=\"guichet-{from}-{to}.csv\""))
            {
                headers.insert(header::CONTENT_DISPOSITION, v);
            }
            secure_headers(headers);
            response
        }
        Err(e) => desk.problem(e.into(), Some(&signed), signed.session.language),
    }
}

/// Citizens' access and erasure requests nearing their due date, and the register of
/// confidentiality incidents (coordinators).
async fn privacy(State(desk): State<Desk>, request: Request) -> Response {
    let (info, _) = RequestInfo::of(request);
    let signed = match coordinator(&desk, &info.headers) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let language = signed.session.language;
    let now = Utc::now();
    let today = desk.pipeline.today(now);
    let read = || -> Result<_, PipelineError> {
        Ok((
            desk.pipeline.requests_nearing(NEARING_DAYS, now)?,
            desk.pipeline.requests(true)?.len(),
            desk.pipeline.incidents()?,
        ))
    };
    let (nearing, open_count, incidents) = match read() {
        Ok(r) => r,
        Err(e) => return desk.problem(e.into(), Some(&signed), language),
    };
    let nearing: Vec<Value> = nearing
        .iter()
        .map(|r| {
            context! {
                id => r.id,
                kind => r.kind.as_str(),
                channel => r.channel.clone(),
                sender => r.sender.clone(),
                received_on => r.received_on.to_string(),
                due => r.due().to_string(),
                extended => r.extension.is_some(),
                days_left => r.days_left(today),
            }
        })
        .collect();
    desk.page(
        StatusCode::OK,
        "privacy.html",
        language,
        Some(&signed),
        &info.here,
        context! {
            nearing => nearing,
            open_count => open_count,
            // Latest first: the register is read from its newest entry.
            incidents => Value::from_serialize(incidents.iter().rev().collect::<Vec<_>>()),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_a_template_names_is_in_both_languages() {
        let env = environment();
        for (name, source) in TEMPLATES {
            assert!(env.get_template(name).is_ok(), "{name}");
            for (at, _) in source.match_indices("t.") {
                let before = source[..at].chars().next_back().unwrap_or(' ');
                if before.is_ascii_alphanumeric() || before == '_' || before == '.' {
                    continue;
                }
                let key: String = source[at + 2..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !key.is_empty() {
                    assert!(text::has(&key), "{name} names t.{key}, which has no text");
                }
            }
        }
        // The keys a template builds from values.
        for category in Category::ALL {
            assert!(text::has(&format!("cat_{category}")));
        }
        for status in ["on_track", "at_risk", "overdue", "met", "missed"] {
            assert!(text::has(&format!("sla_{status}")));
        }
        for state in crate::domain::thread::ThreadState::ALL {
            assert!(text::has(&format!("st_{state}")));
        }
        for view in VIEWS {
            assert!(text::has(&format!("view_{view}")));
        }
        for key in ["answered", "claimed", "resolved", "recategorised"] {
            assert!(text::has(&format!("done_{key}")));
        }
        for key in [
            "empty_answer",
            "long_answer",
            "coordinators",
            "csrf",
            "not_found",
            "conflict",
            "unavailable",
            "failed",
            "bad_request",
        ] {
            assert!(text::has(&format!("err_{key}")));
        }
    }

    #[test]
    fn first_response_times_fall_in_their_buckets() {
        let counts: Vec<u64> = distribution([0, 59, 60, 3000, 2880])
            .into_iter()
            .map(|(_, n)| n)
            .collect();
        assert_eq!(counts, [2, 1, 0, 0, 0, 2]);
    }
}
