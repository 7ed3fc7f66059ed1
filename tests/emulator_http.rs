//! The Graph emulator over real HTTP on loopback: each behaviour of reference/graph.md
//! §13.1 that clients depend on, checked the way a client sees it.

use cardbridge::emulator::{self, EmulatorConfig, EmulatorHandle, Fault};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

const EXT_UID: &str = "String {b5a2f8c0-3c1e-4b3e-9a64-2f1d8e7c6a10} Name vcard-uid";

async fn emu(config: EmulatorConfig) -> (EmulatorHandle, Client) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let e = emulator::start(config).await.expect("emulator starts");
    let c = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    (e, c)
}

async fn default_emu() -> (EmulatorHandle, Client, String) {
    let (e, c) = emu(EmulatorConfig::default()).await;
    let t = e.default_token();
    (e, c, t)
}

async fn call(
    c: &Client,
    token: &str,
    method: Method,
    url: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let mut rb = c.request(method, url).bearer_auth(token);
    for (k, v) in headers {
        rb = rb.header(*k, *v);
    }
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let r = rb.send().await.expect("request sent");
    let status = r.status();
    let h = r.headers().clone();
    let text = r.text().await.expect("body");
    let v = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, h, v)
}

async fn get(c: &Client, token: &str, url: &str) -> (StatusCode, Value) {
    let (s, _, v) = call(c, token, Method::GET, url, None, &[]).await;
    (s, v)
}

