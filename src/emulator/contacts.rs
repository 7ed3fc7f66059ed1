//! Contact endpoints (reference/graph.md §3 rows 1–9, 24–25; §4.1–§4.5, §4.9, §5.2).
//!
//! List (one folder, never subfolders; `$filter`, `$orderby`, `$count`, `$expand` of
//! extended properties), get by id from any folder, create (201, extended properties
//! stored but not echoed), PATCH (200 with the full contact), DELETE (204; a second
//! DELETE is 404), `permanentDelete` (411 without `Content-Length`), `If-Match` checks
//! giving 412 `ErrorIrresolvableConflict`, and open extensions.

use super::errors::{GraphErr, GraphResult};
use super::graph::{Ctx, contact_known, list_page};
use super::props::WriteMode;
use super::query::{Query, order_cmp};
use super::request::Reply;
use super::world::StoredContact;
use serde_json::{Map, Value, json};

const WRITE: WriteMode = WriteMode {
    create: false,
    allow_extended: true,
};

fn sort_value(c: &StoredContact, prop: &str) -> Value {
    match prop {
        "createdDateTime" => Value::String(c.created.clone()),
        "lastModifiedDateTime" => Value::String(c.modified.clone()),
        "id" => Value::String(c.immutable_id.clone()),
        _ => c.props.get(prop).cloned().unwrap_or(Value::Null),
    }
}

/// `GET …/contacts`: contacts of one folder.
pub fn list(ctx: &mut Ctx<'_>, folder: u64) -> GraphResult<Reply> {
    let q = ctx.query(&contact_known)?;
    let mb = &*ctx.mb;
    let mut items: Vec<&StoredContact> = mb.contacts_in(folder).collect();
    if let Some(f) = &q.filter {
        items.retain(|c| f.matches(&mb.filter_view(c)));
    }
    sort(&mut items, &q);
    let opts = ctx.render_opts(&q);
    let suffix = match &q.select {
        Some(s) => format!("contacts({})", s.join(",")),
        None => "contacts".into(),
    };
    list_page(
        ctx.req,
        ctx.settings,
        &q,
        &items,
        ctx.context(&suffix),
        |c| Value::Object(mb.render_contact(c, &opts)),
    )
}

fn sort(items: &mut [&StoredContact], q: &Query) {
    if q.orderby.is_empty() {
        return;
    }
    items.sort_by(|a, b| {
        for k in &q.orderby {
            let o = order_cmp(&sort_value(a, &k.property), &sort_value(b, &k.property));
            let o = if k.descending { o.reverse() } else { o };
            if o.is_ne() {
                return o;
            }
        }
        a.key.cmp(&b.key)
    });
}

/// `POST …/contacts`.
pub fn create(ctx: &mut Ctx<'_>, folder: u64) -> GraphResult<Reply> {
    let body = ctx.req.json_body()?;
    let key = ctx.mb.create_contact(
        folder,
        &body,
        WriteMode {
            create: true,
            allow_extended: true,
        },
    )?;
    let r = render_one(ctx, key, &Query::default(), "contacts/$entity")?;
    Ok(Reply { status: 201, ..r })
}

fn find(ctx: &Ctx<'_>, id: &str) -> GraphResult<u64> {
    ctx.mb.contact_key(id).ok_or_else(GraphErr::not_found)
}

fn render_one(ctx: &Ctx<'_>, key: u64, q: &Query, suffix: &str) -> GraphResult<Reply> {
    let c = ctx.mb.contacts.get(&key).ok_or_else(GraphErr::not_found)?;
    let mut m = Map::new();
    m.insert("@odata.context".into(), Value::String(ctx.context(suffix)));
    m.extend(ctx.mb.render_contact(c, &ctx.render_opts(q)));
    Ok(Reply::json(200, Value::Object(m)))
}

/// `GET …/contacts/{id}` (any folder, §0 point 1).
pub fn get(ctx: &mut Ctx<'_>, id: &str) -> GraphResult<Reply> {
    let q = ctx.query(&contact_known)?;
    let key = find(ctx, id)?;
    render_one(ctx, key, &q, "contacts/$entity")
}

/// §4.9: `*`, the exact `@odata.etag`, or the bare change key match.
fn check_if_match(ctx: &Ctx<'_>, key: u64) -> GraphResult<()> {
    if !ctx.settings.enforce_if_match {
        return Ok(());
    }
    let Some(want) = ctx.req.header("if-match") else {
        return Ok(());
    };
    let Some(c) = ctx.mb.contacts.get(&key) else {
        return Err(GraphErr::not_found());
    };
    let current = ctx.mb.change_key(c.change_seq);
    let ok = want.split(',').map(str::trim).any(|w| {
        let bare = w.trim_start_matches("W/").trim_matches('"');
        w == "*" || bare == current
    });
    if ok {
        Ok(())
    } else {
        Err(GraphErr::irresolvable_conflict())
    }
}

/// `PATCH …/contacts/{id}`.
pub fn update(ctx: &mut Ctx<'_>, id: &str) -> GraphResult<Reply> {
    let key = find(ctx, id)?;
    check_if_match(ctx, key)?;
    let body = ctx.req.json_body()?;
    ctx.mb.update_contact(key, &body, WRITE)?;
    render_one(ctx, key, &Query::default(), "contacts/$entity")
}

