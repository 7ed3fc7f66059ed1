//! The Graph client end to end against the emulator on loopback (issue 3 "Done when";
//! reference/graph.md §13.2): every method, paging past 1000, delta with tombstones and
//! 410, `$batch`, If-Match 412, slot limits, throttling, 401 refresh, device code, PKCE,
//! refresh rotation, revocation, app-only, and the `login` / `check` commands.

use cardbridge::emulator::{self, EmulatorConfig, EmulatorHandle, Fault};
use cardbridge::graph::model::{Contact, EmailAddress, Photo, SingleValueExtendedProperty};
use cardbridge::graph::oauth::TokenSet;
use cardbridge::graph::{
    ClientCredentials, DelegatedTokens, GraphClient, GraphClientOptions, GraphError, Mailbox,
    OAuthClient, StaticToken, TokenSink,
};
use secrecy::{ExposeSecret, SecretString};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const UID_PROP: &str = "String {b5a2f8c0-3c1e-4b3e-9a64-2f1d8e7c6a10} Name vcard-uid";
const STASH_PROP: &str = "String {b5a2f8c0-3c1e-4b3e-9a64-2f1d8e7c6a10} Name vcard-extra";

async fn emu_with(cfg: EmulatorConfig) -> EmulatorHandle {
    let _ = rustls::crypto::ring::default_provider().install_default();
    emulator::start(cfg).await.expect("emulator starts")
}

async fn emu() -> EmulatorHandle {
    emu_with(EmulatorConfig::default()).await
}

fn options(e: &EmulatorHandle) -> GraphClientOptions {
    GraphClientOptions {
        graph_root: e.base_url(),
        initial_backoff: Duration::from_millis(20),
        ..Default::default()
    }
}

fn client(e: &EmulatorHandle) -> GraphClient {
    GraphClient::new(options(e), Arc::new(StaticToken::new(e.default_token()))).unwrap()
}

fn oauth(e: &EmulatorHandle) -> OAuthClient {
    OAuthClient::new(&e.base_url(), "common", &e.client_id(), &e.base_url()).unwrap()
}

fn person(given: &str, uid: &str) -> Contact {
    Contact {
        given_name: Some(given.into()),
        surname: Some("Tester".into()),
        display_name: Some(format!("{given} Tester")),
        email_addresses: vec![EmailAddress {
            name: None,
            address: Some(format!("{}@example.com", given.to_lowercase())),
        }],
        single_value_extended_properties: vec![SingleValueExtendedProperty {
            id: UID_PROP.into(),
            value: Some(uid.into()),
        }],
        ..Default::default()
    }
}

#[tokio::test]
async fn contact_crud_with_extended_properties_and_if_match() {
    let e = emu().await;
    let c = client(&e);
    let me = Mailbox::Me;
    let user = e.default_user();
    let def = c.default_folder(&me).await.unwrap();
    assert_eq!(def.id.as_deref(), Some(e.default_folder_id(&user).as_str()));

    let created = c
        .create_contact(&me, def.id.as_deref().unwrap(), &person("Ada", "uid-ada"))
        .await
        .unwrap();
    let id = created.id.clone().unwrap();
    let ck1 = created.change_key.clone().unwrap();
    assert_eq!(
        created.odata_etag.as_deref(),
        Some(format!("W/\"{ck1}\"").as_str())
    );
    assert_eq!(created.extended_property(UID_PROP), Some("uid-ada"));

    let read = c
        .get_contact(&me, &id, &[UID_PROP, STASH_PROP])
        .await
        .unwrap();
    assert_eq!(read.extended_property(UID_PROP), Some("uid-ada"));
    assert_eq!(read.given_name.as_deref(), Some("Ada"));

    let mut edit = read.clone();
    edit.job_title = Some("Engineer".into());
    let updated = c
        .update_contact(&me, &id, &edit, read.odata_etag.as_deref())
        .await
        .unwrap();
    assert_eq!(updated.job_title.as_deref(), Some("Engineer"));
    assert_ne!(updated.change_key.as_deref(), Some(ck1.as_str()));

    // the old changeKey (bare form) is now stale
    let stale = c
        .update_contact(&me, &id, &edit, Some(&ck1))
        .await
        .unwrap_err();
    assert_eq!(stale, GraphError::PreconditionFailed);
    let stale = c.delete_contact(&me, &id, Some(&ck1)).await.unwrap_err();
    assert_eq!(stale, GraphError::PreconditionFailed);

    let found = c
        .find_by_extended_property(
            &me,
            def.id.as_deref().unwrap(),
            UID_PROP,
            "uid-ada",
            &[UID_PROP],
        )
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id.as_deref(), Some(id.as_str()));

    c.delete_contact(&me, &id, updated.change_key.as_deref())
        .await
        .unwrap();
    assert!(matches!(
        c.get_contact(&me, &id, &[]).await,
        Err(GraphError::NotFound { .. })
    ));
    assert!(e.contact(&user, &id).is_none());
    e.shutdown().await;
}

