//! DELETE (RFC 4918 §9.6, RFC 9110 §9.3.5) of a card (honouring `If-Match`) or of an
//! address book with its cards. The default book cannot be deleted: the store answers
//! `Forbidden` → 403. The home, principal and context are not deletable (405).

use http::{Response, StatusCode};

use super::Ctx;
use crate::dav::DavBody;
use crate::dav::error::{DavError, DavResult};
use crate::dav::path::DavPath;
use crate::dav::response;
use crate::dav::store::AddressBookStore;

pub async fn handle<S: AddressBookStore>(ctx: &Ctx<'_, S>) -> DavResult<Response<DavBody>> {
    match &ctx.path {
        DavPath::Card { book, name, .. } => {
            let pre = super::put::precondition(ctx);
            ctx.store
                .delete_card(ctx.user, book, name, pre)
                .await
                .map_err(ctx.store_err(book))?;
        }
        DavPath::Book { book, .. } => {
            if let Some(if_match) = ctx.header(http::header::IF_MATCH)
                && if_match.trim() != "*"
            {
                // Collections have no ETag here: a specific If-Match cannot match.
                return Err(DavError::PreconditionFailed);
            }
            ctx.store
                .delete_book(ctx.user, book)
                .await
                .map_err(ctx.store_err(book))?;
        }
        _ => {
            return Err(DavError::MethodNotAllowed {
                allow: "OPTIONS, GET, HEAD, PROPFIND, REPORT",
            });
        }
    }
    Ok(response::empty(StatusCode::NO_CONTENT))
}
