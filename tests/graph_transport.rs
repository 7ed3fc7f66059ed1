//! Transport behaviour of the Graph client against a tiny scripted HTTP server:
//! Retry-After, bounded retries, no blind POST retry, dropped connections, timeouts,
//! 401 refresh, headers, per-mailbox concurrency, `$batch` item retries, link checks
//! (reference/graph.md §1.2, §6, §7, §10).

mod scripted_http;

use bytes::Bytes;
use cardbridge::graph::model::{Contact, Photo};
use cardbridge::graph::{GraphError, Mailbox, TokenSource};
use futures_util::future::BoxFuture;
use scripted_http::{Action, Server, json, throttled};
use secrecy::{ExposeSecret, SecretString};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn contact_json(id: &str) -> serde_json::Value {
    serde_json::json!({"@odata.etag": "W/\"ck\"", "id": id, "changeKey": "ck", "displayName": id})
}

#[tokio::test]
async fn throttled_get_waits_for_retry_after_and_succeeds() {
    let s = Server::start(|n, _| {
        if n < 2 {
            throttled("0")
        } else {
            json(200, contact_json("c1"))
        }
    })
    .await;
    let client = s.client(|_| {});
    let c = client.get_contact(&Mailbox::Me, "c1", &[]).await.unwrap();
    assert_eq!(c.id.as_deref(), Some("c1"));
    assert_eq!(s.seen().len(), 3);
    let st = client.stats();
    assert_eq!(st.requests, 3);
    assert_eq!(st.throttled, 2);
    assert_eq!(st.retries, 2);
}

#[tokio::test]
async fn retry_after_beyond_the_budget_fails_fast_with_throttled() {
    let s = Server::start(|_, _| throttled("120")).await;
    let client = s.client(|o| o.max_retry_wait = Duration::from_secs(1));
    let err = client
        .get_contact(&Mailbox::Me, "c1", &[])
        .await
        .unwrap_err();
    assert_eq!(
        err,
        GraphError::Throttled {
            retry_after: Some(Duration::from_secs(120))
        }
    );
    assert_eq!(s.seen().len(), 1, "no point waiting past the budget");
}

#[tokio::test]
async fn retries_stop_after_max_attempts() {
    let s = Server::start(|_, _| Action::Reply(503, vec![], String::new())).await;
    let client = s.client(|o| o.max_attempts = 3);
    let err = client
        .get_contact(&Mailbox::Me, "c1", &[])
        .await
        .unwrap_err();
    assert_eq!(err, GraphError::Throttled { retry_after: None });
    assert_eq!(s.seen().len(), 3);
}

#[tokio::test]
async fn dropped_connection_on_get_is_retried() {
    let s = Server::start(|n, _| {
        if n == 0 {
            Action::Drop
        } else {
            json(200, contact_json("c1"))
        }
    })
    .await;
    let client = s.client(|_| {});
    client.get_contact(&Mailbox::Me, "c1", &[]).await.unwrap();
    assert_eq!(s.seen().len(), 2);
}

#[tokio::test]
async fn create_is_never_resent_after_a_dropped_connection() {
    let s = Server::start(|_, _| Action::Drop).await;
    let client = s.client(|_| {});
    let err = client
        .create_contact(&Mailbox::Me, "f1", &Contact::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, GraphError::Transport(m) if m.contains("unknown")),
        "{err:?}"
    );
    assert_eq!(s.seen().len(), 1);
}

#[tokio::test]
async fn create_gateway_timeout_is_unknown_outcome_and_503_is_not_resent() {
    let s = Server::start(|_, _| Action::Reply(504, vec![], String::new())).await;
    let err = s
        .client(|_| {})
        .create_contact(&Mailbox::Me, "f1", &Contact::default())
        .await
        .unwrap_err();
    assert!(matches!(err, GraphError::Transport(_)), "{err:?}");
    assert_eq!(s.seen().len(), 1);

    let s =
        Server::start(|_, _| Action::Reply(503, vec![("retry-after", "0".into())], String::new()))
            .await;
    let err = s
        .client(|_| {})
        .create_contact(&Mailbox::Me, "f1", &Contact::default())
        .await
        .unwrap_err();
    assert!(matches!(err, GraphError::Throttled { .. }), "{err:?}");
    assert_eq!(s.seen().len(), 1);
}

