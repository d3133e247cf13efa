//! Turns a [`Workload`] into operations: as RESP requests for a server, or as calls on an
//! in-process [`Db`]. Both draw the command, the keys and the extras the same way, so the two
//! targets run the same sequence for the same seed.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::workload::{CommandKind, KeyChooser, MEMBERS_PER_KEY, Workload, write_key};
use crate::engine::ops::End;
use crate::engine::types::zset::ZAddFlags;
use crate::prelude::*;
use crate::protocol::write_command;
use crate::{Db, Error};

/// One stream of operations (one per connection or embedded thread).
#[derive(Debug)]
pub struct OpGen {
    workload: Workload,
    chooser: KeyChooser,
    rng: SmallRng,
    value: Vec<u8>,
    /// The current operation's keys, back to back, each `key_size` bytes: reused so an
    /// operation allocates nothing once the widest MSET has been built.
    keys: Vec<u8>,
    /// A GET's reply, reused.
    scratch: Vec<u8>,
}

impl OpGen {
    /// The stream numbered `stream` (its seed is the workload's plus `stream`).
    pub fn new(workload: &Workload, stream: u64) -> Self {
        let mut rng = SmallRng::seed_from_u64(workload.seed.wrapping_add(stream));
        let value = (0..workload.value_size).map(|_| rng.random_range(b'a'..=b'z')).collect();
        OpGen {
            workload: workload.clone(),
            chooser: KeyChooser::new(workload.keys, workload.distribution),
            rng,
            value,
            keys: Vec::new(),
            scratch: Vec::new(),
        }
    }

    /// Draws the next command by the mix.
    pub fn next_command(&mut self) -> CommandKind {
        self.workload.mix.choose(&mut self.rng)
    }

    /// How many keys an operation of `command` names.
    fn key_count(&self, command: CommandKind) -> usize {
        match command {
            CommandKind::Mset => self.workload.mset_keys,
            CommandKind::Multi => self.workload.multi_sets,
            _ => 1,
        }
    }

    /// Fills `self.keys` with the operation's keys.
    fn draw_keys(&mut self, command: CommandKind) {
        self.keys.clear();
        for _ in 0..self.key_count(command) {
            let index = self.chooser.next(&mut self.rng);
            write_key(&mut self.keys, command.key_tag(), index, self.workload.key_size);
        }
    }

    fn key(&self, i: usize) -> &[u8] {
        let size = self.workload.key_size;
        &self.keys[i * size..(i + 1) * size]
    }

    /// Appends `command`'s request(s) to `out`; returns how many replies they produce.
    pub fn write_request(&mut self, command: CommandKind, out: &mut Vec<u8>) -> u32 {
        self.draw_keys(command);
        let value = &self.value[..];
        match command {
            CommandKind::Get => write_command(out, &[b"GET", self.key(0)]),
            CommandKind::Set => write_command(out, &[b"SET", self.key(0), value]),
            CommandKind::Incr => write_command(out, &[b"INCR", self.key(0)]),
            CommandKind::Lpush => write_command(out, &[b"LPUSH", self.key(0), value]),
            CommandKind::Lpop => write_command(out, &[b"LPOP", self.key(0)]),
            CommandKind::Zadd => {
                let score = self.rng.random_range(0..1_000_000u32);
                let member = self.rng.random_range(0..MEMBERS_PER_KEY);
                let mut score_text = itoa::Buffer::new();
                let mut member_text = itoa::Buffer::new();
                let args: [&[u8]; 4] = [
                    b"ZADD",
                    self.key(0),
                    score_text.format(score).as_bytes(),
                    member_text.format(member).as_bytes(),
                ];
                write_command(out, &args);
            }
            CommandKind::Hset => {
                let field = self.rng.random_range(0..MEMBERS_PER_KEY);
                let mut field_text = itoa::Buffer::new();
                let args: [&[u8]; 4] =
                    [b"HSET", self.key(0), field_text.format(field).as_bytes(), value];
                write_command(out, &args);
            }
            CommandKind::Mset => {
                let mut args: Vec<&[u8]> = Vec::with_capacity(1 + 2 * self.workload.mset_keys);
                args.push(b"MSET");
                for i in 0..self.workload.mset_keys {
                    args.push(self.key(i));
                    args.push(value);
                }
                write_command(out, &args);
            }
            CommandKind::Multi => {
                write_command(out, &[b"MULTI"]);
                for i in 0..self.workload.multi_sets {
                    write_command(out, &[b"SET", self.key(i), value]);
                }
                write_command(out, &[b"EXEC"]);
                return self.workload.multi_sets as u32 + 2;
            }
        }
        1
    }

