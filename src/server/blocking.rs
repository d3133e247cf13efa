//! Clients blocked on keys (BLPOP, BLMOVE, BLMPOP, BZPOPMIN, ...), across workers.
//!
//! A blocked client is registered under each of its keys. A write to a key someone waits on
//! sends a `KeyReady` to the waiter's worker, which retries the command. The registry costs a
//! write nothing while no client is blocked: one relaxed load of `waiting`.
//!
//! No wake-up is lost: the worker registers a client first and then retries its command once
//! (by queueing a `KeyReady` for itself), so a push that landed between the failed attempt and
//! the registration is seen by the retry, and every push after the registration signals.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use parking_lot::Mutex;

use crate::server::{Inbox, Message};

/// Waiters by (database, key).
type Waiters = HashMap<(usize, Vec<u8>), Vec<Waiter>, foldhash::fast::RandomState>;

/// A waiting client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Waiter {
    client: u64,
    worker: usize,
}

/// Every blocked client, by (database, key).
#[derive(Debug, Default)]
pub struct Blocking {
    waiters: Mutex<Waiters>,
    /// Registrations (a client counts once per key).
    waiting: AtomicUsize,
}

impl Blocking {
    /// Whether any client is blocked (the fast check every write makes).
    #[inline]
    pub fn active(&self) -> bool {
        // The writer has just stored to a key and now reads `waiting`; a waiter stores
        // `waiting` (SeqCst, in `block`) and then reads the key in its retry. Without a full
        // fence between the writer's store and load, both could miss the other's write (the
        // store-buffering pattern). With it, at least one of them sees the other: the writer
        // signals, or the retry finds the element.
        std::sync::atomic::fence(Ordering::SeqCst);
        self.waiting.load(Ordering::Relaxed) > 0
    }

    /// Registers `client` (on `worker`) as waiting on `keys` of database `db`.
    pub fn block(&self, db: usize, keys: &[Vec<u8>], client: u64, worker: usize) {
        let mut waiters = self.waiters.lock();
        for key in keys {
            let list = waiters.entry((db, key.clone())).or_default();
            if !list.iter().any(|w| w.client == client) {
                list.push(Waiter { client, worker });
                // SeqCst: the store must be visible before the waiter's retry reads the key
                // (a writer that pushes after that read then sees `active`).
                self.waiting.fetch_add(1, Ordering::SeqCst);
            }
        }
    }

    /// Removes `client` from `keys`.
    pub fn unblock(&self, db: usize, keys: &[Vec<u8>], client: u64) {
        let mut waiters = self.waiters.lock();
        for key in keys {
            let map_key = (db, key.clone());
            if let Some(list) = waiters.get_mut(&map_key) {
                let before = list.len();
                list.retain(|w| w.client != client);
                // Relaxed: the mutex orders registrations; see `active`.
                self.waiting.fetch_sub(before - list.len(), Ordering::Relaxed);
                if list.is_empty() {
                    waiters.remove(&map_key);
                }
            }
        }
    }

    /// Tells the waiters of `keys` in `db` to retry.
    pub fn signal(&self, inboxes: &[Inbox], db: usize, keys: &[&[u8]]) {
        let waiters = self.waiters.lock();
        let mut sent: Vec<u64> = Vec::new();
        for key in keys {
            if let Some(list) = waiters.get(&(db, key.to_vec())) {
                for waiter in list {
                    if !sent.contains(&waiter.client) {
                        sent.push(waiter.client);
                        inboxes[waiter.worker].send(Message::KeyReady(waiter.client));
                    }
                }
            }
        }
    }

    /// Tells every waiter to retry (SWAPDB, FLUSHALL, and other whole-keyspace changes).
    pub fn signal_all(&self, inboxes: &[Inbox]) {
        let waiters = self.waiters.lock();
        let mut sent: Vec<u64> = Vec::new();
        for waiter in waiters.values().flatten() {
            if !sent.contains(&waiter.client) {
                sent.push(waiter.client);
                inboxes[waiter.worker].send(Message::KeyReady(waiter.client));
            }
        }
    }
}
