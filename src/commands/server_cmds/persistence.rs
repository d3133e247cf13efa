//! SAVE, BGSAVE and BGREWRITEAOF: point-in-time snapshots (`persist::snapshot`) and the AOF
//! rewrite built on them.

use crate::commands::Ctx;
use crate::commands::args::is;
use crate::engine::{Access, Error};
use crate::server::persistence;

/// SAVE: writes a snapshot before replying. Unlike Redis's, it blocks only this connection's
/// worker; the others keep serving (their writes preserve what the snapshot has not read yet).
pub(super) fn save<A: Access>(ctx: &mut Ctx<'_, A>, _args: &[&[u8]]) {
    match persistence::save(ctx.shared) {
        Ok(_) => ctx.reply().ok(),
        Err(None) => ctx.error_text("ERR Background save already in progress"),
        // Redis replies with a bare error and logs the reason.
        Err(Some(_)) => ctx.error_text("ERR"),
    }
}

/// BGSAVE [SCHEDULE]: starts a snapshot on its own thread.
pub(super) fn bgsave<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    if args.len() > 2 || (args.len() == 2 && !is(args[1], "schedule")) {
        return ctx.error(Error::Syntax);
    }
    let Some(shared) = ctx.shared.this.get().and_then(std::sync::Weak::upgrade) else {
        return ctx.error_text("ERR the server is shutting down");
    };
    if persistence::bgsave(&shared) {
        ctx.reply().simple(b"Background saving started");
    } else {
        ctx.error_text("ERR Background save already in progress");
    }
}

/// BGREWRITEAOF: compacts the append-only file on its own thread.
pub(super) fn bgrewriteaof<A: Access>(ctx: &mut Ctx<'_, A>, _args: &[&[u8]]) {
    let Some(shared) = ctx.shared.this.get().and_then(std::sync::Weak::upgrade) else {
        return ctx.error_text("ERR the server is shutting down");
    };
    match persistence::bgrewriteaof(&shared) {
        Ok(()) => ctx.reply().simple(b"Background append only file rewriting started"),
        Err(text) => ctx.error_text(text),
    }
}
