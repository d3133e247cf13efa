//! What ACL command rules select: one slot per command and per subcommand (`config|get`),
//! each with Redis's categories, so a user's permissions are one bit per slot.

use std::collections::HashMap;

use crate::commands::{Command, acl_categories};

/// Redis 7.0's ACL categories, in `ACL CAT`'s order.
pub const CATEGORIES: [&str; 21] = [
    "keyspace",
    "read",
    "write",
    "set",
    "sortedset",
    "list",
    "hash",
    "string",
    "bitmap",
    "hyperloglog",
    "geo",
    "stream",
    "pubsub",
    "admin",
    "fast",
    "slow",
    "blocking",
    "dangerous",
    "connection",
    "transaction",
    "scripting",
];

/// The permission slots of a command table. Built once; a user's permissions index into it.
#[derive(Debug)]
pub struct Slots {
    /// Full name of each slot (`get`, `config|get`).
    names: Vec<String>,
    /// Each slot's categories, without the `@`.
    categories: Vec<Vec<&'static str>>,
    /// Full name to slot.
    by_name: HashMap<String, usize>,
    /// A command's own slot and its subcommands' slots, by command id.
    by_command: Vec<(usize, Vec<(&'static str, usize)>)>,
}

impl Slots {
    /// The slots of `commands` (table order: a command's id is its index).
    pub fn new(commands: &[Command]) -> Slots {
        let mut slots = Slots {
            names: Vec::new(),
            categories: Vec::new(),
            by_name: HashMap::new(),
            by_command: Vec::new(),
        };
        for command in commands {
            debug_assert_eq!(command.id, slots.by_command.len(), "command ids are table indexes");
            let own = slots.push(command, command.name.to_owned());
            let subs = command
                .subcommands
                .iter()
                .map(|&(sub, _)| (sub, slots.push(command, format!("{}|{sub}", command.name))))
                .collect();
            slots.by_command.push((own, subs));
        }
        slots
    }

    fn push(&mut self, command: &Command, full_name: String) -> usize {
        let slot = self.names.len();
        let categories = acl_categories(command, &full_name)
            .into_iter()
            .map(|category| category.trim_start_matches('@'))
            .collect();
        self.categories.push(categories);
        self.by_name.insert(full_name.clone(), slot);
        self.names.push(full_name);
        slot
    }

    /// The number of slots.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Never true: the table always holds the built-in commands.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// A slot's full name.
    pub fn name(&self, slot: usize) -> &str {
        &self.names[slot]
    }

    /// The slot of a full name (`get`, `config|get`), lowercase.
    pub fn find(&self, full_name: &str) -> Option<usize> {
        self.by_name.get(full_name).copied()
    }

    /// Whether `name` is one of Redis's categories.
    pub fn is_category(name: &str) -> bool {
        CATEGORIES.contains(&name)
    }

    /// The slots in a category.
    pub fn in_category<'a>(
        &'a self,
        category: &'a str,
    ) -> impl Iterator<Item = usize> + Clone + 'a {
        (0..self.len()).filter(move |&slot| self.categories[slot].contains(&category))
    }

    /// A command's own slot followed by its subcommands' slots.
    pub fn family(&self, command_id: usize) -> impl Iterator<Item = usize> + '_ {
        let (own, subs) = &self.by_command[command_id];
        std::iter::once(*own).chain(subs.iter().map(|&(_, slot)| slot))
    }

    /// The slot a request runs under: its subcommand's when it names a known one, else the
    /// command's own.
    pub fn of_request(&self, command_id: usize, args: &[&[u8]]) -> usize {
        let (own, subs) = &self.by_command[command_id];
        if let Some(sub) = args.get(1)
            && let Some(&(_, slot)) =
                subs.iter().find(|(name, _)| sub.eq_ignore_ascii_case(name.as_bytes()))
        {
            return slot;
        }
        *own
    }

    /// The command a slot belongs to (its own or its container's id).
    pub fn command_of(&self, slot: usize) -> Option<usize> {
        self.by_command
            .iter()
            .position(|(own, subs)| *own == slot || subs.iter().any(|&(_, sub)| sub == slot))
    }

    /// Command ids in name order (the order ACL LIST names single commands in).
    pub fn commands_by_name(&self) -> Vec<usize> {
        let mut ids: Vec<usize> = (0..self.by_command.len()).collect();
        ids.sort_by_key(|&id| self.name(self.by_command[id].0));
        ids
    }

    /// Whether the slot is a subcommand (`config|get`).
    pub fn is_subcommand(&self, slot: usize) -> bool {
        self.names[slot].contains('|')
    }
}
