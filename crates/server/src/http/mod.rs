//! The control and capture API of `serve --http`, and its page: axum on the server's tokio
//! runtime.
//!
//! | route | what |
//! | --- | --- |
//! | `GET /` | the page: recent sessions and messages, transcripts, the behaviour |
//! | `GET /api/messages?to=&since=` | the messages kept, with the bounds |
//! | `GET /api/messages/{id}` | a message's bytes (`message/rfc822`) |
//! | `DELETE /api/messages` | forget the messages kept |
//! | `GET /api/sessions`, `/api/sessions/{id}` | recent sessions, one with its transcript |
//! | `GET /api/sessions/{id}/explain` | with `--explain`: the annotated transcript, each message's SPF, DKIM and DMARC |
//! | `GET /api/behaviour`, `PUT /api/behaviour` | read, change the behaviour |
//! | `GET /metrics` | Prometheus text format |
//!
//! Bad input gets `400` with `{"error": ..., "field": ...}`; a missing thing `404`.

pub mod behaviour;
pub mod metrics;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use serde_json::json;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::capture::{Capture, CaptureBounds};
use crate::connection::Counters;
use crate::log::{LogHandle, LogRecord};
use crate::policy::Shared;
use behaviour::{BehaviourDoc, FieldError};

/// Where and how `serve --http` listens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpSetup {
    /// The address of the API and page.
    pub listen: SocketAddr,
    /// Listen on an address that is not loopback (anyone who reaches it can read the mail
    /// and change the behaviour).
    pub public: bool,
    /// What is kept for the API.
    pub bounds: CaptureBounds,
}

/// What the handlers share.
pub(crate) struct Api {
    pub(crate) shared: Arc<Shared>,
    pub(crate) capture: Arc<Capture>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) log: LogHandle,
}

type ApiState = State<Arc<Api>>;

/// The page, served as it is.
const PAGE: &str = include_str!("page.html");

/// The routes.
pub(crate) fn router(api: Arc<Api>) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/api/messages", get(messages).delete(clear_messages))
        .route("/api/messages/{id}", get(message))
        .route("/api/sessions", get(sessions))
        .route("/api/sessions/{id}", get(session))
        .route("/api/sessions/{id}/explain", get(explain_session))
        .route("/api/behaviour", get(get_behaviour).put(put_behaviour))
        .route("/metrics", get(metrics_text))
        .fallback(|| async { not_found("no such route") })
        .with_state(api)
}

/// Serves the API on `listener` until `stop` is cancelled.
pub(crate) async fn serve(listener: TcpListener, api: Arc<Api>, stop: CancellationToken) {
    let app = router(api);
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(async move { stop.cancelled().await })
        .await;
    if let Err(e) = served {
        eprintln!("smtpsim serve: the HTTP API stopped: {e}");
    }
}

fn bad_request(e: FieldError) -> Response {
    (StatusCode::BAD_REQUEST, axum::Json(e)).into_response()
}

fn not_found(what: &str) -> Response {
    (StatusCode::NOT_FOUND, axum::Json(json!({ "error": what }))).into_response()
}

fn json<T: Serialize>(value: &T) -> Response {
    axum::Json(value).into_response()
}

async fn page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        PAGE,
    )
        .into_response()
}

/// The filters of `GET /api/messages`.
#[derive(Debug, Default, PartialEq)]
struct MessageQuery {
    to: Option<String>,
    since: Option<f64>,
}

fn message_query(raw: Option<&str>) -> Result<MessageQuery, FieldError> {
    let mut q = MessageQuery::default();
    for pair in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode(value);
        match key {
            "to" => q.to = Some(value),
            "since" => {
                let since = value.parse::<f64>().ok().filter(|s| s.is_finite());
                q.since = Some(since.ok_or_else(|| FieldError {
                    field: "since".into(),
                    error: format!(
                        "{value:?} is not a time in seconds since the Unix epoch, such as 1767225600.5"
                    ),
                })?);
            }
            _ => {
                return Err(FieldError {
                    field: percent_decode(key),
                    error: "unknown filter: use to or since".into(),
                });
            }
        }
    }
    Ok(q)
}

