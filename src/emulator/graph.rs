//! Graph request dispatch (reference/graph.md §0, §1, §3).
//!
//! For each `/v1.0` or `/beta` request: parse the route, authenticate the bearer token
//! (401 `InvalidAuthenticationToken`), resolve `/me` or `/users/{id|upn}` to a mailbox
//! (400 for `/me` with an app-only token, 403 for another user's mailbox with a delegated
//! token, 404 `ErrorInvalidUser`), take a per-mailbox throttle slot (429), apply an
//! injected delay, then run the handler under the store lock. Paging of plain lists
//! (default 10, `$top` ≤ 1000, nextLink with `$skip`) is shared here.

use super::errors::{GraphErr, GraphResult};
use super::query::Query;
use super::request::{GraphRequest, Reply};
use super::routes::{self, Parsed, Route, Target};
use super::server::Shared;
use super::world::{Mailbox, RenderOpts, Settings};
use super::{batch, contacts, delta, folders, photos};
use http::Method;
use serde_json::{Map, Value, json};
use std::time::Duration;

/// Everything a handler needs: the request, its mailbox and the settings.
pub struct Ctx<'a> {
    pub req: &'a GraphRequest,
    pub mb: &'a mut Mailbox,
    pub settings: &'a Settings,
    pub next_chain: &'a mut u64,
}

impl Ctx<'_> {
    pub fn immutable(&self) -> bool {
        self.req.wants_immutable_ids()
    }

    pub fn render_opts(&self, q: &Query) -> RenderOpts {
        RenderOpts {
            immutable: self.immutable(),
            select: q.select.clone(),
            expand_extended: q.expand.extended.clone(),
            expand_multi: q.expand.multi,
            expand_extensions: q.expand.extensions.clone(),
            schema_2026: self.settings.schema_2026,
        }
    }

    /// `…/$metadata#users('{guid}')/{suffix}`.
    pub fn context(&self, suffix: &str) -> String {
        format!(
            "{}/$metadata#users('{}')/{}",
            self.req.version_base(),
            self.mb.id,
            suffix
        )
    }

    pub fn query(&self, known: super::query::Known<'_>) -> GraphResult<Query> {
        let q = Query::parse(&self.req.query, known)?;
        if q.search {
            return Err(GraphErr::bad_query(
                "The query parameter '$search' is not supported on contacts.",
            ));
        }
        Ok(q)
    }
}

/// Property names `$select` / `$filter` / `$orderby` accept on contacts.
pub fn contact_known(n: &str) -> Option<&'static str> {
    super::props::canonical(n).or_else(|| {
        [
            "singleValueExtendedProperties",
            "multiValueExtendedProperties",
            "extensions",
        ]
        .into_iter()
        .find(|k| k.eq_ignore_ascii_case(n))
    })
}

/// One page of a plain (non-delta) collection.
pub fn list_page<T>(
    req: &GraphRequest,
    settings: &Settings,
    q: &Query,
    items: &[T],
    context: String,
    render: impl Fn(&T) -> Value,
) -> GraphResult<Reply> {
    let page = match q.top {
        Some(top) if top > settings.max_top => {
            return Err(GraphErr::new(
                400,
                "ErrorInvalidArgument",
                format!(
                    "The value of $top ({top}) exceeds the maximum of {}.",
                    settings.max_top
                ),
            ));
        }
        Some(top) => top,
        None => req
            .max_page_size()
            .unwrap_or(settings.default_page_size)
            .clamp(1, settings.max_top),
    };
    let start = q.skip.min(items.len());
    let end = start.saturating_add(page).min(items.len());
    let value: Vec<Value> = items[start..end].iter().map(render).collect();
    let mut body = Map::new();
    body.insert("@odata.context".into(), Value::String(context));
    if q.count {
        body.insert("@odata.count".into(), json!(items.len()));
    }
    body.insert("value".into(), Value::Array(value));
    if end < items.len() && page > 0 {
        let mut pairs = q.raw_without_skip.clone();
        pairs.push(format!("%24skip={end}"));
        body.insert(
            "@odata.nextLink".into(),
            Value::String(format!("{}{}?{}", req.origin, req.path, pairs.join("&"))),
        );
    }
    Ok(Reply::json(200, Value::Object(body)))
}

/// Who a bearer token speaks for.
#[derive(Debug, Clone)]
pub struct Principal {
    /// `None` for app-only tokens.
    pub user: Option<String>,
    pub client_id: String,
}

/// Handle one Graph request (wire or batch sub-request); `delay` is an injected fault delay.
pub async fn dispatch(shared: &Shared, req: &GraphRequest, delay: Option<Duration>) -> Reply {
    let segs = routes::segments(&req.path);
    let parsed = match routes::parse(segs.get(1..).unwrap_or(&[])) {
        Ok(p) => p,
        Err(e) => return Reply::error(e).with_route("unknown"),
    };
    let (target, route) = match parsed {
        Parsed::Batch => {
            return batch::handle(shared, req).await.with_route("/$batch");
        }
        Parsed::Mailbox(t, r) => (t, r),
    };
    let class = route.class();
    let principal = match shared.oauth.authenticate(req.header("authorization")) {
        Ok(p) => p,
        Err(e) => {
            return Reply::error(e)
                .with_header("www-authenticate", "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\"")
                .with_route(class);
        }
    };
    let user_id = {
        let world = shared.world();
        match resolve_target(&world, &principal, &target) {
            Ok(u) => u,
            Err(e) => return Reply::error(e).with_route(class),
        }
    };
    let _slot = match shared.throttle.acquire(&principal.client_id, &user_id) {
        Ok(g) => g,
        Err(e) => return Reply::error(e).with_route(class),
    };
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    let mut world = shared.world();
    let world = &mut *world;
    let settings = world.settings.clone();
    let mut next_chain = world.next_chain;
    let reply = match world.users.get_mut(&user_id) {
        None => Reply::error(GraphErr::invalid_user(&user_id)),
        Some(mb) => {
            let mut ctx = Ctx {
                req,
                mb,
                settings: &settings,
                next_chain: &mut next_chain,
            };
            match route_request(&mut ctx, &route) {
                Ok(r) => r,
                Err(e) => Reply::error(e),
            }
        }
    };
    world.next_chain = next_chain;
    reply.with_route(class)
}

