//! The Open311 forwarder against a local fake that speaks GeoReport v2: a realtime service,
//! a batch service that answers with a token, an error response, and a request the city
//! closes.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use guichet::config::{Open311Settings, Secret, ServiceCodes};
use serde_json::{json, Value};

use crate::helpers::{eventually, message, spawn_app_with, TestApp};

const API_KEY: &str = "open311-test-key";

/// A 311 system: `PLAINTE` is a realtime service, `URGENCE` a batch one (a token, resolved
/// on the second look), `INCONNU` does not exist.
#[derive(Default)]
struct City {
    posts: Mutex<Vec<HashMap<String, String>>>,
    token_looks: AtomicUsize,
    /// Status notes of the requests the city closed.
    closed: Mutex<HashMap<String, String>>,
}

fn errors(status: StatusCode, description: &str) -> Response {
    (
        status,
        Json(json!([{ "code": status.as_u16(), "description": description }])),
    )
        .into_response()
}

async fn create(
    State(city): State<Arc<City>>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    city.posts.lock().unwrap().push(form.clone());
    if form.get("api_key").map(String::as_str) != Some(API_KEY) {
        return errors(StatusCode::FORBIDDEN, "Invalid api_key");
    }
    match form.get("service_code").map(String::as_str) {
        Some("PLAINTE") => Json(json!([{
            "service_request_id": 638344,
            "service_notice": "Un inspecteur passera d'ici 5 jours ouvrables",
            "account_id": null
        }]))
        .into_response(),
        Some("URGENCE") => Json(json!([{ "token": "tok-12345" }])).into_response(),
        Some(other) => errors(
            StatusCode::NOT_FOUND,
            &format!("service_code {other} was not found"),
        ),
        None => errors(StatusCode::BAD_REQUEST, "service_code was not provided"),
    }
}

async fn token(State(city): State<Arc<City>>, Path(file): Path<String>) -> Response {
    let token = file.trim_end_matches(".json");
    if token != "tok-12345" {
        return errors(StatusCode::NOT_FOUND, "token not found");
    }
    // Batch services take a while: the first look finds nothing yet.
    if city.token_looks.fetch_add(1, Ordering::SeqCst) == 0 {
        return Json(json!([])).into_response();
    }
    Json(json!([{ "service_request_id": "U-77", "token": token }])).into_response()
}

async fn request(State(city): State<Arc<City>>, Path(file): Path<String>) -> Response {
    let id = file.trim_end_matches(".json").to_owned();
    let closed = city.closed.lock().unwrap().get(&id).cloned();
    let (status, notes) = match closed {
        Some(notes) => ("closed", Value::String(notes)),
        None => ("open", Value::Null),
    };
    Json(json!([{
        "service_request_id": id,
        "status": status,
        "status_notes": notes,
        "service_name": "Trottoirs",
        "requested_datetime": "2026-11-16T09:00:00-05:00",
        "updated_datetime": "2026-11-16T10:00:00-05:00"
    }]))
    .into_response()
}

async fn spawn_city() -> (Arc<City>, String) {
    let city = Arc::new(City::default());
    let app = Router::new()
        .route("/open311/v2/requests.json", post(create))
        .route("/open311/v2/tokens/{file}", get(token))
        .route("/open311/v2/requests/{file}", get(request))
        .with_state(Arc::clone(&city));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (city, format!("http://{addr}/open311/v2/"))
}

async fn app_for(base_url: String) -> TestApp {
    spawn_app_with(|s| {
        s.outbox.initial_backoff_ms = 50;
        s.outbox.max_backoff_seconds = 1;
        s.forwarders.open311 = Some(Open311Settings {
            base_url,
            api_key: Secret::new(API_KEY),
            jurisdiction_id: String::new(),
            service_codes: ServiceCodes {
                urgent: "URGENCE".into(),
                info: "INCONNU".into(),
                complaint: "PLAINTE".into(),
            },
            rate_per_second: 100,
            poll_seconds: 1,
            track_days: 1,
        });
    })
    .await
}

