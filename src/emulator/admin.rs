//! The admin / control API under `/_emulator/` (reference/graph.md §13.1 point 7).
//!
//! JSON in, JSON out, no authentication (loopback test tool). `{u}` is a user id or UPN.
//!
//! | Method & path | Body → answer |
//! |---|---|
//! | `GET /_emulator/info` | → `{base_url, graph_url, default_user, client_id, users}` |
//! | `POST /_emulator/seed` | `{user?, count, rng_seed?}` → `{user, seeded}` |
//! | `POST /_emulator/seed-json` | seed document (see `seed`) → `{}` |
//! | `GET /_emulator/stats`, `POST /_emulator/stats/reset` | → `Stats` |
//! | `GET / POST / DELETE /_emulator/faults` | `Fault` or `[Fault]` → list |
//! | `GET / POST /_emulator/settings` | partial settings (`throttle`, `concurrency`, `window_requests`, `window_secs`, `enforce_if_match`, `personal`, `schema_2026`, `default_page_size`, `max_top`, `delta_default_page_size`, `delta_max_page_size`, `photo_bumps_change_key`, `batch_overflow_throttled`) → all settings |
//! | `POST /_emulator/users` | `{upn}` → `{id}` |
//! | `POST /_emulator/users/{u}/token` | → `{access_token}` |
//! | `GET /_emulator/users/{u}/folders` | → `[ContactFolder]` (default first) |
//! | `POST /_emulator/users/{u}/folders` | `{display_name, parent_id?}` → `{id}` |
//! | `POST /_emulator/users/{u}/contacts[?folder=ID]` | Graph contact JSON → the contact |
//! | `GET / PATCH / DELETE /_emulator/users/{u}/contacts/{id}` | Outlook-side read / edit / delete |
//! | `POST /_emulator/users/{u}/contacts/{id}/move` | `{folder_id}` → `{id}` (new default id) |
//! | `GET /_emulator/users/{u}/contacts/count` | → `{count}` |
//! | `POST /_emulator/users/{u}/expire-delta` | → `{}` (every delta link → 410) |
//! | `POST /_emulator/revoke` | `{user}` → `{}` (refresh → `invalid_grant`, tokens → 401) |
//! | `POST /_emulator/device/approve` | `{user_code, user?}` → `{approved}` |
//! | `POST /_emulator/device/decline` | `{user_code}` → `{declined}` |
//! | `POST /_emulator/device/expire` | → `{}` (pending codes → `expired_token`) |

use super::errors::GraphErr;
use super::faults::Fault;
use super::request::Reply;
use super::server::Shared;
use super::throttle::Limits;
use super::world::Settings;
use serde_json::{Map, Value, json};

fn ok(v: Value) -> Reply {
    Reply::json(200, v)
}

fn err(e: GraphErr) -> Reply {
    Reply::error(e)
}

fn bad(msg: impl Into<String>) -> Reply {
    err(GraphErr::new(400, "BadRequest", msg))
}

fn body_json(body: &[u8]) -> Result<Value, GraphErr> {
    if body.is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    serde_json::from_slice(body)
        .map_err(|e| GraphErr::new(400, "BadRequest", format!("invalid JSON: {e}")))
}

fn invalid(msg: impl Into<String>) -> GraphErr {
    GraphErr::new(400, "BadRequest", msg)
}

fn settings_json(shared: &Shared) -> Value {
    let mut v = serde_json::to_value(shared.world().settings.clone()).unwrap_or_default();
    let l = shared.throttle.limits();
    if let Some(o) = v.as_object_mut() {
        o.insert("throttle".into(), json!(l.enabled));
        o.insert("concurrency".into(), json!(l.concurrency));
        o.insert("window_requests".into(), json!(l.window_requests));
        o.insert("window_secs".into(), json!(l.window_secs));
    }
    v
}