fn resolve_target(
    world: &super::world::World,
    principal: &Principal,
    target: &Target,
) -> GraphResult<String> {
    match (target, &principal.user) {
        (Target::Me, None) => Err(GraphErr::me_needs_delegated()),
        (Target::Me, Some(u)) => world
            .resolve_user(u)
            .ok_or_else(|| GraphErr::invalid_user(u)),
        (Target::User(x), who) => {
            let id = world
                .resolve_user(x)
                .ok_or_else(|| GraphErr::invalid_user(x))?;
            match who {
                Some(me) if *me != id => Err(GraphErr::access_denied()),
                _ => Ok(id),
            }
        }
    }
}

fn route_request(ctx: &mut Ctx<'_>, route: &Route) -> GraphResult<Reply> {
    let m = ctx.req.method.clone();
    match route {
        Route::Profile => match m {
            Method::GET => Ok(profile(ctx)),
            _ => Err(GraphErr::method_not_allowed()),
        },
        Route::Contacts(folder) => {
            let f = folders::resolve(ctx.mb, folder.as_deref())?;
            match m {
                Method::GET => contacts::list(ctx, f),
                Method::POST => contacts::create(ctx, f),
                Method::PATCH | Method::DELETE => {
                    Err(GraphErr::method_not_allowed_on_collection(m.as_str()))
                }
                _ => Err(GraphErr::method_not_allowed()),
            }
        }
        Route::ContactsDelta(folder) => {
            let f = folders::resolve(ctx.mb, folder.as_deref())?;
            match m {
                Method::GET => delta::contacts(ctx, f),
                _ => Err(GraphErr::method_not_allowed()),
            }
        }
        Route::Contact(id) => match m {
            Method::GET => contacts::get(ctx, id),
            Method::PATCH => contacts::update(ctx, id),
            Method::DELETE => contacts::delete(ctx, id),
            _ => Err(GraphErr::method_not_allowed()),
        },
        Route::ContactPermanentDelete(id) => match m {
            Method::POST => contacts::permanent_delete(ctx, id),
            _ => Err(GraphErr::method_not_allowed()),
        },
        Route::Photo(id) => match m {
            Method::GET => photos::metadata(ctx, id),
            _ => Err(GraphErr::method_not_allowed()),
        },
        Route::PhotoValue(id) => match m {
            Method::GET => photos::get(ctx, id),
            Method::PUT | Method::PATCH => photos::put(ctx, id),
            _ => Err(GraphErr::method_not_allowed()),
        },
        Route::Extensions(id) => match m {
            Method::GET => contacts::list_extensions(ctx, id),
            Method::POST => contacts::create_extension(ctx, id),
            _ => Err(GraphErr::method_not_allowed()),
        },
        Route::Extension(id, name) => match m {
            Method::GET => contacts::get_extension(ctx, id, name),
            Method::PATCH => contacts::update_extension(ctx, id, name),
            Method::DELETE => contacts::delete_extension(ctx, id, name),
            _ => Err(GraphErr::method_not_allowed()),
        },
        Route::Folders => {
            let d = ctx.mb.default_folder;
            match m {
                Method::GET => folders::list_children(ctx, d, "contactFolders"),
                Method::POST => folders::create(ctx, d),
                _ => Err(GraphErr::method_not_allowed()),
            }
        }
        Route::FoldersDelta => match m {
            Method::GET => delta::folders(ctx),
            _ => Err(GraphErr::method_not_allowed()),
        },
        Route::Folder(f) => {
            let key = folders::resolve(ctx.mb, Some(f))?;
            match m {
                Method::GET => folders::get(ctx, key),
                Method::PATCH => folders::rename(ctx, key),
                Method::DELETE => folders::delete(ctx, key),
                _ => Err(GraphErr::method_not_allowed()),
            }
        }
        Route::FolderPermanentDelete(f) => {
            let key = folders::resolve(ctx.mb, Some(f))?;
            match m {
                Method::POST => folders::delete(ctx, key),
                _ => Err(GraphErr::method_not_allowed()),
            }
        }
        Route::ChildFolders(f) => {
            let key = folders::resolve(ctx.mb, Some(f))?;
            match m {
                Method::GET => folders::list_children(ctx, key, "childFolders"),
                Method::POST => folders::create(ctx, key),
                _ => Err(GraphErr::method_not_allowed()),
            }
        }
    }
}

fn profile(ctx: &Ctx<'_>) -> Reply {
    Reply::json(
        200,
        json!({
            "@odata.context": format!("{}/$metadata#users/$entity", ctx.req.version_base()),
            "id": ctx.mb.id,
            "userPrincipalName": ctx.mb.upn,
            "displayName": ctx.mb.display_name,
            "mail": ctx.mb.upn,
        }),
    )
}
