//! Contact folder endpoints (reference/graph.md §2.6, §3 rows 12–19, §4.7).
//!
//! `GET /contactFolders` lists only the direct children of the default Contacts folder
//! (§0 point 1); deeper folders come from `childFolders`. Folder ids are mailbox-unique,
//! so `/contactFolders/{id}` works at any depth, and the well-known name `contacts`
//! addresses the default folder. Duplicate sibling names are 409 `ErrorFolderExists`;
//! the default folder cannot be deleted.

use super::errors::{GraphErr, GraphResult};
use super::graph::{Ctx, list_page};
use super::query::Query;
use super::request::Reply;
use serde_json::{Map, Value};

/// Folder key for an id (`None` = the default folder); 404 when unknown.
pub fn resolve(mb: &super::world::Mailbox, id: Option<&str>) -> GraphResult<u64> {
    match id {
        None => Ok(mb.default_folder),
        Some(id) => mb.folder_key(id).ok_or_else(GraphErr::not_found),
    }
}

fn folder_known(n: &str) -> Option<&'static str> {
    ["id", "displayName", "parentFolderId"]
        .into_iter()
        .find(|k| k.eq_ignore_ascii_case(n))
}

/// `GET /contactFolders` (children of the default folder) or `…/childFolders`.
pub fn list_children(ctx: &mut Ctx<'_>, parent: u64, suffix: &str) -> GraphResult<Reply> {
    let q = Query::parse(&ctx.req.query, &folder_known)?;
    let mb = &*ctx.mb;
    let mut items: Vec<Map<String, Value>> = mb
        .child_folders(parent)
        .into_iter()
        .map(|f| mb.render_folder(f))
        .collect();
    if let Some(f) = &q.filter {
        items.retain(|m| f.matches(&Value::Object(m.clone())));
    }
    let context = if parent == mb.default_folder {
        ctx.context("contactFolders")
    } else {
        ctx.context(&format!(
            "contactFolders('{}')/{suffix}",
            mb.folder_id(parent)
        ))
    };
    list_page(ctx.req, ctx.settings, &q, &items, context, |m| {
        select(m, q.select.as_deref())
    })
}

fn select(m: &Map<String, Value>, sel: Option<&[String]>) -> Value {
    match sel {
        None => Value::Object(m.clone()),
        Some(sel) => Value::Object(
            m.iter()
                .filter(|(k, _)| *k == "id" || sel.iter().any(|s| s == *k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
    }
}

fn one(ctx: &Ctx<'_>, key: u64, status: u16) -> GraphResult<Reply> {
    let f = ctx.mb.folders.get(&key).ok_or_else(GraphErr::not_found)?;
    let mut m = Map::new();
    m.insert(
        "@odata.context".into(),
        Value::String(ctx.context("contactFolders/$entity")),
    );
    m.extend(ctx.mb.render_folder(f));
    Ok(Reply::json(status, Value::Object(m)))
}

pub fn get(ctx: &mut Ctx<'_>, key: u64) -> GraphResult<Reply> {
    one(ctx, key, 200)
}

fn display_name(body: &Value) -> GraphResult<String> {
    let Some(o) = body.as_object() else {
        return Err(GraphErr::bad_json());
    };
    for k in o.keys() {
        if !k.starts_with("@odata.") && k != "displayName" && k != "parentFolderId" && k != "id" {
            return Err(GraphErr::unknown_property(
                k,
                "microsoft.graph.contactFolder",
            ));
        }
    }
    match o.get("displayName") {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(GraphErr::bad_value("displayName", "Edm.String")),
        None => Err(GraphErr::new(
            400,
            "ErrorInvalidRequest",
            "The folder display name cannot be empty.",
        )),
    }
}

/// `POST /contactFolders` (under the default folder) or `…/{f}/childFolders`.
pub fn create(ctx: &mut Ctx<'_>, parent: u64) -> GraphResult<Reply> {
    let name = display_name(&ctx.req.json_body()?)?;
    let key = ctx.mb.create_folder(parent, &name)?;
    one(ctx, key, 201)
}

/// `PATCH /contactFolders/{f}`: rename.
pub fn rename(ctx: &mut Ctx<'_>, key: u64) -> GraphResult<Reply> {
    let name = display_name(&ctx.req.json_body()?)?;
    ctx.mb.rename_folder(key, &name)?;
    one(ctx, key, 200)
}

/// `DELETE /contactFolders/{f}` and `permanentDelete`.
pub fn delete(ctx: &mut Ctx<'_>, key: u64) -> GraphResult<Reply> {
    ctx.mb.delete_folder(key)?;
    Ok(Reply::empty(204))
}