fn enc(id: &str) -> String {
    percent_encoding::utf8_percent_encode(id, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn ids(v: &Value) -> Vec<String> {
    v["value"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| x["id"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn list_pages_by_ten_with_skip_next_links_and_top_limits() {
    let (e, c, t) = default_emu().await;
    let u = e.default_user();
    let d = e.default_folder_id(&u);
    for i in 0..25 {
        e.outlook_create(&u, &d, json!({"givenName": format!("P{i:02}")}));
    }
    let work = e.create_folder(&u, None, "Work");
    e.outlook_create(&u, &work, json!({"givenName": "Elsewhere"}));

    let (s, first) = get(
        &c,
        &t,
        &format!("{}/me/contacts?$count=true", e.graph_url()),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(first["value"].as_array().unwrap().len(), 10);
    assert_eq!(
        first["@odata.count"], 25,
        "only the default folder is listed"
    );
    let next = first["@odata.nextLink"].as_str().unwrap().to_owned();
    assert!(next.contains("%24skip=10"), "{next}");
    let mut all = ids(&first);
    let mut link = Some(next);
    while let Some(l) = link {
        let (_, page) = get(&c, &t, &l).await;
        all.extend(ids(&page));
        link = page["@odata.nextLink"].as_str().map(str::to_owned);
    }
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 25);

    let (_, big) = get(&c, &t, &format!("{}/me/contacts?$top=1000", e.graph_url())).await;
    assert_eq!(big["value"].as_array().unwrap().len(), 25);
    assert!(big.get("@odata.nextLink").is_none());
    let (s, err) = get(&c, &t, &format!("{}/me/contacts?$top=1001", e.graph_url())).await;
    assert_eq!(s, 400);
    assert_eq!(err["error"]["code"], "ErrorInvalidArgument");

    let (_, sel) = get(
        &c,
        &t,
        &format!(
            "{}/me/contacts?$select=givenName&$orderby=givenName%20desc&$top=2",
            e.graph_url()
        ),
    )
    .await;
    let v = sel["value"].as_array().unwrap();
    assert_eq!(v[0]["givenName"], "P24");
    assert!(v[0].get("surname").is_none());
    assert!(v[0]["@odata.etag"].as_str().unwrap().starts_with("W/\""));
    e.shutdown().await;
}

#[tokio::test]
async fn create_get_patch_delete_with_etags_birthday_and_if_match() {
    let (e, c, t) = default_emu().await;
    let g = e.graph_url();
    let (s, h, created) = call(
        &c,
        &t,
        Method::POST,
        &format!("{g}/me/contacts"),
        Some(
            json!({"givenName":"Pavel","surname":"Bansky","birthday":"1974-07-22T00:00:00Z",
            "emailAddresses":[{"address":"pavelb@contoso.com"}],
            "singleValueExtendedProperties":[{"id": EXT_UID, "value":"urn:uuid:1"}]}),
        ),
        &[],
    )
    .await;
    assert_eq!(s, 201);
    assert!(h.get("request-id").is_some());
    assert_eq!(created["displayName"], "Pavel Bansky");
    assert_eq!(created["birthday"], "1974-07-22T11:59:00Z");
    assert_eq!(created["emailAddresses"][0]["name"], "pavelb@contoso.com");
    assert_eq!(created["homeAddress"], json!({}));
    assert!(created.get("singleValueExtendedProperties").is_none());
    let ck = created["changeKey"].as_str().unwrap().to_owned();
    let etag = created["@odata.etag"].as_str().unwrap().to_owned();
    assert_eq!(etag, format!("W/\"{ck}\""));
    let id = created["id"].as_str().unwrap().to_owned();

    // Case-insensitive segments, percent-encoded id.
    let (s, got) = get(
        &c,
        &t,
        &format!("{}/V1.0/ME/CONTACTS/{}", e.base_url(), enc(&id)),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(got["changeKey"], ck.as_str());

    let (s, _, patched) = call(
        &c,
        &t,
        Method::PATCH,
        &format!("{g}/me/contacts/{}", enc(&id)),
        Some(json!({"jobTitle":"CTO","displayName":"Pavel Bansky"})),
        &[("if-match", &etag)],
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(patched["jobTitle"], "CTO");
    assert_ne!(patched["changeKey"], ck.as_str());

    let (s, _, stale) = call(
        &c,
        &t,
        Method::PATCH,
        &format!("{g}/me/contacts/{}", enc(&id)),
        Some(json!({"jobTitle":"CEO"})),
        &[("if-match", &etag)],
    )
    .await;
    assert_eq!(s, 412);
    assert_eq!(stale["error"]["code"], "ErrorIrresolvableConflict");
    let (s, _, _) = call(
        &c,
        &t,
        Method::DELETE,
        &format!("{g}/me/contacts/{}", enc(&id)),
        None,
        &[("if-match", &etag)],
    )
    .await;
    assert_eq!(s, 412);

    let (s, _, _) = call(
        &c,
        &t,
        Method::DELETE,
        &format!("{g}/me/contacts/{}", enc(&id)),
        None,
        &[],
    )
    .await;
    assert_eq!(s, 204);
    let (s, _, gone) = call(
        &c,
        &t,
        Method::DELETE,
        &format!("{g}/me/contacts/{}", enc(&id)),
        None,
        &[],
    )
    .await;
    assert_eq!(s, 404);
    assert_eq!(gone["error"]["code"], "ErrorItemNotFound");
    assert!(gone["error"]["innerError"]["request-id"].is_string());
    e.shutdown().await;
}

#[tokio::test]
async fn slot_limits_unknown_properties_and_collection_patch_are_400() {
    let (e, c, t) = default_emu().await;
    let g = e.graph_url();
    let (s, _, err) = call(
        &c,
        &t,
        Method::POST,
        &format!("{g}/me/contacts"),
        Some(json!({"givenName":"X","businessPhones":["1","2","3"]})),
        &[],
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(err["error"]["code"], "ErrorInvalidProperty");
    assert_eq!(
        err["error"]["message"],
        "The multi value property BusinessPhones has 3 entries, that exceeds the max allowed value of 2."
    );
    let (s, _, err) = call(
        &c,
        &t,
        Method::POST,
        &format!("{g}/me/contacts"),
        Some(json!({"givenName":"X","websites":[]})),
        &[],
    )
    .await;
    assert_eq!(s, 400);
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("'websites' does not exist")
    );
    let (s, _, _) = call(
        &c,
        &t,
        Method::PATCH,
        &format!("{g}/me/contacts"),
        Some(json!({})),
        &[],
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(e.contact_count(&e.default_user()), 0);
    e.shutdown().await;
}

#[tokio::test]
async fn folders_list_only_top_level_and_nest_through_child_folders() {
    let (e, c, t) = default_emu().await;
    let g = e.graph_url();
    let (s, _, work) = call(
        &c,
        &t,
        Method::POST,
        &format!("{g}/me/contactFolders"),
        Some(json!({"displayName":"Work"})),
        &[],
    )
    .await;
    assert_eq!(s, 201);
    let work_id = work["id"].as_str().unwrap().to_owned();
    let (s, _, sub) = call(
        &c,
        &t,
        Method::POST,
        &format!("{g}/me/contactFolders/{}/childFolders", enc(&work_id)),
        Some(json!({"displayName":"Clients"})),
        &[],
    )
    .await;
    assert_eq!(s, 201);
    assert_eq!(sub["parentFolderId"], work_id.as_str());
    let (s, _, dup) = call(
        &c,
        &t,
        Method::POST,
        &format!("{g}/me/contactFolders"),
        Some(json!({"displayName":"work"})),
        &[],
    )
    .await;
    assert_eq!(s, 409);
    assert_eq!(dup["error"]["code"], "ErrorFolderExists");

    let (_, top) = get(&c, &t, &format!("{g}/me/contactFolders")).await;
    let names: Vec<&str> = top["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["displayName"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["Work"]);
    assert_eq!(
        top["value"][0]["parentFolderId"],
        e.default_folder_id(&e.default_user()).as_str()
    );
    let (_, kids) = get(
        &c,
        &t,
        &format!("{g}/me/contactFolders/{}/childFolders", enc(&work_id)),
    )
    .await;
    assert_eq!(kids["value"][0]["displayName"], "Clients");

    // Contacts created in the nested folder are found by id from /me/contacts/{id}.
    let sub_id = sub["id"].as_str().unwrap();
    let (s, _, made) = call(
        &c,
        &t,
        Method::POST,
        &format!(
            "{g}/me/contactFolders/{}/childFolders/{}/contacts",
            enc(&work_id),
            enc(sub_id)
        ),
        Some(json!({"givenName":"Deep"})),
        &[],
    )
    .await;
    assert_eq!(s, 201);
    let (s, found) = get(
        &c,
        &t,
        &format!("{g}/me/contacts/{}", enc(made["id"].as_str().unwrap())),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(found["parentFolderId"], sub_id);

    let d = e.default_folder_id(&e.default_user());
    let (s, _, err) = call(
        &c,
        &t,
        Method::DELETE,
        &format!("{g}/me/contactFolders/{}", enc(&d)),
        None,
        &[],
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(err["error"]["code"], "ErrorDeleteDistinguishedFolder");
    let (s, wk) = get(&c, &t, &format!("{g}/me/contactFolders/contacts")).await;
    assert_eq!(s, 200);
    assert_eq!(wk["id"], d.as_str());
    e.shutdown().await;
}

async fn delta_round(
    c: &Client,
    t: &str,
    start: &str,
    page: usize,
    immutable: bool,
) -> (Vec<Value>, String, usize) {
    let mut items = Vec::new();
    let mut url = start.to_owned();
    let mut pages = 0;
    let prefer = if immutable {
        format!("odata.maxpagesize={page}, IdType=\"ImmutableId\"")
    } else {
        format!("odata.maxpagesize={page}")
    };
    loop {
        let (s, _, v) = call(c, t, Method::GET, &url, None, &[("prefer", &prefer)]).await;
        assert_eq!(s, 200, "{v}");
        pages += 1;
        items.extend(v["value"].as_array().cloned().unwrap_or_default());
        if let Some(n) = v["@odata.nextLink"].as_str() {
            url = n.to_owned();
        } else {
            return (
                items,
                v["@odata.deltaLink"].as_str().unwrap().to_owned(),
                pages,
            );
        }
    }
}

#[tokio::test]
async fn delta_pages_tombstones_and_token_errors() {
    let (e, c, t) = default_emu().await;
    let u = e.default_user();
    let f = e.create_folder(&u, None, "Work");
    let other = e.create_folder(&u, None, "Other");
    let mut made = Vec::new();
    for i in 0..7 {
        made.push(e.outlook_create(&u, &f, json!({"givenName": format!("D{i}")})));
    }
    e.outlook_create(&u, &other, json!({"givenName": "NotTracked"}));
    let start = format!(
        "{}/me/contactFolders/{}/contacts/delta?$select=givenName",
        e.graph_url(),
        enc(&f)
    );
    let (items, delta_link, pages) = delta_round(&c, &t, &start, 3, true).await;
    assert_eq!(pages, 3);
    assert_eq!(items.len(), 7);
    assert_eq!(items[0]["@odata.type"], "#microsoft.graph.contact");
    assert!(
        items[0].get("surname").is_none(),
        "$select kept in the chain"
    );
    assert!(items.iter().all(|i| i["givenName"] != "NotTracked"));

    // Nothing changed: an empty round.
    let (none, delta_link2, _) = delta_round(&c, &t, &delta_link, 3, true).await;
    assert!(none.is_empty());

    e.outlook_edit(&u, &made[0], json!({"jobTitle": "Edited in Outlook"}));
    let (s, _, _) = call(
        &c,
        &t,
        Method::DELETE,
        &format!("{}/me/contacts/{}", e.graph_url(), enc(&made[1])),
        None,
        &[],
    )
    .await;
    assert_eq!(s, 204);
    let (changes, delta_link3, _) = delta_round(&c, &t, &delta_link2, 3, true).await;
    assert_eq!(changes.len(), 2, "{changes:?}");
    let removed: Vec<&Value> = changes
        .iter()
        .filter(|c| c.get("@removed").is_some())
        .collect();
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0]["id"], made[1].as_str());
    assert_eq!(removed[0]["@removed"]["reason"], "deleted");
    let updated = changes
        .iter()
        .find(|c| c.get("@removed").is_none())
        .unwrap();
    assert_eq!(updated["id"], made[0].as_str());

    // Malformed token → 400; $expand → 400.
    let bad = format!(
        "{}/me/contactFolders/{}/contacts/delta?$deltatoken=%25%25garbage",
        e.graph_url(),
        enc(&f)
    );
    let (s, v) = get(&c, &t, &bad).await;
    assert_eq!(s, 400);
    assert_eq!(v["error"]["message"], "Badly formed token");
    let (s, _) = get(
        &c,
        &t,
        &format!(
            "{}/me/contacts/delta?$expand=singleValueExtendedProperties($filter=id%20eq%20'{}')",
            e.graph_url(),
            enc(EXT_UID)
        ),
    )
    .await;
    assert_eq!(s, 400);

    // Old generations die: delta_link (generation 3) once three newer pages exist.
    let (_, delta_link4, _) = delta_round(&c, &t, &delta_link3, 3, true).await;
    let (s, v) = get(&c, &t, &delta_link).await;
    assert_eq!(s, 410, "{v}");
    assert_eq!(v["error"]["code"], "SyncStateNotFound");

    // Expiry by admin: the newest link is gone too.
    e.expire_delta_chains(&u);
    let (s, v) = get(&c, &t, &delta_link4).await;
    assert_eq!(s, 410);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("The sync state generation is not found;")
    );
    e.shutdown().await;
}

#[tokio::test]
async fn top_on_delta_caps_the_round_and_me_contacts_delta_tracks_default_folder() {
    let (e, c, t) = default_emu().await;
    let u = e.default_user();
    let d = e.default_folder_id(&u);
    for i in 0..5 {
        e.outlook_create(&u, &d, json!({"givenName": format!("T{i}")}));
    }
    let (items, _, _) = delta_round(
        &c,
        &t,
        &format!("{}/me/contacts/delta?$top=2", e.graph_url()),
        100,
        false,
    )
    .await;
    assert_eq!(items.len(), 2, "$top caps the total, it does not page");
    let (items, _, _) = delta_round(
        &c,
        &t,
        &format!("{}/me/contacts/delta", e.graph_url()),
        100,
        false,
    )
    .await;
    assert_eq!(items.len(), 5);
    e.shutdown().await;
}

#[tokio::test]
async fn moves_change_default_ids_but_not_immutable_ones() {
    let (e, c, t) = default_emu().await;
    let u = e.default_user();
    let d = e.default_folder_id(&u);
    let work = e.create_folder(&u, None, "Work");
    let imm = e.outlook_create(&u, &d, json!({"givenName":"Mover"}));
    let (_, before) = get(
        &c,
        &t,
        &format!("{}/me/contacts/{}", e.graph_url(), enc(&imm)),
    )
    .await;
    let default_before = before["id"].as_str().unwrap().to_owned();
    assert_ne!(default_before, imm, "default ids without the Prefer header");

    let src_start = format!(
        "{}/me/contactFolders/{}/contacts/delta",
        e.graph_url(),
        enc(&d)
    );
    let (_, src_link, _) = delta_round(&c, &t, &src_start, 50, true).await;
    e.move_contact(&u, &imm, &work);

    let (s, _) = get(
        &c,
        &t,
        &format!("{}/me/contacts/{}", e.graph_url(), enc(&default_before)),
    )
    .await;
    assert_eq!(s, 404, "the old default id is gone after a move");
    let (s, _, after) = call(
        &c,
        &t,
        Method::GET,
        &format!("{}/me/contacts/{}", e.graph_url(), enc(&imm)),
        None,
        &[("prefer", "IdType=\"ImmutableId\"")],
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(after["id"], imm.as_str());
    assert_eq!(after["parentFolderId"], work.as_str());
    let (_, plain) = get(
        &c,
        &t,
        &format!("{}/me/contacts/{}", e.graph_url(), enc(&imm)),
    )
    .await;
    assert_ne!(plain["id"], default_before.as_str());

    let (changes, _, _) = delta_round(&c, &t, &src_link, 50, true).await;
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0]["id"], imm.as_str());
    assert!(changes[0].get("@removed").is_some());
    e.shutdown().await;
}

#[tokio::test]
async fn extended_properties_expand_filter_and_survive_outlook_edits() {
    let (e, c, t) = default_emu().await;
    let u = e.default_user();
    let g = e.graph_url();
    for (name, uid) in [("A", "uid-a"), ("B", "uid-b")] {
        let (s, _, _) = call(
            &c,
            &t,
            Method::POST,
            &format!("{g}/me/contacts"),
            Some(json!({"givenName": name, "singleValueExtendedProperties":[{"id": EXT_UID, "value": uid}]})),
            &[("prefer", "IdType=\"ImmutableId\"")],
        )
        .await;
        assert_eq!(s, 201);
    }
    let filter = format!(
        "singleValueExtendedProperties/Any(ep: ep/id eq '{EXT_UID}' and ep/value eq 'uid-b')"
    );
    let expand = format!("singleValueExtendedProperties($filter=id eq '{EXT_UID}')");
    let url = format!(
        "{g}/me/contacts?$filter={}&$expand={}",
        enc(&filter),
        enc(&expand)
    );
    let (s, found) = get(&c, &t, &url).await;
    assert_eq!(s, 200, "{found}");
    let v = found["value"].as_array().unwrap();
    assert_eq!(v.len(), 1);
    assert_eq!(v[0]["givenName"], "B");
    assert_eq!(v[0]["singleValueExtendedProperties"][0]["value"], "uid-b");

    let id = v[0]["id"].as_str().unwrap().to_owned();
    let (_, plain) = get(&c, &t, &format!("{g}/me/contacts/{}", enc(&id))).await;
    assert!(plain.get("singleValueExtendedProperties").is_none());

    e.outlook_edit(
        &u,
        &id,
        json!({"surname":"Edited","singleValueExtendedProperties":[{"id": EXT_UID, "value":"clobbered"}]}),
    );
    let after = e.contact(&u, &id).unwrap();
    assert_eq!(after["surname"], "Edited");
    assert_eq!(after["singleValueExtendedProperties"][0]["value"], "uid-b");

    let (s, bad) = get(
        &c,
        &t,
        &format!("{g}/me/contacts?$filter=endswith(displayName,'x')"),
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(bad["error"]["code"], "ErrorInvalidUrlQueryFilter");
    let (_, by_mail) = get(
        &c,
        &t,
        &format!(
            "{g}/me/contacts?$filter={}",
            enc("emailAddresses/any(a:a/address eq 'nobody@x')")
        ),
    )
    .await;
    assert_eq!(by_mail["value"].as_array().unwrap().len(), 0);
    e.shutdown().await;
}

#[tokio::test]
async fn photos_are_404_until_put_and_refused_for_non_images_and_personal_accounts() {
    let (e, c, t) = default_emu().await;
    let u = e.default_user();
    let id = e.outlook_create(&u, &e.default_folder_id(&u), json!({"givenName":"Pic"}));
    let url = format!("{}/me/contacts/{}/photo/$value", e.graph_url(), enc(&id));
    let (s, v) = get(&c, &t, &url).await;
    assert_eq!(s, 404);
    assert_eq!(v["error"]["code"], "ErrorItemNotFound");
    let jpeg = vec![0xff, 0xd8, 0xff, 0xe0, 1, 2, 3];
    let before = e.contact(&u, &id).unwrap()["changeKey"].clone();
    let r = c
        .put(&url)
        .bearer_auth(&t)
        .header("content-type", "image/jpeg")
        .body(jpeg.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_ne!(e.contact(&u, &id).unwrap()["changeKey"], before);
    let r = c.get(&url).bearer_auth(&t).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    assert_eq!(r.bytes().await.unwrap().to_vec(), jpeg);
    let r = c
        .put(&url)
        .bearer_auth(&t)
        .header("content-type", "text/plain")
        .body("nope")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    let r = c.delete(&url).bearer_auth(&t).send().await.unwrap();
    assert_eq!(r.status(), 405);
    let (s, v) = get(
        &c,
        &t,
        &format!(
            "{}/me/contacts/{}/photos/48x48/$value",
            e.graph_url(),
            enc(&id)
        ),
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(v["error"]["code"], "RequestBroker--ParseUri");
    e.shutdown().await;

    let (p, c) = emu(EmulatorConfig {
        personal: true,
        ..EmulatorConfig::default()
    })
    .await;
    let u = p.default_user();
    let id = p.outlook_create(&u, &p.default_folder_id(&u), json!({"givenName":"Pic"}));
    let r = c
        .put(format!(
            "{}/me/contacts/{}/photo/$value",
            p.graph_url(),
            enc(&id)
        ))
        .bearer_auth(p.default_token())
        .header("content-type", "image/jpeg")
        .body(vec![0xff, 0xd8])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    p.shutdown().await;
}

#[tokio::test]
async fn batch_runs_sub_requests_with_depends_on_and_424() {
    let (e, c, t) = default_emu().await;
    let u = e.default_user();
    let id = e.outlook_create(&u, &e.default_folder_id(&u), json!({"givenName":"Batched"}));
    let body = json!({"requests": [
        {"id":"1","method":"GET","url": format!("/me/contacts/{}?$select=givenName", enc(&id))},
        {"id":"2","method":"PATCH","url": format!("/me/contacts/{}", enc(&id)),
         "headers":{"Content-Type":"application/json"},"body":{"jobTitle":"CTO"}},
        {"id":"3","method":"GET","url":"/me/contacts/doesnotexist"},
        {"id":"4","dependsOn":["3"],"method":"GET","url":"/me/contacts"},
        {"id":"5","method":"PUT","url": format!("/me/contacts/{}/photo/$value", enc(&id)),
         "headers":{"Content-Type":"image/jpeg"},"body":"/9j/4AAQ"}
    ]});
    let (s, _, v) = call(
        &c,
        &t,
        Method::POST,
        &format!("{}/$batch", e.graph_url()),
        Some(body),
        &[],
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let by_id = |i: &str| {
        v["responses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == i)
            .cloned()
            .unwrap()
    };
    assert_eq!(by_id("1")["status"], 200);
    assert_eq!(by_id("1")["body"]["givenName"], "Batched");
    assert_eq!(by_id("2")["status"], 200);
    assert_eq!(by_id("3")["status"], 404);
    assert_eq!(by_id("4")["status"], 424);
    assert_eq!(by_id("5")["status"], 200);
    assert_eq!(e.contact(&u, &id).unwrap()["jobTitle"], "CTO");

    let many: Vec<Value> = (0..21)
        .map(|i| json!({"id": i.to_string(), "method":"GET","url":"/me"}))
        .collect();
    let (s, _, _) = call(
        &c,
        &t,
        Method::POST,
        &format!("{}/$batch", e.graph_url()),
        Some(json!({"requests": many})),
        &[],
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(e.stats().batch_subrequests, 4, "the 424 one never ran");
    e.shutdown().await;
}

#[tokio::test]
async fn throttling_gives_429_with_retry_after_on_concurrency_and_request_window() {
    let (e, c, t) = default_emu().await;
    // Hold requests inside the mailbox slot long enough for five to overlap.
    e.add_fault(Fault {
        path_contains: Some("/me/contactFolders".into()),
        delay_ms: Some(1500),
        ..Fault::default()
    });
    let url = format!("{}/me/contactFolders", e.graph_url());
    let futs: Vec<_> = (0..6).map(|_| c.get(&url).bearer_auth(&t).send()).collect();
    let results = futures_util::future::join_all(futs).await;
    let mut throttled = 0;
    for r in results {
        let r = r.unwrap();
        if r.status() == 429 {
            throttled += 1;
            assert!(r.headers().get("retry-after").is_some());
            let v: Value = r.json().await.unwrap();
            assert_eq!(v["error"]["code"], "ApplicationThrottled");
        } else {
            assert_eq!(r.status(), 200);
        }
    }
    assert!(throttled >= 2, "6 concurrent requests, 4 slots");
    assert!(e.stats().throttled >= 2);
    e.clear_faults();

    let r = c
        .post(format!("{}/_emulator/settings", e.base_url()))
        .json(&json!({"window_requests": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    for _ in 0..2 {
        assert_eq!(get(&c, &t, &format!("{}/me", e.graph_url())).await.0, 200);
    }
    let r = c
        .get(format!("{}/me", e.graph_url()))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait > 1);
    e.set_throttle(false);
    assert_eq!(get(&c, &t, &format!("{}/me", e.graph_url())).await.0, 200);
    e.shutdown().await;
}

#[tokio::test]
async fn faults_answer_status_once_or_drop_the_connection() {
    let (e, c, t) = default_emu().await;
    let r = c
        .post(format!("{}/_emulator/faults", e.base_url()))
        .json(
            &json!({"path_contains": "/me/contacts", "status": 503, "retry_after": 3, "count": 1}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = c
        .get(format!("{}/me/contacts", e.graph_url()))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "3");
    assert_eq!(
        get(&c, &t, &format!("{}/me/contacts", e.graph_url()))
            .await
            .0,
        200
    );
    e.add_fault(Fault {
        path_contains: Some("/me/contacts".into()),
        drop_connection: true,
        count: Some(1),
        ..Fault::default()
    });
    assert!(
        c.get(format!("{}/me/contacts", e.graph_url()))
            .bearer_auth(&t)
            .send()
            .await
            .is_err()
    );
    assert_eq!(
        get(&c, &t, &format!("{}/me/contacts", e.graph_url()))
            .await
            .0,
        200
    );
    let r = c
        .delete(format!("{}/_emulator/faults", e.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    e.shutdown().await;
}

async fn form(c: &Client, url: &str, pairs: &[(&str, &str)]) -> (StatusCode, Value) {
    let r = c.post(url).form(pairs).send().await.unwrap();
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn device_code_flow_refresh_rotation_and_revocation() {
    let (e, c) = emu(EmulatorConfig::default()).await;
    let auth = format!("{}/common/oauth2/v2.0", e.base_url());
    let cid = e.client_id();
    let (s, dc) = form(
        &c,
        &format!("{auth}/devicecode"),
        &[
            ("client_id", &cid),
            ("scope", "offline_access Contacts.ReadWrite"),
        ],
    )
    .await;
    assert_eq!(s, 200);
    let device_code = dc["device_code"].as_str().unwrap().to_owned();
    let grant = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
        ("client_id", cid.as_str()),
        ("device_code", device_code.as_str()),
    ];
    let (s, pending) = form(&c, &format!("{auth}/token"), &grant).await;
    assert_eq!(s, 400);
    assert_eq!(pending["error"], "authorization_pending");
    let r = c
        .post(format!("{}/_emulator/device/approve", e.base_url()))
        .json(&json!({"user_code": dc["user_code"]}))
        .send()
        .await
        .unwrap();
    let approved: Value = r.json().await.unwrap();
    assert_eq!(approved["approved"], true);
    let (s, tok) = form(&c, &format!("{auth}/token"), &grant).await;
    assert_eq!(s, 200, "{tok}");
    let access = tok["access_token"].as_str().unwrap().to_owned();
    let refresh = tok["refresh_token"].as_str().unwrap().to_owned();
    let (s, me) = get(&c, &access, &format!("{}/me", e.graph_url())).await;
    assert_eq!(s, 200);
    assert_eq!(me["id"], e.default_user().as_str());

    let (s, rot) = form(
        &c,
        &format!("{auth}/token"),
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &cid),
            ("refresh_token", &refresh),
        ],
    )
    .await;
    assert_eq!(s, 200);
    assert_ne!(
        rot["refresh_token"],
        refresh.as_str(),
        "refresh tokens rotate"
    );
    let newest = rot["refresh_token"].as_str().unwrap().to_owned();

    e.revoke(&e.default_user());
    let (s, err) = form(
        &c,
        &format!("{auth}/token"),
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &cid),
            ("refresh_token", &newest),
        ],
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(err["error"], "invalid_grant");
    let (s, v) = get(&c, &access, &format!("{}/me/contacts", e.graph_url())).await;
    assert_eq!(s, 401);
    assert_eq!(v["error"]["code"], "InvalidAuthenticationToken");

    // Expired device code.
    let (_, dc2) = form(&c, &format!("{auth}/devicecode"), &[("client_id", &cid)]).await;
    let r = c
        .post(format!("{}/_emulator/device/expire", e.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (_, expired) = form(
        &c,
        &format!("{auth}/token"),
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("client_id", &cid),
            ("device_code", dc2["device_code"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(expired["error"], "expired_token");
    e.shutdown().await;
}

fn pkce_pair() -> (String, String) {
    use base64::Engine;
    use sha2::Digest;
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".to_owned();
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

#[tokio::test]
async fn authorization_code_with_pkce_auto_approved_and_by_form() {
    let (e, c) = emu(EmulatorConfig {
        auto_approve: true,
        ..EmulatorConfig::default()
    })
    .await;
    let auth = format!("{}/organizations/oauth2/v2.0", e.base_url());
    let (verifier, challenge) = pkce_pair();
    let redirect = "http://localhost:8765/callback";
    let r = c
        .get(format!("{auth}/authorize"))
        .query(&[
            ("client_id", "app"),
            ("response_type", "code"),
            ("redirect_uri", redirect),
            ("scope", "offline_access Contacts.ReadWrite"),
            ("state", "st8"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    let loc = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
    assert!(loc.as_str().starts_with(redirect));
    let q: std::collections::HashMap<String, String> = loc.query_pairs().into_owned().collect();
    assert_eq!(q["state"], "st8");
    let code = q["code"].clone();
    let (s, wrong) = form(
        &c,
        &format!("{auth}/token"),
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "app"),
            ("code", &code),
            ("redirect_uri", redirect),
            ("code_verifier", "not-the-verifier"),
        ],
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(wrong["error"], "invalid_grant");
    e.shutdown().await;

    // Without auto-approve: a form, then a redirect with a code that the verifier redeems.
    let (e, c) = emu(EmulatorConfig::default()).await;
    let auth = format!("{}/common/oauth2/v2.0", e.base_url());
    let params = [
        ("client_id", "app"),
        ("response_type", "code"),
        ("redirect_uri", redirect),
        ("state", "s2"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let r = c
        .get(format!("{auth}/authorize"))
        .query(&params)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("<form"));
    let mut submit: Vec<(&str, &str)> = params.to_vec();
    submit.push(("login", "demo@cardbridge.test"));
    submit.push(("decision", "approve"));
    let r = c
        .post(format!("{auth}/authorize"))
        .form(&submit)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    let loc = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
    let q: std::collections::HashMap<String, String> = loc.query_pairs().into_owned().collect();
    let (s, tok) = form(
        &c,
        &format!("{auth}/token"),
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "app"),
            ("code", &q["code"]),
            ("redirect_uri", redirect),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(s, 200, "{tok}");
    let (s, _) = get(
        &c,
        tok["access_token"].as_str().unwrap(),
        &format!("{}/me/contacts", e.graph_url()),
    )
    .await;
    assert_eq!(s, 200);
    e.shutdown().await;
}

#[tokio::test]
async fn client_credentials_are_app_only_me_is_400_users_path_works() {
    let (e, c) = emu(EmulatorConfig::default()).await;
    let auth = format!("{}/contoso.onmicrosoft.com/oauth2/v2.0", e.base_url());
    let (s, tok) = form(
        &c,
        &format!("{auth}/token"),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "app"),
            ("client_secret", "s3cret"),
            ("scope", "https://graph.microsoft.com/.default"),
        ],
    )
    .await;
    assert_eq!(s, 200);
    assert!(tok.get("refresh_token").is_none());
    let at = tok["access_token"].as_str().unwrap();
    let (s, v) = get(&c, at, &format!("{}/me/contacts", e.graph_url())).await;
    assert_eq!(s, 400);
    assert_eq!(
        v["error"]["message"],
        "/me request is only valid with delegated authentication flow."
    );
    let (s, _) = get(
        &c,
        at,
        &format!("{}/users/demo%40cardbridge.test/contacts", e.graph_url()),
    )
    .await;
    assert_eq!(s, 200);
    let (s, v) = get(
        &c,
        at,
        &format!("{}/users/nobody@x/contacts", e.graph_url()),
    )
    .await;
    assert_eq!(s, 404);
    assert_eq!(v["error"]["code"], "ErrorInvalidUser");

    // A delegated token cannot read someone else's mailbox.
    let other = e.add_user("other@cardbridge.test");
    let (s, _) = get(
        &c,
        &e.default_token(),
        &format!("{}/users/{other}/contacts", e.graph_url()),
    )
    .await;
    assert_eq!(s, 403);
    let (s, v) = get(&c, "garbage", &format!("{}/me", e.graph_url())).await;
    assert_eq!(s, 401);
    assert_eq!(v["error"]["code"], "InvalidAuthenticationToken");
    e.shutdown().await;
}

#[tokio::test]
async fn admin_api_seeds_edits_and_counts_requests() {
    let (e, c, t) = default_emu().await;
    let admin = format!("{}/_emulator", e.base_url());
    let r = c
        .post(format!("{admin}/seed"))
        .json(&json!({"count": 40, "rng_seed": 9}))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["seeded"], 40);
    let u = e.default_user();
    let r = c
        .get(format!("{admin}/users/{u}/contacts/count"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["count"], 40);
    assert_eq!(e.folders(&u).len(), 4);

    let r = c
        .post(format!("{admin}/users/demo@cardbridge.test/contacts"))
        .json(&json!({"givenName":"Admin","surname":"Made"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let made: Value = r.json().await.unwrap();
    let id = made["id"].as_str().unwrap().to_owned();
    let r = c
        .patch(format!("{admin}/users/{u}/contacts/{}", enc(&id)))
        .json(&json!({"jobTitle":"Outlook edit"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(e.contact(&u, &id).unwrap()["jobTitle"], "Outlook edit");
    let r = c
        .delete(format!("{admin}/users/{u}/contacts/{}", enc(&id)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert!(e.contact(&u, &id).is_none());

    c.post(format!("{admin}/stats/reset")).send().await.unwrap();
    get(&c, &t, &format!("{}/me/contacts", e.graph_url())).await;
    get(&c, &t, &format!("{}/me/contacts/nope", e.graph_url())).await;
    let stats: Value = c
        .get(format!("{admin}/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["total"], 2);
    assert_eq!(stats["by_route"]["GET /{u}/contacts"], 1);
    assert_eq!(stats["by_route"]["GET /{u}/contacts/{id}"], 1);
    assert_eq!(stats["by_status"]["404"], 1);
    e.shutdown().await;
}

#[tokio::test]
async fn folder_delta_reports_the_tree_renames_and_removals() {
    let (e, c, t) = default_emu().await;
    let u = e.default_user();
    let work = e.create_folder(&u, None, "Work");
    let clients = e.create_folder(&u, Some(&work), "Clients");
    let g = e.graph_url();
    let (items, link, _) =
        delta_round(&c, &t, &format!("{g}/me/contactFolders/delta"), 50, false).await;
    let names: Vec<&str> = items
        .iter()
        .map(|f| f["displayName"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        vec!["Work", "Clients"],
        "whole tree, default folder excluded"
    );
    assert_eq!(items[0]["@odata.type"], "#microsoft.graph.contactFolder");

    let (s, _, _) = call(
        &c,
        &t,
        Method::PATCH,
        &format!("{g}/me/contactFolders/{}", enc(&work)),
        Some(json!({"displayName":"Job"})),
        &[],
    )
    .await;
    assert_eq!(s, 200);
    let (s, _, _) = call(
        &c,
        &t,
        Method::DELETE,
        &format!("{g}/me/contactFolders/{}", enc(&clients)),
        None,
        &[],
    )
    .await;
    assert_eq!(s, 204);
    let (changes, _, _) = delta_round(&c, &t, &link, 50, false).await;
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert_eq!(changes[0]["displayName"], "Job");
    assert_eq!(changes[1]["id"], clients.as_str());
    assert!(changes[1].get("@removed").is_some());
    e.shutdown().await;
}

#[tokio::test]
async fn beta_alias_open_extensions_if_match_switch_and_2026_email_slots() {
    let (e, c, t) = default_emu().await;
    let u = e.default_user();
    let id = e.outlook_create(
        &u,
        &e.default_folder_id(&u),
        json!({"givenName":"Ext","emailAddresses":[{"address":"a@x"},{"address":"b@x"}]}),
    );
    let beta = format!("{}/beta/me/contacts/{}", e.base_url(), enc(&id));
    let (s, v) = get(&c, &t, &beta).await;
    assert_eq!(s, 200);
    assert!(v.get("primaryEmailAddress").is_none());

    let (s, _, ext) = call(
        &c,
        &t,
        Method::POST,
        &format!("{beta}/extensions"),
        Some(json!({"@odata.type":"microsoft.graph.openTypeExtension","extensionName":"com.example.bridge","rev":"1"})),
        &[],
    )
    .await;
    assert_eq!(s, 201);
    assert_eq!(
        ext["id"],
        "Microsoft.OutlookServices.OpenTypeExtension.com.example.bridge"
    );
    let (s, got) = get(&c, &t, &format!("{beta}/extensions/com.example.bridge")).await;
    assert_eq!(s, 200);
    assert_eq!(got["rev"], "1");
    let (_, expanded) = get(
        &c,
        &t,
        &format!(
            "{beta}?$expand={}",
            enc("extensions($filter=id eq 'Microsoft.OutlookServices.OpenTypeExtension.com.example.bridge')")
        ),
    )
    .await;
    assert_eq!(expanded["extensions"][0]["rev"], "1");

    let mut settings = e.settings();
    settings.enforce_if_match = false;
    settings.schema_2026 = true;
    e.set_settings(settings);
    let (s, _, patched) = call(
        &c,
        &t,
        Method::PATCH,
        &format!("{}/me/contacts/{}", e.graph_url(), enc(&id)),
        Some(json!({"jobTitle":"ignored etag"})),
        &[("if-match", "W/\"stale\"")],
    )
    .await;
    assert_eq!(s, 200, "If-Match not enforced when switched off");
    assert_eq!(patched["primaryEmailAddress"]["address"], "a@x");
    assert_eq!(patched["secondaryEmailAddress"]["address"], "b@x");
    assert_eq!(patched["tertiaryEmailAddress"], Value::Null);
    e.shutdown().await;
}

#[tokio::test]
async fn parallel_batch_overflow_can_be_throttled_per_sub_request() {
    let (e, c, t) = default_emu().await;
    let mut s = e.settings();
    s.batch_overflow_throttled = true;
    e.set_settings(s);
    let reqs: Vec<Value> = (0..6)
        .map(|i| json!({"id": i.to_string(), "method":"GET","url":"/me/contactFolders"}))
        .collect();
    let (status, _, v) = call(
        &c,
        &t,
        Method::POST,
        &format!("{}/$batch", e.graph_url()),
        Some(json!({ "requests": reqs })),
        &[],
    )
    .await;
    assert_eq!(status, 200);
    let statuses: Vec<u64> = v["responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, vec![200, 200, 200, 200, 429, 429]);
    let throttled = &v["responses"][4];
    assert_eq!(throttled["headers"]["retry-after"], "1");
    assert_eq!(throttled["body"]["error"]["code"], "ApplicationThrottled");
    e.shutdown().await;
}