    /// Runs `command` on `db`, as the server would for the same request.
    pub fn execute(&mut self, command: CommandKind, db: &Db) -> Result<(), Error> {
        self.draw_keys(command);
        let value = &self.value[..];
        match command {
            CommandKind::Get => {
                let key = &self.keys[..self.workload.key_size];
                db.get_into(key, &mut self.scratch).map(drop)
            }
            CommandKind::Set => db.set(self.key(0), value),
            CommandKind::Incr => db.incr(self.key(0)).map(drop),
            CommandKind::Lpush => db.push(self.key(0), End::Left, &[value], true).map(drop),
            CommandKind::Lpop => db.pop(self.key(0), End::Left, None).map(drop),
            CommandKind::Zadd => {
                let score = f64::from(self.rng.random_range(0..1_000_000u32));
                let member = self.rng.random_range(0..MEMBERS_PER_KEY);
                let mut member_text = itoa::Buffer::new();
                let pairs = [(score, member_text.format(member).as_bytes())];
                db.zadd(self.key(0), &pairs, ZAddFlags::default()).map(drop)
            }
            CommandKind::Hset => {
                let field = self.rng.random_range(0..MEMBERS_PER_KEY);
                let mut field_text = itoa::Buffer::new();
                db.hset(self.key(0), &[(field_text.format(field).as_bytes(), value)]).map(drop)
            }
            CommandKind::Mset => {
                let pairs: Vec<(&[u8], &[u8])> =
                    (0..self.workload.mset_keys).map(|i| (self.key(i), value)).collect();
                db.mset(&pairs)
            }
            CommandKind::Multi => {
                let keys: Vec<&[u8]> = (0..self.workload.multi_sets).map(|i| self.key(i)).collect();
                db.transaction(&keys, |txn| {
                    for key in &keys {
                        txn.set(key, value)?;
                    }
                    Ok(())
                })
            }
        }
    }

    /// Appends `SET` requests for the string keys `range` (the preload); returns their count.
    pub fn write_preload(&self, range: std::ops::Range<u64>, out: &mut Vec<u8>) -> u32 {
        let mut key = Vec::with_capacity(self.workload.key_size);
        for index in range.clone() {
            key.clear();
            write_key(&mut key, CommandKind::Set.key_tag(), index, self.workload.key_size);
            write_command(out, &[b"SET", &key[..], &self.value[..]]);
        }
        (range.end - range.start) as u32
    }

    /// Sets every string key on `db` (the preload).
    pub fn preload(&self, db: &Db) -> Result<(), Error> {
        let mut key = Vec::with_capacity(self.workload.key_size);
        for index in 0..self.workload.keys {
            key.clear();
            write_key(&mut key, CommandKind::Set.key_tag(), index, self.workload.key_size);
            db.set(&key, &self.value)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::OpGen;
    use crate::bench::workload::{CommandKind, Workload};
    use crate::protocol::Frame;

    #[test]
    fn multi_is_one_operation_of_n_plus_two_replies() {
        let workload = Workload { multi_sets: 3, key_size: 10, ..Workload::default() };
        let mut generator = OpGen::new(&workload, 0);
        let mut out = Vec::new();
        assert_eq!(generator.write_request(CommandKind::Multi, &mut out), 5);
        let frames = Frame::decode_all(&out).unwrap();
        assert_eq!(frames.len(), 5);
        assert_eq!(frames[0], Frame::Array(vec![Frame::bulk("MULTI")]));
        let Frame::Array(set) = &frames[1] else { panic!() };
        assert_eq!(set[0], Frame::bulk("SET"));
        assert!(matches!(&set[1], Frame::Bulk(key) if key.len() == 10 && key.starts_with(b"s:")));
        assert_eq!(frames[4], Frame::Array(vec![Frame::bulk("EXEC")]));
    }

    #[test]
    fn embedded_runs_every_command() {
        let engine = crate::Engine::builder().shards(2).build();
        let db = engine.db(0);
        let workload = Workload { keys: 10, ..Workload::default() };
        let mut generator = OpGen::new(&workload, 0);
        generator.preload(db).unwrap();
        for command in CommandKind::ALL {
            for _ in 0..20 {
                generator.execute(command, db).unwrap();
            }
        }
    }
}
