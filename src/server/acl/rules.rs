//! One user's rules: ACL SETUSER's modifiers applied in order, and their description in
//! Redis 7.0's `ACL LIST` form.
//!
//! Command permissions are one bit per [`Slots`] slot. Like Redis 7.0, the description is
//! rebuilt from the bits, not from the rules given: `+@all` or `-@all` (whether commands added
//! later are allowed), then, greedily, the categories most of whose commands differ from that
//! base, then the single commands and subcommands that still differ. Redis lists those last
//! ones in its command table's hash order; corekv lists them by name.

use sha2::{Digest, Sha256};

use super::slots::Slots;

/// A key pattern with the access it grants (`~` both, `%R~` reads, `%W~` writes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPattern {
    /// The glob.
    pub pattern: Vec<u8>,
    /// Grants reads.
    pub read: bool,
    /// Grants writes.
    pub write: bool,
}

/// A SHA-256 password digest.
pub type Digest32 = [u8; 32];

/// What a user may do.
#[derive(Debug, Clone)]
pub struct Rules {
    /// `on` / `off`.
    pub enabled: bool,
    /// `nopass`: any password authenticates.
    pub nopass: bool,
    /// Password digests, in the order added.
    pub passwords: Vec<Digest32>,
    /// Allowed command slots, one bit each.
    pub allowed: Vec<u64>,
    /// Started from `+@all` (new commands allowed) rather than `-@all`.
    pub all_base: bool,
    /// The number of slots `allowed` covers.
    slot_count: usize,
    /// `allkeys` (`~*`).
    pub all_keys: bool,
    /// Key patterns (empty with `all_keys`).
    pub keys: Vec<KeyPattern>,
    /// `allchannels` (`&*`).
    pub all_channels: bool,
    /// Channel patterns (empty with `all_channels`).
    pub channels: Vec<Vec<u8>>,
    /// `sanitize-payload` / `skip-sanitize-payload` (accepted and shown; corekv has no RESTORE).
    pub sanitize_payload: Option<bool>,
}

/// Why a modifier was refused, in Redis's words (after "Error in ACL SETUSER modifier '…': ").
pub type RuleError = &'static str;

const SYNTAX: RuleError = "Syntax error";
const UNKNOWN: RuleError = "Unknown command or category name in ACL";

impl Rules {
    /// A new user: off, no passwords, no commands, no keys, no channels (Redis 7.0's
    /// `acl-pubsub-default resetchannels`).
    pub fn new(slots: &Slots) -> Rules {
        Rules {
            enabled: false,
            nopass: false,
            passwords: Vec::new(),
            allowed: vec![0; slots.len().div_ceil(64)],
            all_base: false,
            slot_count: slots.len(),
            all_keys: false,
            keys: Vec::new(),
            all_channels: false,
            channels: Vec::new(),
            sanitize_payload: None,
        }
    }

    /// The default user with no password: everything allowed.
    pub fn unrestricted(slots: &Slots) -> Rules {
        let mut rules = Rules::new(slots);
        for modifier in ["on", "nopass", "allkeys", "allchannels", "allcommands"] {
            rules.apply(slots, modifier.as_bytes()).expect("built-in modifiers are valid");
        }
        rules
    }

    /// Whether every command, key and channel is allowed (the dispatch fast path).
    pub fn is_unrestricted(&self) -> bool {
        self.all_base
            && self.all_keys
            && self.all_channels
            && (0..self.slot_count).all(|slot| self.allows(slot))
    }

    /// Whether a slot's command may run.
    pub fn allows(&self, slot: usize) -> bool {
        self.allowed[slot / 64] & (1 << (slot % 64)) != 0
    }

    fn set(&mut self, slot: usize, allow: bool) {
        if allow {
            self.allowed[slot / 64] |= 1 << (slot % 64);
        } else {
            self.allowed[slot / 64] &= !(1 << (slot % 64));
        }
    }