/// `DELETE …/contacts/{id}`.
pub fn delete(ctx: &mut Ctx<'_>, id: &str) -> GraphResult<Reply> {
    let key = find(ctx, id)?;
    check_if_match(ctx, key)?;
    ctx.mb.delete_contact(key);
    Ok(Reply::empty(204))
}

/// `POST …/contacts/{id}/permanentDelete` (§1.2: needs `Content-Length: 0`).
pub fn permanent_delete(ctx: &mut Ctx<'_>, id: &str) -> GraphResult<Reply> {
    if ctx.req.header("content-length").is_none() && ctx.req.header("transfer-encoding").is_none() {
        return Err(GraphErr::new(411, "LengthRequired", "Length Required"));
    }
    let key = find(ctx, id)?;
    check_if_match(ctx, key)?;
    ctx.mb.delete_contact(key);
    Ok(Reply::empty(204))
}

// ------------------------------------------------------------ open extensions (§5.2)

const EXT_PREFIX: &str = "Microsoft.OutlookServices.OpenTypeExtension.";

/// One open extension as Graph renders it.
pub fn render_extension(name: &str, body: &Map<String, Value>) -> Value {
    let mut m = Map::new();
    m.insert(
        "@odata.type".into(),
        json!("#microsoft.graph.openTypeExtension"),
    );
    m.insert("id".into(), json!(format!("{EXT_PREFIX}{name}")));
    m.insert("extensionName".into(), json!(name));
    for (k, v) in body {
        m.insert(k.clone(), v.clone());
    }
    Value::Object(m)
}

fn extension_body(v: &Value) -> GraphResult<(Option<String>, Map<String, Value>)> {
    let Some(o) = v.as_object() else {
        return Err(GraphErr::bad_json());
    };
    let name = o
        .get("extensionName")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let body = o
        .iter()
        .filter(|(k, _)| !k.starts_with("@odata.") && *k != "extensionName" && *k != "id")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Ok((name, body))
}

fn ext_name(name: &str) -> &str {
    name.strip_prefix(EXT_PREFIX).unwrap_or(name)
}

pub fn list_extensions(ctx: &mut Ctx<'_>, id: &str) -> GraphResult<Reply> {
    let key = find(ctx, id)?;
    let c = &ctx.mb.contacts[&key];
    let value: Vec<Value> = c
        .extensions
        .iter()
        .map(|(n, b)| render_extension(n, b))
        .collect();
    Ok(Reply::json(
        200,
        json!({"@odata.context": ctx.context("contacts('…')/extensions"), "value": value}),
    ))
}

pub fn create_extension(ctx: &mut Ctx<'_>, id: &str) -> GraphResult<Reply> {
    let key = find(ctx, id)?;
    let (name, body) = extension_body(&ctx.req.json_body()?)?;
    let Some(name) = name.filter(|n| !n.is_empty()) else {
        return Err(GraphErr::new(
            400,
            "ErrorInvalidRequest",
            "The extensionName property is required.",
        ));
    };
    if ctx.mb.contacts[&key].extensions.contains_key(&name) {
        return Err(GraphErr::new(
            409,
            "NameAlreadyExists",
            "An extension with this name already exists.",
        ));
    }
    if let Some(c) = ctx.mb.contacts.get_mut(&key) {
        c.extensions.insert(name.clone(), body.clone());
    }
    ctx.mb.touch(key);
    Ok(Reply::json(201, render_extension(&name, &body)))
}

pub fn get_extension(ctx: &mut Ctx<'_>, id: &str, name: &str) -> GraphResult<Reply> {
    let key = find(ctx, id)?;
    let name = ext_name(name);
    let body = ctx.mb.contacts[&key]
        .extensions
        .get(name)
        .ok_or_else(GraphErr::not_found)?;
    Ok(Reply::json(200, render_extension(name, body)))
}

/// PATCH replaces the whole extension (§5.2: unsent properties are deleted).
pub fn update_extension(ctx: &mut Ctx<'_>, id: &str, name: &str) -> GraphResult<Reply> {
    let key = find(ctx, id)?;
    let name = ext_name(name).to_owned();
    let (_, body) = extension_body(&ctx.req.json_body()?)?;
    let Some(c) = ctx.mb.contacts.get_mut(&key) else {
        return Err(GraphErr::not_found());
    };
    let Some(slot) = c.extensions.get_mut(&name) else {
        return Err(GraphErr::not_found());
    };
    *slot = body.clone();
    ctx.mb.touch(key);
    Ok(Reply::json(200, render_extension(&name, &body)))
}

pub fn delete_extension(ctx: &mut Ctx<'_>, id: &str, name: &str) -> GraphResult<Reply> {
    let key = find(ctx, id)?;
    let name = ext_name(name).to_owned();
    let removed = ctx
        .mb
        .contacts
        .get_mut(&key)
        .and_then(|c| c.extensions.remove(&name));
    if removed.is_none() {
        return Err(GraphErr::not_found());
    }
    ctx.mb.touch(key);
    Ok(Reply::empty(204))
}
