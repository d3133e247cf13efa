//! Access control: users with passwords and per-command, per-key and per-channel permissions,
//! in Redis 7.0's model (`ACL SETUSER`, `AUTH user pass`, `NOPERM`), without selectors.
//!
//! # Model
//!
//! A [`User`] holds [`Rules`]: enabled or not, password digests (SHA-256, compared in constant
//! time), one permission bit per command slot (a command, or a subcommand such as
//! `config|get`; see [`Slots`]), key patterns with read/write access, and channel patterns.
//! `requirepass` is the `default` user's password, as in Redis: setting it is
//! `resetpass >password` on that user.
//!
//! # Cost on the request path
//!
//! Every connection holds an `Arc<User>`. A user whose rules allow everything (the `default`
//! user unless restricted) carries an `unrestricted` flag, so dispatch checks one atomic and
//! nothing else; only restricted users take the rules' read lock and match their patterns.
//! Rules change only through ACL SETUSER/DELUSER, CONFIG SET requirepass and start-up.
//!
//! # What is checked
//!
//! Before a command runs (or is queued by MULTI): its slot; each key its key specification
//! names, against the patterns granting read (READONLY commands), write (WRITE commands) or
//! both (the rest); the channels of PUBLISH and SUBSCRIBE (glob-matched) and the patterns of
//! PSUBSCRIBE (which must equal a granted pattern, as in Redis). Denials are recorded in the
//! ACL LOG.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Mutex, RwLock};

use crate::commands::{Command, Flags};
use crate::engine::glob;

mod rules;
mod slots;

pub use rules::{Rules, digest, hex};
pub use slots::{CATEGORIES, Slots};

/// The user every connection starts as.
pub const DEFAULT_USER: &str = "default";

/// Entries the ACL LOG keeps (Redis's `acllog-max-len` default).
pub const LOG_MAX_ENTRIES: usize = 128;

/// Similar denials within this window add to one log entry's count (Redis's 60 s).
const LOG_GROUPING: Duration = Duration::from_secs(60);

/// A user: its name and its rules.
#[derive(Debug)]
pub struct User {
    /// The name (case-sensitive, as in Redis).
    pub name: String,
    rules: RwLock<Rules>,
    /// The rules allow every command, key and channel: dispatch skips the check.
    unrestricted: AtomicBool,
}

impl User {
    fn new(name: &str, rules: Rules) -> User {
        let unrestricted = AtomicBool::new(rules.is_unrestricted());
        User { name: name.to_owned(), rules: RwLock::new(rules), unrestricted }
    }

    /// A copy of the rules.
    pub fn rules(&self) -> Rules {
        self.rules.read().clone()
    }

    fn replace(&self, rules: Rules) {
        let unrestricted = rules.is_unrestricted();
        *self.rules.write() = rules;
        // Release: pairs with the Acquire in `Acl::check`; the lock already orders the rules
        // themselves, this makes a newly restricted user's next command see the flag.
        self.unrestricted.store(unrestricted, Ordering::Release);
    }

    /// Whether `password` authenticates this user (enabled, and nopass or a matching digest).
    pub fn authenticates(&self, password: &[u8]) -> bool {
        let rules = self.rules.read();
        // Both evaluated, so a disabled user's timing matches a wrong password's.
        let matches = rules.password_matches(password);
        rules.enabled & matches
    }

    /// Whether a new connection is authenticated as this user without AUTH (enabled and
    /// nopass: the `default` user without `requirepass`).
    pub fn needs_no_password(&self) -> bool {
        let rules = self.rules.read();
        rules.enabled && rules.nopass
    }
}

/// Why a command was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// The command (or subcommand), by full name.
    Command(String),
    /// A key.
    Key(Vec<u8>),
    /// A channel or pattern.
    Channel(Vec<u8>),
}

impl Denied {
    /// The `-NOPERM` error line (without the `-`).
    pub fn error_text(&self) -> String {
        match self {
            Denied::Command(name) => {
                format!("NOPERM this user has no permissions to run the '{name}' command")
            }
            Denied::Key(_) => {
                "NOPERM this user has no permissions to access one of the keys used as arguments"
                    .to_owned()
            }
            Denied::Channel(_) => "NOPERM this user has no permissions to access one of the \
                                   channels used as arguments"
                .to_owned(),
        }
    }

    /// ACL DRYRUN's sentence.
    pub fn dry_run_text(&self) -> Vec<u8> {
        let (what, object) = match self {
            Denied::Command(name) => {
                return format!("This user has no permissions to run the '{name}' command")
                    .into_bytes();
            }
            Denied::Key(key) => ("key", key),
            Denied::Channel(channel) => ("channel", channel),
        };
        let mut text = b"This user has no permissions to access the '".to_vec();
        text.extend_from_slice(object);
        text.extend_from_slice(format!("' {what}").as_bytes());
        text
    }