    /// Applies one ACL SETUSER modifier.
    pub fn apply(&mut self, slots: &Slots, modifier: &[u8]) -> Result<(), RuleError> {
        let lower = modifier.to_ascii_lowercase();
        match &lower[..] {
            b"on" => self.enabled = true,
            b"off" => self.enabled = false,
            b"nopass" => {
                self.nopass = true;
                self.passwords.clear();
            }
            b"resetpass" => {
                self.nopass = false;
                self.passwords.clear();
            }
            b"allkeys" => self.allow_all_keys(),
            b"resetkeys" => {
                self.all_keys = false;
                self.keys.clear();
            }
            b"allchannels" => {
                self.all_channels = true;
                self.channels.clear();
            }
            b"resetchannels" => {
                self.all_channels = false;
                self.channels.clear();
            }
            b"allcommands" => self.base(slots, true),
            b"nocommands" => self.base(slots, false),
            b"sanitize-payload" => self.sanitize_payload = Some(true),
            b"skip-sanitize-payload" => self.sanitize_payload = Some(false),
            b"reset" => {
                *self = Rules::new(slots);
                self.sanitize_payload = Some(true);
            }
            _ => return self.apply_prefixed(slots, modifier, &lower),
        }
        Ok(())
    }

    fn apply_prefixed(
        &mut self,
        slots: &Slots,
        modifier: &[u8],
        lower: &[u8],
    ) -> Result<(), RuleError> {
        match modifier.first() {
            Some(b'>') => {
                self.add_password(digest(&modifier[1..]));
                Ok(())
            }
            Some(b'#') => {
                self.add_password(parse_digest(&modifier[1..])?);
                Ok(())
            }
            Some(b'<') => self.remove_password(&digest(&modifier[1..])),
            Some(b'!') => self.remove_password(&parse_digest(&modifier[1..])?),
            Some(b'~') => self.add_key_pattern(&modifier[1..], true, true),
            Some(b'%') => {
                let tilde = modifier.iter().position(|&b| b == b'~').ok_or(SYNTAX)?;
                let access = &lower[1..tilde];
                let (mut read, mut write) = (false, false);
                for byte in access {
                    match byte {
                        b'r' => read = true,
                        b'w' => write = true,
                        _ => return Err(SYNTAX),
                    }
                }
                if !read && !write {
                    return Err(SYNTAX);
                }
                self.add_key_pattern(&modifier[tilde + 1..], read, write)
            }
            Some(b'&') => {
                let pattern = &modifier[1..];
                if self.all_channels {
                    return Err("Adding a pattern after the * pattern (or the 'allchannels' \
                                flag) is not valid and does not have any effect. Try \
                                'resetchannels' to start with an empty list of channels");
                }
                if pattern == b"*" {
                    self.all_channels = true;
                    self.channels.clear();
                } else if !self.channels.iter().any(|c| c == pattern) {
                    self.channels.push(pattern.to_vec());
                }
                Ok(())
            }
            Some(&sign @ (b'+' | b'-')) => {
                let name = std::str::from_utf8(&lower[1..]).map_err(|_| UNKNOWN)?;
                self.command_rule(slots, name, sign == b'+')
            }
            Some(b'(') => Err("Selectors are not supported by corekv"),
            _ => Err(SYNTAX),
        }
    }

    fn allow_all_keys(&mut self) {
        self.all_keys = true;
        self.keys.clear();
    }

    fn add_key_pattern(
        &mut self,
        pattern: &[u8],
        read: bool,
        write: bool,
    ) -> Result<(), RuleError> {
        if self.all_keys {
            return Err("Adding a pattern after the * pattern (or the 'allkeys' flag) is not \
                        valid and does not have any effect. Try 'resetkeys' to start with an \
                        empty list of patterns");
        }
        if pattern == b"*" && read && write {
            self.allow_all_keys();
            return Ok(());
        }
        match self.keys.iter_mut().find(|k| k.pattern == pattern) {
            Some(existing) => {
                existing.read |= read;
                existing.write |= write;
            }
            None => self.keys.push(KeyPattern { pattern: pattern.to_vec(), read, write }),
        }
        Ok(())
    }