#[tokio::test]
async fn create_refused_with_429_is_sent_again() {
    let s = Server::start(|n, _| {
        if n == 0 {
            throttled("0")
        } else {
            json(201, contact_json("new"))
        }
    })
    .await;
    let c = s
        .client(|_| {})
        .create_contact(&Mailbox::Me, "f1", &Contact::default())
        .await
        .unwrap();
    assert_eq!(c.id.as_deref(), Some("new"));
    assert_eq!(s.seen().len(), 2);
}

#[tokio::test]
async fn timeouts_are_retried_then_reported_as_transport() {
    let s = Server::start(|_, _| Action::Slow(Duration::from_secs(3), 200, "{}".into())).await;
    let client = s.client(|o| {
        o.request_timeout = Duration::from_millis(200);
        o.max_attempts = 2;
    });
    let err = client
        .get_contact(&Mailbox::Me, "c1", &[])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, GraphError::Transport(m) if m.contains("timed out")),
        "{err:?}"
    );
    assert_eq!(s.seen().len(), 2);
}

#[tokio::test]
async fn delete_repeated_after_an_ambiguous_failure_accepts_404() {
    let s = Server::start(|n, _| {
        if n == 0 {
            Action::Reply(504, vec![("retry-after", "0".into())], String::new())
        } else {
            json(
                404,
                serde_json::json!({"error":{"code":"ErrorItemNotFound","message":"gone"}}),
            )
        }
    })
    .await;
    s.client(|_| {})
        .delete_contact(&Mailbox::Me, "c1", Some("ck"))
        .await
        .unwrap();
    // a plain 404 is still NotFound
    let s = Server::start(|_, _| {
        json(
            404,
            serde_json::json!({"error":{"code":"ErrorItemNotFound","message":"gone"}}),
        )
    })
    .await;
    let err = s
        .client(|_| {})
        .delete_contact(&Mailbox::Me, "c1", None)
        .await
        .unwrap_err();
    assert!(matches!(err, GraphError::NotFound { .. }));
}

/// Hands out `old` until invalidated, then `new`.
struct Rotating {
    invalidated: Mutex<bool>,
    calls: AtomicUsize,
}

impl TokenSource for Rotating {
    fn token(&self) -> BoxFuture<'_, Result<SecretString, GraphError>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let t = if *self.invalidated.lock().unwrap() {
            "new"
        } else {
            "old"
        };
        Box::pin(async move { Ok(SecretString::from(t)) })
    }
    fn invalidate(&self, token: &SecretString) {
        if token.expose_secret() == "old" {
            *self.invalidated.lock().unwrap() = true;
        }
    }
}

#[tokio::test]
async fn unauthorized_refreshes_the_token_once() {
    let s = Server::start(|_, r| {
        if r.headers["authorization"] == "Bearer new" {
            json(200, contact_json("c1"))
        } else {
            json(401, serde_json::json!({"error":{"code":"InvalidAuthenticationToken","message":"expired"}}))
        }
    })
    .await;
    let tokens = Arc::new(Rotating {
        invalidated: Mutex::new(false),
        calls: AtomicUsize::new(0),
    });
    let client = s.client_with(tokens.clone(), |_| {});
    client.get_contact(&Mailbox::Me, "c1", &[]).await.unwrap();
    assert_eq!(s.seen().len(), 2);
    assert_eq!(tokens.calls.load(Ordering::SeqCst), 2);

    let s = Server::start(|_, _| {
        json(
            401,
            serde_json::json!({"error":{"code":"InvalidAuthenticationToken","message":"no"}}),
        )
    })
    .await;
    let err = s
        .client(|_| {})
        .get_contact(&Mailbox::Me, "c1", &[])
        .await
        .unwrap_err();
    assert!(matches!(err, GraphError::SignInRequired { .. }), "{err:?}");
    assert_eq!(s.seen().len(), 2, "one refresh, then give up");
}