#[tokio::test]
async fn slot_limits_are_a_typed_bad_request() {
    let e = emu().await;
    let c = client(&e);
    let f = c.default_folder(&Mailbox::Me).await.unwrap().id.unwrap();
    let mut p = person("Many", "uid-many");
    p.email_addresses = (0..4)
        .map(|i| EmailAddress {
            name: None,
            address: Some(format!("m{i}@example.com")),
        })
        .collect();
    let err = c.create_contact(&Mailbox::Me, &f, &p).await.unwrap_err();
    assert!(
        matches!(&err, GraphError::BadRequest { code, .. } if code == "ErrorInvalidProperty"),
        "{err:?}"
    );
    e.shutdown().await;
}

#[tokio::test]
async fn list_pages_past_one_thousand_with_few_requests() {
    let e = emu().await;
    let user = e.default_user();
    let c = client(&e);
    let folder = c.create_folder(&Mailbox::Me, None, "Big").await.unwrap();
    let fid = folder.id.unwrap();
    for i in 0..1234 {
        e.outlook_create(
            &user,
            &fid,
            serde_json::json!({"givenName": format!("P{i:04}"), "surname": "Bulk"}),
        );
    }
    e.reset_stats();
    let all = c
        .list_contacts(&Mailbox::Me, &fid, &[UID_PROP])
        .await
        .unwrap();
    assert_eq!(all.len(), 1234);
    let mut ids: Vec<_> = all.iter().map(|c| c.id.clone().unwrap()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 1234, "no duplicates across pages");
    assert_eq!(e.stats().total, 2, "two pages of $top=1000");
    e.shutdown().await;
}

#[tokio::test]
async fn delta_rounds_pages_tombstones_and_expiry() {
    let e = emu().await;
    let user = e.default_user();
    let c = client(&e);
    let fid = e.default_folder_id(&user);
    let ids: Vec<String> = (0..120)
        .map(|i| {
            e.outlook_create(
                &user,
                &fid,
                serde_json::json!({"givenName": format!("D{i}")}),
            )
        })
        .collect();
    e.reset_stats();
    let first = c
        .contacts_delta(&Mailbox::Me, &fid, None, 50)
        .await
        .unwrap();
    assert_eq!(first.upserts.len(), 120);
    assert!(first.removed.is_empty());
    assert!(e.stats().total >= 3, "three pages of 50");

    let empty = c
        .contacts_delta(&Mailbox::Me, &fid, Some(&first.delta_link), 50)
        .await
        .unwrap();
    assert!(empty.upserts.is_empty() && empty.removed.is_empty());

    e.outlook_edit(&user, &ids[0], serde_json::json!({"jobTitle": "Changed"}));
    e.outlook_delete(&user, &ids[1]);
    let added = e.outlook_create(&user, &fid, serde_json::json!({"givenName": "New"}));
    let next = c
        .contacts_delta(&Mailbox::Me, &fid, Some(&empty.delta_link), 50)
        .await
        .unwrap();
    let mut up: Vec<_> = next.upserts.iter().map(|c| c.id.clone().unwrap()).collect();
    up.sort();
    let mut expect = vec![ids[0].clone(), added];
    expect.sort();
    assert_eq!(up, expect);
    assert_eq!(next.removed, vec![ids[1].clone()]);
    let edited = next
        .upserts
        .iter()
        .find(|c| c.id.as_deref() == Some(&ids[0]))
        .unwrap();
    assert_eq!(edited.job_title.as_deref(), Some("Changed"));

    e.expire_delta_chains(&user);
    let gone = c
        .contacts_delta(&Mailbox::Me, &fid, Some(&next.delta_link), 50)
        .await
        .unwrap_err();
    assert_eq!(gone, GraphError::SyncStateNotFound);
    let fresh = c.contacts_delta(&Mailbox::Me, &fid, None, 0).await.unwrap();
    assert_eq!(fresh.upserts.len(), 120);
    e.shutdown().await;
}