/// `%XX` and `+` decoded; a broken escape is kept as it is.
fn percent_decode(s: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = match bytes.get(i..i + 3) {
            Some([b'%', hi, lo]) => hex(*hi).zip(hex(*lo)).map(|(h, l)| h * 16 + l),
            _ => None,
        };
        match (escaped, bytes[i]) {
            (Some(b), _) => {
                out.push(b);
                i += 3;
                continue;
            }
            (None, b'+') => out.push(b' '),
            (None, b) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn parse_id(id: &str) -> Result<u64, FieldError> {
    id.parse::<u64>().map_err(|_| FieldError {
        field: "id".into(),
        error: format!("{id:?} is not a number from 1"),
    })
}

async fn messages(State(api): ApiState, RawQuery(raw): RawQuery) -> Response {
    match message_query(raw.as_deref()) {
        Ok(q) => json(&api.capture.messages(q.to.as_deref(), q.since)),
        Err(e) => bad_request(e),
    }
}

async fn message(State(api): ApiState, Path(id): Path<String>) -> Response {
    let id = match parse_id(&id) {
        Ok(id) => id,
        Err(e) => return bad_request(e),
    };
    match api.capture.message_bytes(id) {
        Some(bytes) => ([(header::CONTENT_TYPE, "message/rfc822")], bytes).into_response(),
        None => not_found("no such message kept (or its content was not kept)"),
    }
}

async fn clear_messages(State(api): ApiState) -> Response {
    api.capture.clear_messages();
    StatusCode::NO_CONTENT.into_response()
}

async fn sessions(State(api): ApiState) -> Response {
    json(&json!({
        "max_sessions": api.capture.bounds().max_sessions,
        "sessions": api.capture.sessions(),
    }))
}

async fn session(State(api): ApiState, Path(id): Path<String>) -> Response {
    let id = match parse_id(&id) {
        Ok(id) => id,
        Err(e) => return bad_request(e),
    };
    match api.capture.session(id) {
        Some(s) => json(&s),
        None => not_found("no such session kept"),
    }
}

async fn explain_session(State(api): ApiState, Path(id): Path<String>) -> Response {
    let id = match parse_id(&id) {
        Ok(id) => id,
        Err(e) => return bad_request(e),
    };
    if !api.capture.explains() {
        return not_found("sessions are explained only when serve runs with --explain");
    }
    let capture = api.capture.clone();
    // Verifying signatures blocks: it runs beside the async threads.
    match tokio::task::spawn_blocking(move || capture.explain_session(id)).await {
        Ok(Some(explained)) => json(&explained),
        Ok(None) => not_found("no such session kept"),
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            axum::Json(json!({ "error": "explaining the session failed" })),
        )
            .into_response(),
    }
}

async fn get_behaviour(State(api): ApiState) -> Response {
    json(&BehaviourDoc::of(&api.shared.behaviour()))
}

async fn put_behaviour(State(api): ApiState, body: Bytes) -> Response {
    let current = api.shared.behaviour();
    let settings = match BehaviourDoc::parse(&body).and_then(|doc| doc.apply(&current)) {
        Ok(settings) => settings,
        Err(e) => return bad_request(e),
    };
    api.shared.change_behaviour(&settings);
    let doc = BehaviourDoc::of(&settings);
    let text = serde_json::to_string(&doc).unwrap_or_default();
    eprintln!("smtpsim serve: behaviour changed through the API: {text}");
    if api.log.enabled() {
        let local = SocketAddr::from(([0, 0, 0, 0], 0));
        api.log.write(&LogRecord {
            text: Some(&text),
            ..LogRecord::new(0, local, "behaviour")
        });
    }
    json(&doc)
}

async fn metrics_text(State(api): ApiState) -> Response {
    (
        [(header::CONTENT_TYPE, metrics::CONTENT_TYPE)],
        metrics::render(&api.counters, &api.capture, api.shared.maildir.as_ref()),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_read_and_unknown_ones_named() {
        let q = message_query(Some("to=b%40example.net&since=12.5")).unwrap();
        assert_eq!(q.to.as_deref(), Some("b@example.net"));
        assert_eq!(q.since, Some(12.5));
        assert_eq!(message_query(None).unwrap(), MessageQuery::default());
        assert_eq!(
            message_query(Some("since=soon")).unwrap_err().field,
            "since"
        );
        assert_eq!(message_query(Some("from=x")).unwrap_err().field, "from");
        assert_eq!(percent_decode("a+b%2Bc%zz%4"), "a b+c%zz%4");
    }

    fn percent_encode(s: &str) -> String {
        s.bytes().map(|b| format!("%{b:02X}")).collect()
    }

    proptest::proptest! {
        /// Any query is read or refused with a field named, never a panic; an encoded value
        /// comes back as it was.
        #[test]
        fn queries_never_panic_and_values_round_trip(raw in ".{0,64}", to in ".{0,32}") {
            if let Err(e) = message_query(Some(&raw)) {
                proptest::prop_assert!(!e.error.is_empty());
            }
            let q = message_query(Some(&format!("to={}", percent_encode(&to)))).unwrap();
            proptest::prop_assert_eq!(q.to.as_deref(), Some(to.as_str()));
        }
    }
}
