//! CONFIG GET / SET / RESETSTAT / REWRITE / HELP over the configuration module's API.

use std::sync::atomic::Ordering;

use crate::commands::Ctx;
use crate::engine::Access;

use super::{CONFIG_SUBCOMMANDS, help, subcommand};

const CONFIG_HELP: &[&str] = &[
    "GET <pattern>",
    "    Return parameters matching the glob-like <pattern> and their values.",
    "SET <directive> <value>",
    "    Set the configuration <directive> to <value>.",
    "RESETSTAT",
    "    Reset statistics reported by the INFO command.",
    "REWRITE",
    "    Rewrite the configuration file.",
];

pub(super) fn config<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    let Some(sub) = subcommand(ctx, "config", CONFIG_SUBCOMMANDS, args) else { return };
    match sub {
        "get" => get(ctx, &args[2..]),
        "set" => set(ctx, args),
        "resetstat" => {
            for stats in &ctx.shared.stats {
                stats.reset();
            }
            ctx.reply().ok();
        }
        "rewrite" => {
            let rewritten = ctx.shared.config.read().rewrite_source();
            match rewritten {
                Ok(()) => ctx.reply().ok(),
                Err(text) => ctx.error_text(text),
            }
        }
        _ => help(ctx, "CONFIG", CONFIG_HELP),
    }
}

/// A map of every option matching any pattern, each once (a flat array in RESP2).
fn get<A: Access>(ctx: &mut Ctx<'_, A>, patterns: &[&[u8]]) {
    let pairs = ctx.shared.config.read().get_many(patterns);
    let mut reply = ctx.reply();
    reply.map(pairs.len());
    for (name, value) in &pairs {
        reply.bulk(name.as_bytes());
        reply.bulk(value.as_bytes());
    }
}

/// All-or-nothing: every pair is checked before any is applied (the module's `set_many`).
fn set<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    if !args.len().is_multiple_of(2) {
        return ctx.error(crate::engine::Error::Syntax);
    }
    let pairs: Vec<(&[u8], &[u8])> = args[2..].chunks_exact(2).map(|p| (p[0], p[1])).collect();
    let result = {
        let mut config = ctx.shared.config.write();
        let mut candidate = config.clone();
        candidate.set_many(&pairs).and_then(|()| {
            if candidate.appendonly != config.appendonly {
                // Turning the AOF on needs a rewrite of the whole dataset as its base, which
                // this version does not have; turning it off and on again would lose writes.
                return Err("ERR CONFIG SET failed (possibly related to argument 'appendonly') \
                     - switching the append-only file on or off needs a restart in this \
                     version of corekv (start it with --appendonly yes or no)"
                    .to_owned());
            }
            if let Some(aof) = ctx.shared.aof.get() {
                aof.set_fsync(crate::server::persistence::fsync_of(candidate.appendfsync));
            }
            if candidate.requirepass != config.requirepass {
                // `requirepass` is the default user's password, as in Redis.
                ctx.shared.acl.set_requirepass(candidate.requirepass.as_deref());
            }
            *config = candidate;
            Ok(())
        })
    };
    match result {
        Ok(()) => {
            // Release: pairs with the workers' Acquire load in `refresh_config`, so a worker
            // that sees the new epoch reads the new values.
            ctx.shared.config_epoch.fetch_add(1, Ordering::Release);
            // The engine keeps its own copy of the memory settings, read on every write.
            let limit = ctx.shared.config.read().memory_limit();
            ctx.shared.engine.set_memory_limit(limit);
            ctx.reply().ok();
        }
        Err(text) => ctx.error_text(text),
    }
}
