//! Hashes commands.

use crate::commands::Command;

pub(super) fn commands() -> Vec<Command> {
    Vec::new()
}