    fn add_password(&mut self, digest: Digest32) {
        self.nopass = false;
        if !self.passwords.contains(&digest) {
            self.passwords.push(digest);
        }
    }

    fn remove_password(&mut self, digest: &Digest32) -> Result<(), RuleError> {
        let before = self.passwords.len();
        self.passwords.retain(|p| p != digest);
        if self.passwords.len() == before {
            return Err("The password you are trying to remove from the user does not exist");
        }
        Ok(())
    }

    /// `+@all` / `-@all`: every slot on or off, and whether commands added later would be.
    fn base(&mut self, slots: &Slots, allow: bool) {
        self.all_base = allow;
        for slot in 0..slots.len() {
            self.set(slot, allow);
        }
    }

    /// `+name`, `-name`, `+@category`, `-@category`, `+container|sub`.
    fn command_rule(&mut self, slots: &Slots, name: &str, allow: bool) -> Result<(), RuleError> {
        if name == "@all" {
            self.base(slots, allow);
            return Ok(());
        }
        if let Some(category) = name.strip_prefix('@') {
            if !Slots::is_category(category) {
                return Err(UNKNOWN);
            }
            for slot in slots.in_category(category) {
                self.set(slot, allow);
            }
            return Ok(());
        }
        let slot = slots.find(name).ok_or(UNKNOWN)?;
        match slots.command_of(slot) {
            // A whole command includes its subcommands.
            Some(command) if !slots.is_subcommand(slot) => {
                for member in slots.family(command) {
                    self.set(member, allow);
                }
            }
            _ => self.set(slot, allow),
        }
        Ok(())
    }

    /// Whether `password` authenticates, comparing digests in constant time.
    pub fn password_matches(&self, password: &[u8]) -> bool {
        if self.nopass {
            return true;
        }
        let given = digest(password);
        // Every digest is compared in full, whatever matches, so timing tells nothing.
        self.passwords.iter().fold(false, |found, stored| found | constant_time_eq(stored, &given))
    }

    /// The command rules as `ACL GETUSER` shows them: `+@all -config|set`, derived from the
    /// bits as Redis 7.0's `ACLDescribeSelectorCommandRules` does (see the module docs).
    pub fn describe_commands(&self, slots: &Slots) -> String {
        let mut fake = Rules::new(slots);
        fake.base(slots, self.all_base);
        let mut out = String::from(if self.all_base { "+@all" } else { "-@all" });
        // Redis 7.0's greedy pass: take the category most of whose commands differ from the
        // base (fewest exceptions first, then the largest), flip it in a scratch copy so that
        // overlapping categories count only what is left, and repeat.
        let additive = !self.all_base;
        let mut scratch = self.clone();
        let mut applied = [false; super::slots::CATEGORIES.len()];
        loop {
            let mut best: Option<(usize, usize, usize)> = None;
            for (index, category) in super::slots::CATEGORIES.iter().enumerate() {
                if applied[index] {
                    continue;
                }
                let members = slots.in_category(category);
                let on = members.clone().filter(|&slot| scratch.allows(slot)).count();
                let off = members.count() - on;
                let (diff, same) = if additive { (off, on) } else { (on, off) };
                let better = best.is_none_or(|(_, best_diff, best_same)| {
                    diff < best_diff || (diff == best_diff && same > best_same)
                });
                if same > diff && better {
                    best = Some((index, diff, same));
                }
            }
            let Some((index, _, _)) = best else { break };
            applied[index] = true;
            let category = super::slots::CATEGORIES[index];
            for slot in slots.in_category(category) {
                fake.set(slot, additive);
                scratch.set(slot, !additive);
            }
            out.push_str(if additive { " +@" } else { " -@" });
            out.push_str(category);
        }
        for command in slots.commands_by_name() {
            for slot in slots.family(command) {
                let allowed = self.allows(slot);
                if allowed == fake.allows(slot) {
                    continue;
                }
                out.push_str(if allowed { " +" } else { " -" });
                out.push_str(slots.name(slot));
                if slots.is_subcommand(slot) {
                    fake.set(slot, allowed);
                } else {
                    for member in slots.family(command) {
                        fake.set(member, allowed);
                    }
                }
            }
        }
        debug_assert_eq!(fake.allowed, self.allowed, "the description rebuilds the same bits");
        out
    }