#[tokio::test]
async fn batch_reads_in_input_order_and_skips_missing() {
    let e = emu().await;
    let user = e.default_user();
    let c = client(&e);
    let fid = e.default_folder_id(&user);
    let mut ids: Vec<String> = (0..45)
        .map(|i| {
            e.outlook_create(
                &user,
                &fid,
                serde_json::json!({"givenName": format!("B{i}")}),
            )
        })
        .collect();
    let gone = ids[10].clone();
    e.outlook_delete(&user, &gone);
    ids.reverse();
    e.reset_stats();
    let got = c
        .get_contacts(&Mailbox::Me, &ids, &[UID_PROP])
        .await
        .unwrap();
    let expect: Vec<_> = ids.iter().filter(|i| **i != gone).cloned().collect();
    let got_ids: Vec<_> = got.iter().map(|c| c.id.clone().unwrap()).collect();
    assert_eq!(got_ids, expect);
    let st = e.stats();
    assert_eq!(st.total, 3, "45 ids = 3 batches");
    assert_eq!(st.batch_subrequests, 45);
    e.shutdown().await;
}

#[tokio::test]
async fn folders_tree_create_rename_conflict_delete() {
    let e = emu().await;
    let c = client(&e);
    let me = Mailbox::Me;
    let a = c.create_folder(&me, None, "A").await.unwrap();
    let aid = a.id.clone().unwrap();
    let b = c.create_folder(&me, Some(&aid), "B").await.unwrap();
    let bid = b.id.clone().unwrap();
    let cc = c.create_folder(&me, Some(&bid), "C").await.unwrap();
    c.create_folder(&me, None, "Z").await.unwrap();
    let tree = c.folder_tree(&me).await.unwrap();
    let names: Vec<_> = tree
        .iter()
        .map(|f| f.display_name.clone().unwrap())
        .collect();
    assert_eq!(names.len(), 4);
    let pos = |n: &str| names.iter().position(|x| x == n).unwrap();
    assert!(pos("A") < pos("B") && pos("B") < pos("C"), "{names:?}");
    assert!(!names.contains(&"Contacts".to_owned()));

    let dup = c.create_folder(&me, None, "A").await.unwrap_err();
    assert!(matches!(dup, GraphError::Conflict { .. }), "{dup:?}");
    let renamed = c.rename_folder(&me, &bid, "B2").await.unwrap();
    assert_eq!(renamed.display_name.as_deref(), Some("B2"));
    c.delete_folder(&me, cc.id.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(c.folder_tree(&me).await.unwrap().len(), 3);
    let def = c.default_folder(&me).await.unwrap().id.unwrap();
    assert!(c.delete_folder(&me, &def).await.is_err());
    e.shutdown().await;
}

#[tokio::test]
async fn photos_put_get_and_personal_accounts_refuse() {
    let e = emu().await;
    let c = client(&e);
    let f = c.default_folder(&Mailbox::Me).await.unwrap().id.unwrap();
    let id = c
        .create_contact(&Mailbox::Me, &f, &person("Pic", "uid-pic"))
        .await
        .unwrap()
        .id
        .unwrap();
    assert_eq!(c.get_photo(&Mailbox::Me, &id).await.unwrap(), None);
    let jpeg = bytes::Bytes::from_static(b"\xff\xd8\xff\xe0fakejpeg\xff\xd9");
    c.put_photo(
        &Mailbox::Me,
        &id,
        &Photo {
            content_type: "image/jpeg".into(),
            bytes: jpeg.clone(),
        },
    )
    .await
    .unwrap();
    let p = c.get_photo(&Mailbox::Me, &id).await.unwrap().unwrap();
    assert_eq!(p.bytes, jpeg);
    assert_eq!(p.content_type, "image/jpeg");
    e.shutdown().await;

    let e = emu_with(EmulatorConfig {
        personal: true,
        ..Default::default()
    })
    .await;
    let c = client(&e);
    let f = c.default_folder(&Mailbox::Me).await.unwrap().id.unwrap();
    let id = c
        .create_contact(&Mailbox::Me, &f, &person("Pic", "uid-pic"))
        .await
        .unwrap()
        .id
        .unwrap();
    let err = c
        .put_photo(
            &Mailbox::Me,
            &id,
            &Photo {
                content_type: "image/jpeg".into(),
                bytes: jpeg,
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, GraphError::AccessDenied { .. }), "{err:?}");
    e.shutdown().await;
}

#[tokio::test]
async fn throttling_is_waited_out_and_concurrency_stays_within_four() {
    let e = emu().await;
    let user = e.default_user();
    let fid = e.default_folder_id(&user);
    let id = e.outlook_create(&user, &fid, serde_json::json!({"givenName": "T"}));
    let c = client(&e);
    e.add_fault(Fault {
        method: Some("GET".into()),
        path_contains: Some("/contacts/".into()),
        status: Some(429),
        retry_after: Some(1),
        count: Some(2),
        ..Default::default()
    });
    let got = c.get_contact(&Mailbox::Me, &id, &[]).await.unwrap();
    assert_eq!(got.id.as_deref(), Some(id.as_str()));
    assert_eq!(c.stats().throttled, 2);
    assert!(c.stats().throttled_wait_ms >= 2000);

    // many callers at once: the client's semaphore keeps the emulator's 4-slot limit
    e.reset_stats();
    let calls = (0..24).map(|_| {
        let c = c.clone();
        let id = id.clone();
        async move { c.get_contact(&Mailbox::Me, &id, &[]).await }
    });
    for r in futures_util::future::join_all(calls).await {
        r.unwrap();
    }
    assert_eq!(e.stats().throttled, 0);
    e.shutdown().await;
}

#[tokio::test]
async fn throttled_past_the_budget_is_a_typed_error() {
    let e = emu().await;
    let c = GraphClient::new(
        GraphClientOptions {
            max_retry_wait: Duration::from_secs(1),
            ..options(&e)
        },
        Arc::new(StaticToken::new(e.default_token())),
    )
    .unwrap();
    e.add_fault(Fault {
        path_contains: Some("/contactFolders".into()),
        status: Some(503),
        retry_after: Some(30),
        ..Default::default()
    });
    let err = c.folder_tree(&Mailbox::Me).await.unwrap_err();
    assert_eq!(
        err,
        GraphError::Throttled {
            retry_after: Some(Duration::from_secs(30))
        }
    );
    e.shutdown().await;
}

#[derive(Default)]
struct Sink(Mutex<Vec<String>>);
impl TokenSink for Sink {
    fn save(&self, t: &TokenSet) -> anyhow::Result<()> {
        if let Some(r) = &t.refresh_token {
            self.0.lock().unwrap().push(r.expose_secret().to_owned());
        }
        Ok(())
    }
}

#[tokio::test]
async fn device_code_sign_in_then_401_refresh_rotation_and_revocation() {
    let e = emu().await;
    let user = e.default_user();
    let o = oauth(&e);
    let mut dc = o.start_device_code().await.unwrap();
    assert!(!dc.user_code.is_empty());
    assert!(e.approve_device_code(&dc.user_code, &user));
    dc.interval = Duration::from_millis(10);
    let tokens = o.poll_device_code(&dc).await.unwrap();
    let rt1 = tokens.refresh_token.clone().unwrap();

    // a refused access token (401) makes the client refresh once and go on
    let sink = Arc::new(Sink::default());
    let stale = TokenSet {
        access_token: SecretString::from("not-a-valid-token"),
        ..tokens.clone()
    };
    let source = Arc::new(DelegatedTokens::new(o.clone(), &stale, Some(sink.clone())).unwrap());
    let c = GraphClient::new(options(&e), source.clone()).unwrap();
    let profile = c.user_profile(&Mailbox::Me).await.unwrap();
    assert!(profile.user_principal_name.is_some());
    let rotated = sink.0.lock().unwrap().clone();
    assert_eq!(rotated.len(), 1);
    assert_ne!(rotated[0], rt1.expose_secret(), "refresh token rotated");

    // revocation: access tokens 401, refresh invalid_grant → SignInRequired
    e.revoke(&user);
    let err = c.default_folder(&Mailbox::Me).await.unwrap_err();
    assert!(matches!(err, GraphError::SignInRequired { .. }), "{err:?}");
    assert!(source.needs_sign_in());
    e.shutdown().await;
}

#[tokio::test]
async fn refresh_rotation_directly() {
    let e = emu_with(EmulatorConfig {
        auto_approve: true,
        ..Default::default()
    })
    .await;
    let o = oauth(&e);
    let mut dc = o.start_device_code().await.unwrap();
    dc.interval = Duration::from_millis(10);
    let t1 = o.poll_device_code(&dc).await.unwrap();
    let t2 = o.refresh(t1.refresh_token.as_ref().unwrap()).await.unwrap();
    let t3 = o.refresh(t2.refresh_token.as_ref().unwrap()).await.unwrap();
    assert_ne!(
        t2.refresh_token.as_ref().unwrap().expose_secret(),
        t3.refresh_token.as_ref().unwrap().expose_secret()
    );
    let err = o.refresh(&SecretString::from("garbage")).await.unwrap_err();
    assert!(matches!(err, GraphError::SignInRequired { .. }), "{err:?}");
    e.shutdown().await;
}

#[tokio::test]
async fn pkce_authorization_code_exchange() {
    let e = emu_with(EmulatorConfig {
        auto_approve: true,
        ..Default::default()
    })
    .await;
    let o = oauth(&e);
    let redirect = "http://localhost:8765/callback";
    let p = o.authorize_url(redirect);
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = http.get(&p.url).send().await.unwrap();
    assert!(resp.status().is_redirection(), "{}", resp.status());
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let url = url::Url::parse(&location).unwrap();
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(q["state"], p.state);
    let wrong = o
        .exchange_code(&q["code"], redirect, &SecretString::from("x".repeat(43)))
        .await;
    assert!(wrong.is_err(), "a wrong verifier is refused");
    let p2 = o.authorize_url(redirect);
    let resp = http.get(&p2.url).send().await.unwrap();
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let q: std::collections::HashMap<_, _> = url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    let t = o
        .exchange_code(&q["code"], redirect, &p2.verifier)
        .await
        .unwrap();
    let c = GraphClient::new(
        options(&e),
        Arc::new(DelegatedTokens::new(o, &t, None).unwrap()),
    )
    .unwrap();
    c.default_folder(&Mailbox::Me).await.unwrap();
    e.shutdown().await;
}

#[tokio::test]
async fn app_only_uses_users_and_refuses_me() {
    let e = emu().await;
    let user = e.default_user();
    let cc = ClientCredentials::new(oauth(&e).with_secret(SecretString::from("s3cret")));
    let c = GraphClient::new(options(&e), Arc::new(cc)).unwrap();
    let mb = Mailbox::User(user.clone());
    let def = c.default_folder(&mb).await.unwrap();
    assert_eq!(def.id.unwrap(), e.default_folder_id(&user));
    let err = c.folder_tree(&Mailbox::Me).await.unwrap_err();
    assert!(matches!(err, GraphError::BadRequest { .. }), "{err:?}");
    e.shutdown().await;
}

#[tokio::test]
async fn batch_items_throttled_by_outlook_are_retried_until_all_arrive() {
    let e = emu().await;
    let user = e.default_user();
    let mut s = e.settings();
    s.batch_overflow_throttled = true;
    e.set_settings(s);
    let c = client(&e);
    let fid = e.default_folder_id(&user);
    let ids: Vec<String> = (0..24)
        .map(|i| {
            e.outlook_create(
                &user,
                &fid,
                serde_json::json!({"givenName": format!("O{i}")}),
            )
        })
        .collect();
    let got = c.get_contacts(&Mailbox::Me, &ids, &[]).await.unwrap();
    let got_ids: Vec<_> = got.iter().map(|c| c.id.clone().unwrap()).collect();
    assert_eq!(got_ids, ids);
    // 20 per batch, 4 run: 16 + 12 + 8 + 4 items answered 429 and sent again
    assert_eq!(c.stats().throttled, 40);
    assert_eq!(e.stats().throttled, 40);
    e.shutdown().await;
}
