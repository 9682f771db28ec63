//! The web desk over HTTP as a browser speaks it: forms, redirects and cookies (kept by hand
//! here, so that every attribute the server sets can be read).

use std::collections::HashMap;

use chrono::Utc;
use reqwest::header::{HeaderMap, COOKIE, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use serde_json::{json, Value};

use crate::helpers::{self, spawn_app, spawn_app_with, TestApp, TOKEN};

/// A client that keeps the desk's cookies and follows nothing by itself.
pub struct Browser {
    base: String,
    client: reqwest::Client,
    pub cookies: HashMap<String, String>,
    /// The `Set-Cookie` headers of the last answer, whole.
    pub set_cookies: Vec<String>,
    /// Extra headers sent with every request (a proxy's).
    extra: Vec<(&'static str, &'static str)>,
}

pub struct Page {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The CSRF token of the page's first form.
    pub fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"csrf\" value=\"")
            .expect("a form with a CSRF token");
        let rest = &self.body[at + "name=\"csrf\" value=\"".len()..];
        rest[..rest.find('"').unwrap()].to_owned()
    }
}

impl Browser {
    pub fn new(base: String) -> Browser {
        Browser {
            base,
            client: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .unwrap(),
            cookies: HashMap::new(),
            set_cookies: Vec::new(),
            extra: Vec::new(),
        }
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut r = self.client.request(method, format!("{}{path}", self.base));
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            r = r.header(COOKIE, jar.join("; "));
        }
        for (k, v) in &self.extra {
            r = r.header(*k, *v);
        }
        r
    }

    async fn keep(&mut self, r: reqwest::Response) -> Page {
        self.set_cookies = r
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        for c in &self.set_cookies {
            let (pair, attributes) = c.split_once(';').unwrap_or((c, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attributes.contains("Max-Age=0") || value.is_empty() {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        Page {
            status: r.status().as_u16(),
            headers: r.headers().clone(),
            body: r.text().await.unwrap(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let r = self
            .request(reqwest::Method::GET, path)
            .send()
            .await
            .unwrap();
        self.keep(r).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let r = self
            .request(reqwest::Method::POST, path)
            .form(form)
            .send()
            .await
            .unwrap();
        self.keep(r).await
    }

    /// Signs in with `token`; returns the answer to the sign-in form.
    pub async fn sign_in(&mut self, token: &str) -> Page {
        let form = self.get("/desk/sign-in").await;
        assert_eq!(form.status, 200, "{}", form.body);
        let csrf = form.csrf();
        self.post(
            "/desk/sign-in",
            &[("csrf", &csrf), ("token", token), ("language", "fr")],
        )
        .await
    }

    /// The session cookie's `Set-Cookie` header of the last answer.
    pub fn session_cookie(&self) -> &str {
        self.set_cookies
            .iter()
            .find(|c| c.starts_with("guichet_desk="))
            .expect("the session cookie is set")
    }
}

pub fn browser(app: &TestApp) -> Browser {
    Browser::new(format!("http://{}", app.address))
}

/// A new member's token.
pub async fn member(app: &TestApp, name: &str, role: &str) -> String {
    let (status, body) = app
        .staff_post("/api/staff", json!({ "name": name, "role": role }))
        .await;
    assert_eq!(status, 200, "{body}");
    body["token"].as_str().unwrap().to_owned()
}

/// A citizen's message sent `hours_ago`; returns its thread's reference.
pub async fn citizen(app: &TestApp, sender: &str, text: &str, hours_ago: i64) -> String {
    let sent_at = (Utc::now() - chrono::Duration::hours(hours_ago)).to_rfc3339();
    let (status, body) = app
        .post_message(json!({ "sender": sender, "text": text, "sent_at": sent_at }))
        .await;
    assert!(status == 200 || status == 201, "{status} {body}");
    body["thread_id"].as_str().unwrap().to_owned()
}

async fn thread(app: &TestApp, reference: &str) -> Value {
    let (status, body) = app.staff_get(&format!("/api/threads/{reference}")).await;
    assert_eq!(status, 200, "{body}");
    body
}

fn number(reference: &str) -> u64 {
    reference.trim_start_matches("G-").parse().unwrap()
}

#[tokio::test]
async fn signing_in_sets_a_strict_httponly_expiring_cookie_and_opens_the_queue() {
    let app = spawn_app().await;
    let mut b = browser(&app);
    let first = b.get("/desk/queue").await;
    assert_eq!(first.status, 303);
    assert_eq!(first.location(), "/desk/sign-in");

    let signed = b.sign_in(TOKEN).await;
    assert_eq!(signed.status, 303, "{}", signed.body);
    assert_eq!(signed.location(), "/desk/queue");
    let cookie = b.session_cookie().to_owned();
    assert!(cookie.contains("; HttpOnly"), "{cookie}");
    assert!(cookie.contains("; SameSite=Strict"), "{cookie}");
    assert!(cookie.contains("; Path=/desk"), "{cookie}");
    assert!(
        cookie.contains("; Max-Age=43200"),
        "12 hours by default: {cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP from no proxy: {cookie}"
    );

    let queue = b.get("/desk/queue").await;
    assert_eq!(queue.status, 200);
    assert!(queue.body.contains("<html lang=\"fr\">"));
    assert!(queue.body.contains("File des fils"));
    assert_eq!(
        queue.headers["content-type"].to_str().unwrap(),
        "text/html; charset=utf-8"
    );
    let id = b.cookies["guichet_desk"].clone();
    assert_eq!(id.len(), 32);
    // Kept under a hash of the id, never the id itself.
    let store = app.pipeline.store();
    assert!(store.session(&id).unwrap().is_none());
    let kept = store
        .session(&guichet::domain::session::id_hash(&id))
        .unwrap()
        .unwrap();
    assert_eq!(kept.member, "coordinator");
    // It ends when it expires, whatever the browser keeps.
    let later = Utc::now() + chrono::Duration::hours(12) + chrono::Duration::minutes(1);
    assert!(app.pipeline.session(&id, Utc::now()).unwrap().is_some());
    assert!(app.pipeline.session(&id, later).unwrap().is_none());

    // Signing out ends the session on the server, not only in the browser.
    let csrf = queue.csrf();
    let out = b.post("/desk/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, 303);
    assert!(b
        .set_cookies
        .iter()
        .any(|c| c.starts_with("guichet_desk=;")));
    let mut replay = browser(&app);
    replay.cookies.insert("guichet_desk".into(), id);
    assert_eq!(replay.get("/desk/queue").await.status, 303);
}

#[tokio::test]
async fn the_session_cookie_is_secure_over_https_through_a_trusted_proxy_or_when_configured() {
    let app = spawn_app_with(|s| s.http.trusted_proxies = vec!["127.0.0.1".parse().unwrap()]).await;
    let mut b = browser(&app);
    b.extra.push(("x-forwarded-proto", "https"));
    assert_eq!(b.sign_in(TOKEN).await.status, 303);
    assert!(
        b.session_cookie().contains("; Secure"),
        "{}",
        b.session_cookie()
    );

    let app = spawn_app_with(|s| {
        s.desk.secure_cookie = true;
        s.desk.session_hours = 2;
    })
    .await;
    let mut b = browser(&app);
    assert_eq!(b.sign_in(TOKEN).await.status, 303);
    let cookie = b.session_cookie();
    assert!(
        cookie.contains("; Secure") && cookie.contains("; Max-Age=7200"),
        "{cookie}"
    );

    // From an untrusted peer the header is not believed.
    let app = spawn_app().await;
    let mut b = browser(&app);
    b.extra.push(("x-forwarded-proto", "https"));
    assert_eq!(b.sign_in(TOKEN).await.status, 303);
    assert!(!b.session_cookie().contains("Secure"));
}

#[tokio::test]
async fn a_wrong_token_is_refused_and_a_sign_in_without_its_form_token_is_forbidden() {
    let app = spawn_app().await;
    let mut b = browser(&app);
    let refused = b.sign_in("not-a-token").await;
    assert_eq!(refused.status, 401);
    assert!(refused.body.contains("n’est celui de personne"));
    assert!(!b.cookies.contains_key("guichet_desk"));

    // A sign-in posted from elsewhere carries no form token of ours.
    let mut other = browser(&app);
    let forged = other
        .post("/desk/sign-in", &[("csrf", "guess"), ("token", TOKEN)])
        .await;
    assert_eq!(forged.status, 403);
    assert!(!other.cookies.contains_key("guichet_desk"));
}

#[tokio::test]
async fn a_form_without_the_sessions_csrf_token_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let reference = citizen(&app, "alice", "Bonjour, quelle est l'heure d'ouverture?", 0).await;
    let agent = member(&app, "Luc", "agent").await;
    let mut b = browser(&app);
    assert_eq!(b.sign_in(&agent).await.status, 303);
    let path = format!("/desk/threads/{}", number(&reference));
    let page = b.get(&path).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let good = page.csrf();

    for bad in [
        "",
        "0123456789abcdef0123456789abcdef",
        &good[..good.len() - 1],
    ] {
        let refused = b.post(&format!("{path}/resolve"), &[("csrf", bad)]).await;
        assert_eq!(refused.status, 403, "{}", refused.body);
        assert!(refused.body.contains("rien n’a été changé"));
        let answer = b
            .post(
                &format!("{path}/answer"),
                &[("csrf", bad), ("text", "Réponse")],
            )
            .await;
        assert_eq!(answer.status, 403);
    }
    // Another session's token is not this one's.
    let mut other = browser(&app);
    other.sign_in(TOKEN).await;
    let theirs = other.get(&path).await.csrf();
    assert_ne!(theirs, good);
    let refused = b
        .post(&format!("{path}/resolve"), &[("csrf", &theirs)])
        .await;
    assert_eq!(refused.status, 403);

    let t = thread(&app, &reference).await;
    assert_ne!(t["state"], "resolved");
    assert!(t["messages"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["kind"] != "agent"));
    assert!(t["audit"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["actor"] != "Luc"));

    // With the token, the same form goes through.
    let done = b.post(&format!("{path}/resolve"), &[("csrf", &good)]).await;
    assert_eq!(done.status, 303);
    assert_eq!(thread(&app, &reference).await["state"], "resolved");
}

#[tokio::test]
async fn an_agent_is_neither_shown_nor_served_the_report_and_the_export() {
    let app = spawn_app().await;
    let agent = member(&app, "Luc", "agent").await;
    let mut b = browser(&app);
    b.sign_in(&agent).await;
    let queue = b.get("/desk/queue").await;
    assert_eq!(queue.status, 200);
    assert!(
        !queue.body.contains("/desk/report"),
        "the report link is hidden"
    );
    for path in [
        "/desk/report",
        "/desk/export.csv",
        "/desk/report?from=2026-01-01",
    ] {
        let refused = b.get(path).await;
        assert_eq!(refused.status, 403, "{path}");
        assert!(refused.body.contains("réservée aux coordonnateurs"));
    }
    let (status, _) = helpers::send(
        app.client
            .get(app.url("/api/export.csv"))
            .bearer_auth(&agent),
    )
    .await;
    assert_eq!(status, 403);

    let coordinator = member(&app, "Marie", "coordinator").await;
    let mut c = browser(&app);
    c.sign_in(&coordinator).await;
    let queue = c.get("/desk/queue").await;
    assert!(queue.body.contains("href=\"/desk/report\""));
    let report = c.get("/desk/report").await;
    assert_eq!(report.status, 200, "{}", report.body);
    assert!(report.body.contains("<svg"));
    assert_eq!(c.get("/desk/report?from=30/11/2026").await.status, 400);
}

#[tokio::test]
async fn actions_on_the_desk_are_recorded_under_the_members_name() {
    let app = spawn_app().await;
    let reference = citizen(&app, "bob", "Il y a un nid-de-poule devant chez moi", 0).await;
    // A pothole is no question: moving it to info is a correction whatever it was read as.
    let agent = member(&app, "Luc Tremblay", "agent").await;
    let mut b = browser(&app);
    b.sign_in(&agent).await;
    let path = format!("/desk/threads/{}", number(&reference));
    let csrf = b.get(&path).await.csrf();

    let claimed = b.post(&format!("{path}/claim"), &[("csrf", &csrf)]).await;
    assert_eq!(claimed.status, 303);
    assert_eq!(claimed.location(), format!("{path}?done=claimed"));
    let page = b.get(claimed.location()).await;
    assert!(page.body.contains("Fil pris en charge."));
    let empty = b
        .post(
            &format!("{path}/answer"),
            &[("csrf", &csrf), ("text", "  ")],
        )
        .await;
    assert_eq!(empty.location(), format!("{path}?problem=empty_answer"));
    let recategorised = b
        .post(
            &format!("{path}/category"),
            &[("csrf", &csrf), ("category", "info")],
        )
        .await;
    assert_eq!(recategorised.status, 303);
    let answered = b
        .post(
            &format!("{path}/answer"),
            &[
                ("csrf", &csrf),
                ("text", "Merci, une équipe passera demain."),
            ],
        )
        .await;
    assert_eq!(answered.status, 303);
    let resolved = b.post(&format!("{path}/resolve"), &[("csrf", &csrf)]).await;
    assert_eq!(resolved.status, 303);
    // Resolving twice is a conflict, said on a page.
    let again = b.post(&format!("{path}/resolve"), &[("csrf", &csrf)]).await;
    assert_eq!(again.status, 409);

    let t = thread(&app, &reference).await;
    assert_eq!(t["state"], "resolved");
    assert_eq!(t["category"], "info");
    assert_eq!(t["claimed_by"], "Luc Tremblay");
    let by_luc: Vec<&str> = t["audit"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor"] == "Luc Tremblay")
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for kind in ["claimed", "corrected", "answered", "resolved"] {
        assert!(
            by_luc.contains(&kind),
            "{kind} under Luc's name: {by_luc:?}"
        );
    }
    let answer = t["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["kind"] == "agent")
        .unwrap();
    assert_eq!(answer["author"], "Luc Tremblay");

    // The thread page shows the audit trail with the name.
    let page = b.get(&path).await;
    assert!(page.body.contains("Luc Tremblay"));
    assert!(page.body.contains("Merci, une équipe passera demain."));
}

#[tokio::test]
async fn the_queue_shows_overdue_threads_first_with_how_late_they_are() {
    let app = spawn_app().await;
    let fresh = citizen(
        &app,
        "carole",
        "Quelle est la date de la collecte des feuilles?",
        0,
    )
    .await;
    let late = citizen(
        &app,
        "denis",
        "Quelle est la date de la collecte des encombrants?",
        60,
    )
    .await;
    let mut b = browser(&app);
    b.sign_in(TOKEN).await;
    let queue = b.get("/desk/queue").await;
    let (late_at, fresh_at) = (
        queue
            .body
            .find(&format!(">{late}<"))
            .expect("the late thread is listed"),
        queue
            .body
            .find(&format!(">{fresh}<"))
            .expect("the fresh thread is listed"),
    );
    assert!(late_at < fresh_at, "overdue first");
    assert!(queue.body.contains("en retard de"));
    assert!(queue.body.contains("reste "));

    // Filters: the overdue list only; a category none of them has.
    let overdue = b.get("/desk/queue?state=overdue").await;
    assert!(overdue.body.contains(&late) && !overdue.body.contains(&fresh));
    let none = b.get("/desk/queue?category=urgent").await;
    assert!(none.body.contains("Aucun fil ne correspond."));
    assert_eq!(b.get("/desk/queue?category=nonsense").await.status, 400);
}

#[tokio::test]
async fn the_queue_pages_follow_the_lists_cursors() {
    let app = spawn_app().await;
    let mut references = Vec::new();
    for i in 0..55 {
        references
            .push(citizen(&app, &format!("s{i}"), "Quelle est l'heure d'ouverture?", 0).await);
    }
    let mut b = browser(&app);
    b.sign_in(TOKEN).await;
    let first = b.get("/desk/queue?state=open").await;
    let next = first
        .body
        .split("rel=\"next\" href=\"")
        .nth(1)
        .expect("a next page")
        .split('"')
        .next()
        .unwrap()
        .replace("&#x2f;", "/")
        .replace("&amp;", "&");
    let second = b.get(&next).await;
    assert_eq!(second.status, 200);
    let shown = |body: &str| {
        references
            .iter()
            .filter(|r| body.contains(&format!(">{r}<")))
            .count()
    };
    assert_eq!(shown(&first.body), 50);
    assert_eq!(shown(&second.body), 5);
    assert!(!second.body.contains("rel=\"next\""));
}

#[tokio::test]
async fn the_language_chosen_is_kept_in_the_session() {
    let app = spawn_app().await;
    let mut b = browser(&app);
    b.sign_in(TOKEN).await;
    let queue = b.get("/desk/queue").await;
    let switched = b
        .post(
            "/desk/language",
            &[
                ("csrf", &queue.csrf()),
                ("language", "en"),
                ("back", "/desk/report"),
            ],
        )
        .await;
    assert_eq!(switched.status, 303);
    assert_eq!(switched.location(), "/desk/report");
    let report = b.get("/desk/report").await;
    assert!(report.body.contains("<html lang=\"en\">"));
    assert!(report.body.contains("Response-time report"));
    assert!(b.get("/desk/queue").await.body.contains("Thread queue"));
    // Back to a page of the desk only.
    let csrf = report.csrf();
    let elsewhere = b
        .post(
            "/desk/language",
            &[
                ("csrf", &csrf),
                ("language", "fr"),
                ("back", "//evil.example/desk/"),
            ],
        )
        .await;
    assert_eq!(elsewhere.location(), "/desk/queue");
}

#[tokio::test]
async fn the_export_is_csv_with_one_row_per_thread_and_no_message_text() {
    let app = spawn_app().await;
    let secret = "Mon numéro d'assurance sociale est 123-456-789, merci de me rappeler";
    let a = citizen(&app, "eve", secret, 2).await;
    citizen(
        &app,
        "frank",
        "Quand passe la déneigeuse, rue des Érables, \"vite\"?",
        1,
    )
    .await;
    let (status, body) = app
        .staff_post(
            &format!("/api/threads/{a}/replies"),
            json!({ "agent": "Tremblay, Luc", "text": "Nous vous rappelons aujourd'hui." }),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let r = app
        .client
        .get(app.url("/api/export.csv"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    let text = r.text().await.unwrap();
    assert!(!text.contains("assurance") && !text.contains("123-456-789"));
    assert!(!text.contains("rappelons") && !text.contains("déneigeuse"));
    assert!(
        !text.contains("eve") && !text.contains("frank"),
        "no sender"
    );
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        headers,
        [
            "reference",
            "channel",
            "category",
            "opened_at",
            "first_response_at",
            "first_response_minutes",
            "first_response",
            "resolved_at",
            "agent"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    let answered = rows.iter().find(|r| &r[0] == a.as_str()).unwrap();
    assert_eq!(&answered[1], "web");
    assert_eq!(&answered[6], "met");
    assert_eq!(
        &answered[8], "Tremblay, Luc",
        "a comma stays inside its field"
    );
    assert!(!answered[4].is_empty());

    // A range before anything opened is empty; a reversed one is refused.
    let (status, body) = helpers::send(
        app.client
            .get(app.url("/api/export.csv?from=2020-01-01&to=2020-01-31"))
            .bearer_auth(TOKEN),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body, Value::Null);
    let (status, body) = helpers::send(
        app.client
            .get(app.url("/api/export.csv?from=2026-12-01&to=2026-11-01"))
            .bearer_auth(TOKEN),
    )
    .await;
    assert_eq!(status, 400);
    assert!(body["error"].as_str().unwrap().contains("after"));

    // The desk's download is the same file.
    let mut b = browser(&app);
    b.sign_in(TOKEN).await;
    let download = b.get("/desk/export.csv").await;
    assert_eq!(download.status, 200);
    assert_eq!(download.body, text);
}

#[test]
fn a_members_session_survives_a_restart_and_ends_when_the_member_is_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let served = helpers::serve(dir.path());
    let base = format!("http://{}", served.address);
    runtime.block_on(async {
        let http = reqwest::Client::new();
        let token: Value = http
            .post(format!("{base}/api/staff"))
            .bearer_auth(TOKEN)
            .json(&json!({ "name": "Luc", "role": "agent" }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = token["token"].as_str().unwrap().to_owned();
        let mut b = Browser::new(base.clone());
        assert_eq!(b.sign_in(&token).await.status, 303);
        assert_eq!(b.get("/desk/queue").await.status, 200);
        let jar = b.cookies.clone();
        drop(served);

        let served = helpers::serve(dir.path());
        let base = format!("http://{}", served.address);
        let mut b = Browser::new(base.clone());
        b.cookies = jar;
        assert_eq!(
            b.get("/desk/queue").await.status,
            200,
            "the session outlived the restart"
        );

        let revoked = http
            .post(format!("{base}/api/staff/Luc/revoke"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(revoked.status(), 200);
        let after = b.get("/desk/queue").await;
        assert_eq!(after.status, 303, "a revoked member is signed out");
        assert_eq!(after.location(), "/desk/sign-in");
        drop(served);
    });
}

#[tokio::test]
async fn the_privacy_page_shows_requests_nearing_their_due_date_and_the_register_to_coordinators() {
    let app = spawn_app().await;
    let today = Utc::now()
        .with_timezone(&chrono_tz::America::Toronto)
        .date_naive();
    let request = |sender: &'static str, days_ago: i64| {
        let app = &app;
        async move {
            let received = today - chrono::Duration::days(days_ago);
            let (status, body) = app
                .staff_post(
                    &format!("/api/citizens/web/{sender}/requests"),
                    json!({ "kind": "erasure", "received_on": received.to_string() }),
                )
                .await;
            assert_eq!(status, 200, "{body}");
        }
    };
    request("julie.near", 18).await; // due in 2 days
    request("marc.far", 1).await; // due in 19 days
    let (status, body) = app
        .staff_post(
            "/api/privacy-incidents",
            json!({
                "what": "Liste de plaintes imprimée oubliée au comptoir",
                "when": "2026-11-20",
                "data": "noms et adresses",
                "people": 12,
                "risk": "modéré",
                "serious": true,
                "measures": "liste récupérée",
                "notifications": "Commission avisée le 2026-11-21",
            }),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let coordinator = member(&app, "Marie", "coordinator").await;
    let mut c = browser(&app);
    c.sign_in(&coordinator).await;
    let page = c.get("/desk/privacy").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("julie.near"), "{}", page.body);
    assert!(
        !page.body.contains("marc.far"),
        "not yet near: {}",
        page.body
    );
    assert!(page.body.contains("Demandes ouvertes : 2"), "{}", page.body);
    for field in [
        "Liste de plaintes imprimée oubliée au comptoir",
        "noms et adresses",
        "Commission avisée le 2026-11-21",
        "risque de préjudice sérieux",
    ] {
        assert!(page.body.contains(field), "{field}: {}", page.body);
    }

    let agent = member(&app, "Luc", "agent").await;
    let mut a = browser(&app);
    a.sign_in(&agent).await;
    assert!(!a.get("/desk/queue").await.body.contains("/desk/privacy"));
    let refused = a.get("/desk/privacy").await;
    assert_eq!(refused.status, 403);
    assert!(!refused.body.contains("julie.near"));
}