async fn thread(app: &TestApp, id: &str) -> Value {
    let (status, body) = app.staff_get(&format!("/api/threads/{id}")).await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn a_complaint_becomes_a_311_service_request_that_resolves_the_thread_when_closed() {
    let (city, base) = spawn_city().await;
    let app = app_for(base).await;
    let (status, answer) = app
        .post_message(message(
            "marie",
            "Le trottoir devant le 1234 rue Principale est brisé depuis des mois, c'est <b>inacceptable</b>. Écrivez-moi à marie@example.ca",
        ))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["category"], "complaint");
    let id = answer["thread_id"].as_str().unwrap().to_owned();

    assert!(
        eventually(Duration::from_secs(5), || async {
            thread(&app, &id).await["tickets"][0]["ticket_id"] == "638344"
        })
        .await,
        "the service_request_id is kept on the thread"
    );
    let form = city.posts.lock().unwrap()[0].clone();
    assert_eq!(form["api_key"], API_KEY);
    assert_eq!(form["service_code"], "PLAINTE");
    assert_eq!(form["address_string"], "1234 rue Principale");
    assert_eq!(form["email"], "marie@example.ca");
    let description = &form["description"];
    assert!(description.contains("c'est inacceptable"), "{description}");
    assert!(!description.contains("<b>"), "{description}");
    assert!(description.contains(&id));

    let (_, tracking) = app.staff_get("/api/outbox?state=tracking").await;
    assert_eq!(tracking["jobs"][0]["step"], "track", "{tracking}");

    city.closed
        .lock()
        .unwrap()
        .insert("638344".into(), "Trottoir réparé".into());
    assert!(
        eventually(Duration::from_secs(5), || async {
            thread(&app, &id).await["state"] == "resolved"
        })
        .await,
        "closing the 311 request resolves the thread"
    );
    let detail = thread(&app, &id).await;
    let resolved = detail["audit"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "resolved")
        .unwrap();
    assert_eq!(resolved["actor"], "open311");
    assert!(resolved["detail"]
        .as_str()
        .unwrap()
        .contains("Trottoir réparé"));
    assert_eq!(detail["tickets"][0]["status"], "closed");
    let (_, all) = app.staff_get("/api/outbox?state=all").await;
    assert_eq!(all["jobs"], json!([]));
}

#[tokio::test]
async fn a_batch_service_token_is_resolved_into_its_service_request_id() {
    let (city, base) = spawn_city().await;
    let app = app_for(base).await;
    let (_, answer) = app
        .post_message(message(
            "sam",
            "Il y a une fuite d'eau majeure au 55 Maple Ave, l'eau inonde la rue",
        ))
        .await;
    assert_eq!(answer["category"], "urgent", "{answer}");
    let id = answer["thread_id"].as_str().unwrap().to_owned();
    assert!(
        eventually(Duration::from_secs(8), || async {
            thread(&app, &id).await["tickets"][0]["ticket_id"] == "U-77"
        })
        .await,
        "the token becomes a service request id"
    );
    assert!(city.token_looks.load(Ordering::SeqCst) >= 2);
    let form = city.posts.lock().unwrap()[0].clone();
    assert_eq!(form["service_code"], "URGENCE");
    assert_eq!(form["address_string"], "55 Maple Ave");
    let audit = thread(&app, &id).await["audit"].to_string();
    assert!(audit.contains("batch token tok-12345"), "{audit}");
    assert!(audit.contains("service request U-77"), "{audit}");
}

#[tokio::test]
async fn an_open311_error_response_is_recorded_on_the_dead_job() {
    let (_city, base) = spawn_city().await;
    let app = app_for(base).await;
    let (_, answer) = app
        .post_message(message(
            "lea",
            "Est-ce que la ville organise une fête de quartier cet été?",
        ))
        .await;
    assert_eq!(answer["category"], "info", "{answer}");
    assert_eq!(answer["forwarded"], true, "{answer}");
    let job = format!("{}-0-open311", answer["thread_id"].as_str().unwrap());
    assert!(
        eventually(Duration::from_secs(5), || async {
            let (_, dead) = app.staff_get("/api/outbox?state=dead").await;
            dead["jobs"][0]["id"] == job.as_str()
        })
        .await,
        "an unknown service code kills the job at once"
    );
    let (_, dead) = app.staff_get("/api/outbox?state=dead").await;
    let error = &dead["jobs"][0]["last_error"];
    assert_eq!(error["status"], 404, "{error}");
    assert_eq!(error["errors"][0]["code"], "404");
    assert_eq!(
        error["errors"][0]["description"],
        "service_code INCONNU was not found"
    );
    let detail = thread(&app, answer["thread_id"].as_str().unwrap()).await;
    assert_eq!(detail["tickets"][0]["status"], "dead");
}
