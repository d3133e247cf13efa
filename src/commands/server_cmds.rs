//! Server commands.

use crate::commands::{Command, Ctx};
use crate::engine::Access;

pub(super) fn commands() -> Vec<Command> {
    Vec::new()
}

pub(super) fn client_command<A: Access>(ctx: &mut Ctx<'_, A>, args: &[&[u8]]) {
    ctx.error_text(crate::commands::args::unknown_subcommand("client", args[1]));
}