fn update_settings(shared: &Shared, patch: &Value) -> Result<(), GraphErr> {
    let Some(p) = patch.as_object() else {
        return Err(invalid("settings must be a JSON object"));
    };
    let mut current = serde_json::to_value(shared.world().settings.clone()).unwrap_or_default();
    let mut limits = serde_json::to_value(shared.throttle.limits()).unwrap_or_default();
    for (k, v) in p {
        let key = if k == "throttle" {
            "enabled"
        } else {
            k.as_str()
        };
        if let Some(o) = limits.as_object_mut().filter(|o| o.contains_key(key)) {
            o.insert(key.to_owned(), v.clone());
        } else if let Some(o) = current.as_object_mut().filter(|o| o.contains_key(key)) {
            o.insert(key.to_owned(), v.clone());
        } else {
            return Err(invalid(format!("unknown setting '{k}'")));
        }
    }
    let s: Settings = serde_json::from_value(current).map_err(|e| invalid(e.to_string()))?;
    let l: Limits = serde_json::from_value(limits).map_err(|e| invalid(e.to_string()))?;
    shared.world().settings = s;
    shared.throttle.set_limits(l);
    Ok(())
}

/// Handle one admin request.
pub fn handle(
    shared: &Shared,
    method: &http::Method,
    path: &str,
    query: &str,
    body: &[u8],
    origin: &str,
) -> Reply {
    let segs: Vec<String> = super::routes::segments(path);
    let segs: Vec<&str> = segs.iter().skip(1).map(String::as_str).collect();
    let json = match body_json(body) {
        Ok(v) => v,
        Err(e) => return err(e),
    };
    let s = |k: &str| json.get(k).and_then(Value::as_str).map(str::to_owned);
    let m = method.as_str();
    match (m, segs.as_slice()) {
        ("GET", [] | ["info"]) => {
            let users: Vec<Value> = shared
                .world()
                .users
                .values()
                .map(|mb| json!({"id": mb.id, "upn": mb.upn, "contacts": mb.contacts.len()}))
                .collect();
            ok(json!({
                "base_url": origin,
                "graph_url": format!("{origin}/v1.0"),
                "default_user": shared.default_user,
                "client_id": shared.client_id,
                "users": users,
            }))
        }
        ("POST", ["seed"]) => {
            let user = s("user").unwrap_or_else(|| shared.default_user.clone());
            let count = json.get("count").and_then(Value::as_u64).unwrap_or(0) as usize;
            let rng = json.get("rng_seed").and_then(Value::as_u64).unwrap_or(1);
            match shared.op_seed_sample(&user, count, rng) {
                Ok(n) => ok(json!({"user": user, "seeded": n})),
                Err(e) => err(e),
            }
        }
        ("POST", ["seed-json"]) => {
            let text = String::from_utf8_lossy(body);
            match shared.op_seed_json(&text) {
                Ok(()) => ok(json!({})),
                Err(e) => bad(e.to_string()),
            }
        }
        ("GET", ["stats"]) => ok(serde_json::to_value(shared.stats.snapshot()).unwrap_or_default()),
        ("POST", ["stats", "reset"]) => {
            shared.stats.reset();
            ok(serde_json::to_value(shared.stats.snapshot()).unwrap_or_default())
        }
        ("GET", ["faults"]) => ok(serde_json::to_value(shared.faults.list()).unwrap_or_default()),
        ("POST", ["faults"]) => {
            let list: Result<Vec<Fault>, _> = if json.is_array() {
                serde_json::from_value(json.clone())
            } else {
                serde_json::from_value(json.clone()).map(|f| vec![f])
            };
            match list {
                Ok(l) => {
                    for f in l {
                        shared.faults.add(f);
                    }
                    ok(serde_json::to_value(shared.faults.list()).unwrap_or_default())
                }
                Err(e) => bad(format!("invalid fault: {e}")),
            }
        }
        ("DELETE", ["faults"]) => {
            shared.faults.clear();
            ok(json!([]))
        }
        ("GET", ["settings"]) => ok(settings_json(shared)),
        ("POST", ["settings"]) => match update_settings(shared, &json) {
            Ok(()) => ok(settings_json(shared)),
            Err(e) => err(e),
        },
        ("POST", ["users"]) => match s("upn") {
            Some(upn) => ok(json!({"id": shared.op_add_user(&upn)})),
            None => bad("upn missing"),
        },
        ("POST", ["users", u, "token"]) => match shared.op_mint_token(u) {
            Ok(t) => ok(json!({"access_token": t})),
            Err(e) => err(e),
        },
        ("GET", ["users", u, "folders"]) => match shared.op_folders(u) {
            Ok(f) => ok(serde_json::to_value(f).unwrap_or_default()),
            Err(e) => err(e),
        },
        ("POST", ["users", u, "folders"]) => {
            let Some(name) = s("display_name").or_else(|| s("displayName")) else {
                return bad("display_name missing");
            };
            match shared.op_create_folder(u, s("parent_id").as_deref(), &name) {
                Ok(id) => ok(json!({"id": id})),
                Err(e) => err(e),
            }
        }
        ("GET", ["users", u, "contacts", "count"]) => match shared.op_contact_count(u) {
            Ok(n) => ok(json!({"count": n})),
            Err(e) => err(e),
        },
        ("POST", ["users", u, "contacts"]) => {
            let folder = super::query::parse_pairs(query)
                .into_iter()
                .find(|(k, _, _)| k == "folder")
                .map(|(_, v, _)| v);
            match shared
                .op_outlook_create(u, folder.as_deref(), &json)
                .and_then(|id| shared.op_contact(u, &id))
            {
                Ok(c) => Reply::json(201, c),
                Err(e) => err(e),
            }
        }
        ("GET", ["users", u, "contacts", id]) => match shared.op_contact(u, id) {
            Ok(c) => ok(c),
            Err(e) => err(e),
        },
        ("PATCH", ["users", u, "contacts", id]) => match shared
            .op_outlook_edit(u, id, &json)
            .and_then(|()| shared.op_contact(u, id))
        {
            Ok(c) => ok(c),
            Err(e) => err(e),
        },
        ("DELETE", ["users", u, "contacts", id]) => match shared.op_outlook_delete(u, id) {
            Ok(()) => Reply::empty(204),
            Err(e) => err(e),
        },
        ("POST", ["users", u, "contacts", id, "move"]) => {
            let Some(to) = s("folder_id") else {
                return bad("folder_id missing");
            };
            match shared.op_move(u, id, &to) {
                Ok(new_id) => ok(json!({"id": new_id})),
                Err(e) => err(e),
            }
        }
        ("POST", ["users", u, "expire-delta"]) => match shared.op_expire_delta(u) {
            Ok(()) => ok(json!({})),
            Err(e) => err(e),
        },
        ("POST", ["revoke"]) => {
            let user = s("user").unwrap_or_else(|| shared.default_user.clone());
            match shared.op_revoke(&user) {
                Ok(()) => ok(json!({})),
                Err(e) => err(e),
            }
        }
        ("POST", ["device", "approve"]) => {
            let Some(code) = s("user_code") else {
                return bad("user_code missing");
            };
            let user = s("user").unwrap_or_else(|| shared.default_user.clone());
            ok(json!({"approved": shared.op_approve_device(&code, &user)}))
        }
        ("POST", ["device", "decline"]) => {
            let Some(code) = s("user_code") else {
                return bad("user_code missing");
            };
            ok(json!({"declined": shared.oauth.decline_device(&code)}))
        }
        ("POST", ["device", "expire"]) => {
            shared.oauth.expire_device_codes();
            ok(json!({}))
        }
        _ => err(GraphErr::new(
            404,
            "NotFound",
            format!("no admin route {m} {path}"),
        )),
    }
}