    fn reason(&self) -> &'static str {
        match self {
            Denied::Command(_) => "command",
            Denied::Key(_) => "key",
            Denied::Channel(_) => "channel",
        }
    }

    fn object(&self) -> Vec<u8> {
        match self {
            Denied::Command(name) => name.clone().into_bytes(),
            Denied::Key(key) => key.clone(),
            Denied::Channel(channel) => channel.clone(),
        }
    }
}

/// One ACL LOG entry.
#[derive(Debug, Clone)]
pub struct LogEntry {
    /// Similar denials grouped into this entry.
    pub count: u64,
    /// `auth`, `command`, `key` or `channel`.
    pub reason: &'static str,
    /// `toplevel` or `multi`.
    pub context: &'static str,
    /// The command, key or channel refused, or `AUTH`.
    pub object: Vec<u8>,
    /// The user (for `auth`, the name that was tried).
    pub username: Vec<u8>,
    /// When the entry was created.
    pub created: Instant,
    /// When it was last counted.
    pub updated: Instant,
    /// The client, as CLIENT LIST describes it, at the last denial.
    pub client_info: String,
}

/// The users, the command slots their rules refer to, and the ACL LOG.
#[derive(Debug)]
pub struct Acl {
    slots: Slots,
    /// By name; a BTreeMap so ACL LIST and ACL USERS are sorted, as Redis's radix tree is.
    users: RwLock<BTreeMap<String, Arc<User>>>,
    default: Arc<User>,
    log: Mutex<VecDeque<LogEntry>>,
}

impl Acl {
    /// The ACL of a server: `default` allows everything, with `requirepass` as its password
    /// when set; then each `user` directive of the configuration, in order.
    pub fn new(
        commands: &[Command],
        requirepass: Option<&[u8]>,
        users: &[Vec<Vec<u8>>],
    ) -> Result<Acl, String> {
        let slots = Slots::new(commands);
        let default = Arc::new(User::new(DEFAULT_USER, Rules::unrestricted(&slots)));
        let mut map = BTreeMap::new();
        map.insert(DEFAULT_USER.to_owned(), default.clone());
        let acl = Acl { slots, users: RwLock::new(map), default, log: Mutex::new(VecDeque::new()) };
        acl.set_requirepass(requirepass);
        for line in users {
            let (name, modifiers) = line.split_first().ok_or("user directive without a name")?;
            let name = String::from_utf8(name.clone()).map_err(|_| "user name is not UTF-8")?;
            // As Redis loads configured users: each starts from `reset`.
            let modifiers: Vec<&[u8]> =
                std::iter::once(&b"reset"[..]).chain(modifiers.iter().map(Vec::as_slice)).collect();
            acl.set_user(&name, &modifiers).map_err(|error| format!("user {name}: {error}"))?;
        }
        Ok(acl)
    }

    /// Checks a `user` directive's modifiers without a server (configuration loading). The
    /// built-in command table's slots are built once for every such check.
    pub fn validate(modifiers: &[&[u8]]) -> Result<(), String> {
        static SLOTS: std::sync::LazyLock<Slots> =
            std::sync::LazyLock::new(|| Slots::new(crate::commands::CommandTable::new(&[]).all()));
        let mut rules = Rules::new(&SLOTS);
        for modifier in modifiers {
            rules.apply(&SLOTS, modifier).map_err(|error| modifier_error(modifier, error))?;
        }
        Ok(())
    }

    /// The command slots.
    pub fn slots(&self) -> &Slots {
        &self.slots
    }

    /// The `default` user.
    pub fn default_user(&self) -> Arc<User> {
        self.default.clone()
    }

    /// A user by name.
    pub fn user(&self, name: &[u8]) -> Option<Arc<User>> {
        let name = std::str::from_utf8(name).ok()?;
        self.users.read().get(name).cloned()
    }

    /// Every user, sorted by name.
    pub fn users(&self) -> Vec<Arc<User>> {
        self.users.read().values().cloned().collect()
    }

    /// `requirepass`: the default user's password (`None`: nopass).
    pub fn set_requirepass(&self, password: Option<&[u8]>) {
        let mut rules = self.default.rules();
        let result = match password {
            Some(password) => {
                let mut modifier = b">".to_vec();
                modifier.extend_from_slice(password);
                rules.apply(&self.slots, b"resetpass").and(rules.apply(&self.slots, &modifier))
            }
            None => rules.apply(&self.slots, b"nopass"),
        };
        debug_assert!(result.is_ok(), "password modifiers always apply");
        self.default.replace(rules);
    }

    /// ACL SETUSER: creates the user if needed and applies the modifiers, all or none.
    pub fn set_user(&self, name: &str, modifiers: &[&[u8]]) -> Result<(), String> {
        let mut users = self.users.write();
        let existing = users.get(name).cloned();
        let mut rules = match &existing {
            Some(user) => user.rules(),
            None => Rules::new(&self.slots),
        };
        for modifier in modifiers {
            rules.apply(&self.slots, modifier).map_err(|error| modifier_error(modifier, error))?;
        }
        match existing {
            Some(user) => user.replace(rules),
            None => {
                users.insert(name.to_owned(), Arc::new(User::new(name, rules)));
            }
        }
        Ok(())
    }