    /// The key patterns as `ACL GETUSER` shows them: `~*`, `%R~a* ~b*`, or "".
    pub fn describe_keys(&self) -> Vec<u8> {
        if self.all_keys {
            return b"~*".to_vec();
        }
        space_separated(self.keys.iter().map(|key| {
            let access: &[u8] = match (key.read, key.write) {
                (true, true) => b"~",
                (true, false) => b"%R~",
                _ => b"%W~",
            };
            [access, &key.pattern].concat()
        }))
    }

    /// The channel patterns as `ACL GETUSER` shows them: `&*`, `&a &b`, or "".
    pub fn describe_channels(&self) -> Vec<u8> {
        if self.all_channels {
            return b"&*".to_vec();
        }
        space_separated(self.channels.iter().map(|channel| [b"&", &channel[..]].concat()))
    }

    /// The flags `ACL GETUSER` lists.
    pub fn flags(&self) -> Vec<&'static str> {
        let mut flags = vec![if self.enabled { "on" } else { "off" }];
        if self.nopass {
            flags.push("nopass");
        }
        match self.sanitize_payload {
            Some(true) => flags.push("sanitize-payload"),
            Some(false) => flags.push("skip-sanitize-payload"),
            None => {}
        }
        flags
    }

    /// The rules as one `ACL LIST` line's tail (after `user <name> `), which ACL SETUSER
    /// accepts back to rebuild the same user.
    pub fn describe(&self, slots: &Slots) -> Vec<u8> {
        let mut out = self.flags().join(" ").into_bytes();
        for password in &self.passwords {
            out.extend_from_slice(b" #");
            out.extend_from_slice(hex(password).as_bytes());
        }
        let keys = self.describe_keys();
        if !keys.is_empty() {
            out.push(b' ');
            out.extend_from_slice(&keys);
        }
        if !self.all_channels {
            out.extend_from_slice(b" resetchannels");
        }
        let channels = self.describe_channels();
        if !channels.is_empty() {
            out.push(b' ');
            out.extend_from_slice(&channels);
        }
        out.push(b' ');
        out.extend_from_slice(self.describe_commands(slots).as_bytes());
        out
    }
}

/// Words joined by single spaces.
fn space_separated(words: impl Iterator<Item = Vec<u8>>) -> Vec<u8> {
    words.collect::<Vec<_>>().join(&b' ')
}

/// SHA-256 of a password.
pub fn digest(password: &[u8]) -> Digest32 {
    Sha256::digest(password).into()
}

/// Lowercase hex of a digest.
pub fn hex(digest: &Digest32) -> String {
    use std::fmt::Write;
    digest.iter().fold(String::with_capacity(64), |mut out, byte| {
        let _ = write!(out, "{byte:02x}");
        out
    })
}

fn parse_digest(text: &[u8]) -> Result<Digest32, RuleError> {
    const BAD: RuleError = "The password hash must be exactly 64 characters and contain only \
                            lowercase hexadecimal characters";
    if text.len() != 64 {
        return Err(BAD);
    }
    let nibble = |b: u8| match b {
        b'0'..=b'9' => Ok(b - b'0'),
        b'a'..=b'f' => Ok(b - b'a' + 10),
        _ => Err(BAD),
    };
    let mut digest = [0u8; 32];
    for (index, pair) in text.chunks_exact(2).enumerate() {
        digest[index] = nibble(pair[0])? << 4 | nibble(pair[1])?;
    }
    Ok(digest)
}

/// Compares two digests without an early exit.
fn constant_time_eq(a: &Digest32, b: &Digest32) -> bool {
    a.iter().zip(b).fold(0u8, |difference, (x, y)| difference | (x ^ y)) == 0
}