#[tokio::test]
async fn every_request_prefers_immutable_ids_and_encodes_ids() {
    let s = Server::start(|_, r| {
        if r.uri.contains("/delta") {
            json(
                200,
                serde_json::json!({"value": [], "@odata.deltaLink": "http://x.invalid/never"}),
            )
        } else {
            json(200, contact_json("c"))
        }
    })
    .await;
    let client = s.client(|_| {});
    let mb = Mailbox::User("adele@contoso.com".into());
    client
        .get_contact(&mb, "AA/b+c=", &["String {g} Name x"])
        .await
        .unwrap();
    client
        .update_contact(&mb, "id1", &Contact::default(), Some("EQAA+/ck"))
        .await
        .unwrap();
    client.contacts_delta(&mb, "f/1", None, 50).await.unwrap();
    let seen = s.seen();
    assert!(
        seen[0].uri.starts_with("/v1.0/users/adele@contoso.com/contacts/AA%2Fb%2Bc=?$expand=singleValueExtendedProperties($filter=id%20eq%20%27String%20%7Bg%7D%20Name%20x%27)"),
        "{}",
        seen[0].uri
    );
    for r in &seen {
        let prefer = r.headers["prefer"].to_str().unwrap();
        assert!(prefer.contains("IdType=\"ImmutableId\""), "{prefer}");
        assert_eq!(r.headers["authorization"], "Bearer tok");
    }
    assert_eq!(seen[1].method, "PATCH");
    assert_eq!(seen[1].headers["if-match"], "W/\"EQAA+/ck\"");
    let body: serde_json::Value = serde_json::from_slice(&seen[1].body).unwrap();
    assert!(body.get("id").is_none());
    assert_eq!(
        seen[2].uri,
        "/v1.0/users/adele@contoso.com/contactFolders/f%2F1/contacts/delta"
    );
    assert_eq!(
        seen[2].headers["prefer"],
        "odata.maxpagesize=50, IdType=\"ImmutableId\""
    );
}

#[tokio::test]
async fn links_leaving_the_graph_root_are_refused() {
    let s = Server::start(|_, _| {
        json(200, serde_json::json!({"value": [], "@odata.nextLink": "https://evil.example/v1.0/me/contacts?$skip=10"}))
    })
    .await;
    let err = s
        .client(|_| {})
        .list_contacts(&Mailbox::Me, "f", &[])
        .await
        .unwrap_err();
    assert!(matches!(err, GraphError::Decode(_)), "{err:?}");
    assert_eq!(s.seen().len(), 1);
}