    /// ACL DELUSER: removes the users named; returns those that existed.
    pub fn delete_users(&self, names: &[&[u8]]) -> Result<Vec<Arc<User>>, &'static str> {
        if names.iter().any(|name| *name == DEFAULT_USER.as_bytes()) {
            return Err("ERR The 'default' user cannot be removed");
        }
        let mut users = self.users.write();
        Ok(names
            .iter()
            .filter_map(|name| std::str::from_utf8(name).ok())
            .filter_map(|name| users.remove(name))
            .collect())
    }

    /// Whether `user` may run `command` with `args`; the first refusal otherwise.
    pub fn check(&self, user: &User, command: &Command, args: &[&[u8]]) -> Result<(), Denied> {
        // Acquire: pairs with `User::replace`'s Release store.
        if user.unrestricted.load(Ordering::Acquire) {
            return Ok(());
        }
        let rules = user.rules.read();
        self.check_rules(&rules, command, args)
    }

    fn check_rules(&self, rules: &Rules, command: &Command, args: &[&[u8]]) -> Result<(), Denied> {
        let slot = self.slots.of_request(command.id, args);
        if !rules.allows(slot) {
            return Err(Denied::Command(self.slots.name(slot).to_owned()));
        }
        if !rules.all_keys {
            let mut keys = Vec::new();
            command.keys_of(args, &mut keys);
            let read = !command.flags.contains(Flags::WRITE);
            let write = !command.flags.contains(Flags::READONLY);
            for key in keys {
                let granted = rules.keys.iter().any(|pattern| {
                    (pattern.read || !read)
                        && (pattern.write || !write)
                        && glob::matches(&pattern.pattern, key)
                });
                if !granted {
                    return Err(Denied::Key(key.to_vec()));
                }
            }
        }
        if !rules.all_channels {
            let literal = match command.name {
                "publish" => Some(false),
                "subscribe" => Some(false),
                "psubscribe" => Some(true),
                _ => None,
            };
            if let Some(literal) = literal {
                let channels = if command.name == "publish" { &args[1..2] } else { &args[1..] };
                for channel in channels {
                    let granted = rules.channels.iter().any(|pattern| {
                        if literal { pattern == channel } else { glob::matches(pattern, channel) }
                    });
                    if !granted {
                        return Err(Denied::Channel(channel.to_vec()));
                    }
                }
            }
        }
        Ok(())
    }

    /// ACL DRYRUN: the check, ignoring the unrestricted fast path.
    pub fn dry_run(&self, user: &User, command: &Command, args: &[&[u8]]) -> Result<(), Denied> {
        let rules = user.rules.read();
        self.check_rules(&rules, command, args)
    }

    /// Records a refused command, key or channel.
    pub fn log_denial(&self, denied: &Denied, username: &str, in_multi: bool, client_info: String) {
        let context = if in_multi { "multi" } else { "toplevel" };
        self.log_entry(denied.reason(), context, denied.object(), username.as_bytes(), client_info);
    }

    /// Records a failed AUTH.
    pub fn log_auth_failure(&self, username: &[u8], client_info: String) {
        self.log_entry("auth", "toplevel", b"AUTH".to_vec(), username, client_info);
    }

    fn log_entry(
        &self,
        reason: &'static str,
        context: &'static str,
        object: Vec<u8>,
        username: &[u8],
        client_info: String,
    ) {
        let now = Instant::now();
        let mut log = self.log.lock();
        let similar = log.iter().position(|entry| {
            entry.reason == reason
                && entry.context == context
                && entry.object == object
                && entry.username == username
                && now.duration_since(entry.updated) < LOG_GROUPING
        });
        if let Some(index) = similar {
            let mut entry = log.remove(index).expect("found above");
            entry.count += 1;
            entry.updated = now;
            entry.client_info = client_info;
            log.push_front(entry);
            return;
        }
        log.push_front(LogEntry {
            count: 1,
            reason,
            context,
            object,
            username: username.to_vec(),
            created: now,
            updated: now,
            client_info,
        });
        log.truncate(LOG_MAX_ENTRIES);
    }

    /// The newest `count` log entries, newest first.
    pub fn log(&self, count: usize) -> Vec<LogEntry> {
        self.log.lock().iter().take(count).cloned().collect()
    }

    /// ACL LOG RESET.
    pub fn reset_log(&self) {
        self.log.lock().clear();
    }
}

/// Redis's SETUSER error line for a refused modifier.
fn modifier_error(modifier: &[u8], error: &str) -> String {
    format!("ERR Error in ACL SETUSER modifier '{}': {error}", String::from_utf8_lossy(modifier))
}

#[cfg(test)]
mod tests;