#[tokio::test]
async fn at_most_four_requests_in_flight_per_mailbox() {
    let s = Server::start(|_, _| {
        Action::Slow(
            Duration::from_millis(30),
            200,
            contact_json("c").to_string(),
        )
    })
    .await;
    let client = s.client(|_| {});
    let calls = (0..12).map(|i| {
        let client = client.clone();
        async move {
            client
                .get_contact(&Mailbox::Me, &format!("c{i}"), &[])
                .await
        }
    });
    for r in futures_util::future::join_all(calls).await {
        r.unwrap();
    }
    assert_eq!(s.seen().len(), 12);
    assert!(s.max_in_flight.load(Ordering::SeqCst) <= 4);
    assert_eq!(s.in_flight.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn batch_items_throttled_are_sent_again_and_missing_ones_skipped() {
    let s = Server::start(|n, r| {
        let req: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        let items = req["requests"].as_array().unwrap().clone();
        let responses: Vec<_> = items
            .iter()
            .map(|it| {
                let id = it["id"].as_str().unwrap();
                let url = it["url"].as_str().unwrap();
                let cid = url.rsplit('/').next().unwrap();
                if cid == "gone" {
                    serde_json::json!({"id": id, "status": 404, "body": {"error": {"code": "ErrorItemNotFound", "message": "x"}}})
                } else if cid == "busy" && n == 0 {
                    serde_json::json!({"id": id, "status": 429, "headers": {"Retry-After": "0"}, "body": {"error": {"code": "ApplicationThrottled", "message": "x"}}})
                } else {
                    serde_json::json!({"id": id, "status": 200, "body": contact_json(cid)})
                }
            })
            .collect();
        json(200, serde_json::json!({ "responses": responses }))
    })
    .await;
    let client = s.client(|_| {});
    let mut ids: Vec<String> = (0..25).map(|i| format!("c{i}")).collect();
    ids[3] = "busy".into();
    ids[7] = "gone".into();
    let got = client.get_contacts(&Mailbox::Me, &ids, &[]).await.unwrap();
    let got_ids: Vec<_> = got.iter().map(|c| c.id.clone().unwrap()).collect();
    let expected: Vec<_> = ids.iter().filter(|i| *i != "gone").cloned().collect();
    assert_eq!(got_ids, expected);
    let seen = s.seen();
    let sizes: Vec<usize> = seen
        .iter()
        .map(|r| {
            let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
            v["requests"].as_array().unwrap().len()
        })
        .collect();
    assert!(seen.iter().all(|r| r.uri == "/v1.0/$batch"));
    for r in &seen {
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        for item in v["requests"].as_array().unwrap() {
            assert_eq!(item["method"], "GET");
            assert_eq!(item["headers"]["Prefer"], "IdType=\"ImmutableId\"");
        }
    }
    let mut sorted = sizes.clone();
    sorted.sort();
    assert_eq!(sorted, [1, 5, 20], "20 + 5, then the throttled item alone");
}

#[tokio::test]
async fn default_folder_is_derived_when_the_well_known_name_is_refused() {
    let s = Server::start(|_, r| {
        if r.uri.starts_with("/v1.0/me/contactFolders/contacts") {
            json(400, serde_json::json!({"error":{"code":"ErrorInvalidIdMalformed","message":"Id is malformed."}}))
        } else if r.uri.starts_with("/v1.0/me/contacts?") {
            json(200, serde_json::json!({"value": [{"id": "c", "parentFolderId": "DEF/1"}]}))
        } else if r.uri == "/v1.0/me/contactFolders/DEF%2F1" {
            json(200, serde_json::json!({"id": "DEF/1", "displayName": "Kontakte"}))
        } else {
            json(500, serde_json::json!({}))
        }
    })
    .await;
    let client = s.client(|_| {});
    let f = client.default_folder(&Mailbox::Me).await.unwrap();
    assert_eq!(f.id.as_deref(), Some("DEF/1"));
    assert_eq!(f.display_name.as_deref(), Some("Kontakte"));
    let n = s.seen().len();
    client.default_folder(&Mailbox::Me).await.unwrap();
    assert_eq!(s.seen().len(), n, "cached");
}

#[tokio::test]
async fn photos_read_none_on_404_and_put_sends_bytes() {
    let s = Server::start(|_, r| match r.method.as_str() {
        "GET" if r.uri.contains("nophoto") => json(
            404,
            serde_json::json!({"error":{"code":"ErrorItemNotFound","message":"x"}}),
        ),
        "GET" => Action::Reply(
            200,
            vec![("content-type", "image/png".into())],
            "PNGDATA".into(),
        ),
        _ => Action::Reply(200, vec![], String::new()),
    })
    .await;
    let client = s.client(|_| {});
    assert_eq!(
        client.get_photo(&Mailbox::Me, "nophoto").await.unwrap(),
        None
    );
    let p = client.get_photo(&Mailbox::Me, "c1").await.unwrap().unwrap();
    assert_eq!(p.content_type, "image/png");
    assert_eq!(&p.bytes[..], b"PNGDATA");
    client
        .put_photo(
            &Mailbox::Me,
            "c1",
            &Photo {
                content_type: "image/jpeg".into(),
                bytes: Bytes::from_static(b"\xff\xd8jpeg"),
            },
        )
        .await
        .unwrap();
    let put = &s.seen()[2];
    assert_eq!(put.method, "PUT");
    assert_eq!(put.uri, "/v1.0/me/contacts/c1/photo/$value");
    assert_eq!(put.headers["content-type"], "image/jpeg");
    assert_eq!(&put.body[..], b"\xff\xd8jpeg");
}
