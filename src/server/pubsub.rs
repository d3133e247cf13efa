//! Channel and pattern subscriptions across workers.
//!
//! PUBLISH must know at once how many clients receive a message (its reply), and subscribers
//! live on every worker, so the registry is shared: a reader-writer lock per kind, taken for
//! writing only by (UN)SUBSCRIBE. This is not on the GET/SET path. Delivery goes through the
//! subscriber's worker inbox, which encodes the message in the subscriber's protocol.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::RwLock;

use crate::engine::glob;
use crate::server::{Inbox, Message};

/// A subscribed connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subscriber {
    /// CLIENT ID.
    pub client: u64,
    /// Its worker.
    pub worker: usize,
}

type Registry = RwLock<HashMap<Vec<u8>, Vec<Subscriber>, foldhash::fast::RandomState>>;

/// Every subscription.
#[derive(Debug, Default)]
pub struct PubSub {
    channels: Registry,
    patterns: Registry,
}

/// A message on its way to one subscriber.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The receiving client.
    pub client: u64,
    /// The pattern that matched (`pmessage`), or `None` (`message`).
    pub pattern: Option<Arc<[u8]>>,
    /// The channel.
    pub channel: Arc<[u8]>,
    /// The payload.
    pub payload: Arc<[u8]>,
}

fn add(registry: &Registry, name: &[u8], subscriber: Subscriber) {
    registry.write().entry(name.to_vec()).or_default().push(subscriber);
}

fn remove(registry: &Registry, name: &[u8], client: u64) {
    let mut map = registry.write();
    if let Some(list) = map.get_mut(name) {
        list.retain(|s| s.client != client);
        if list.is_empty() {
            map.remove(name);
        }
    }
}

impl PubSub {
    /// SUBSCRIBE (the caller checked the client was not subscribed yet).
    pub fn subscribe(&self, channel: &[u8], subscriber: Subscriber) {
        add(&self.channels, channel, subscriber);
    }

    /// UNSUBSCRIBE.
    pub fn unsubscribe(&self, channel: &[u8], client: u64) {
        remove(&self.channels, channel, client);
    }

    /// PSUBSCRIBE.
    pub fn psubscribe(&self, pattern: &[u8], subscriber: Subscriber) {
        add(&self.patterns, pattern, subscriber);
    }

    /// PUNSUBSCRIBE.
    pub fn punsubscribe(&self, pattern: &[u8], client: u64) {
        remove(&self.patterns, pattern, client);
    }

    /// PUBLISH: queues the message for every subscriber and returns how many there are.
    pub fn publish(&self, inboxes: &[Inbox], channel: &[u8], payload: &[u8]) -> usize {
        let channel: Arc<[u8]> = Arc::from(channel);
        let payload: Arc<[u8]> = Arc::from(payload);
        let mut receivers = 0;
        if let Some(list) = self.channels.read().get(&channel[..]) {
            for subscriber in list {
                receivers += 1;
                inboxes[subscriber.worker].send(Message::Publish(Delivery {
                    client: subscriber.client,
                    pattern: None,
                    channel: channel.clone(),
                    payload: payload.clone(),
                }));
            }
        }
        for (pattern, list) in self.patterns.read().iter() {
            if !glob::matches(pattern, &channel) {
                continue;
            }
            let pattern: Arc<[u8]> = Arc::from(&pattern[..]);
            for subscriber in list {
                receivers += 1;
                inboxes[subscriber.worker].send(Message::Publish(Delivery {
                    client: subscriber.client,
                    pattern: Some(pattern.clone()),
                    channel: channel.clone(),
                    payload: payload.clone(),
                }));
            }
        }
        receivers
    }

    /// PUBSUB CHANNELS [pattern]: active channels.
    pub fn channels(&self, pattern: Option<&[u8]>) -> Vec<Vec<u8>> {
        self.channels
            .read()
            .keys()
            .filter(|name| pattern.is_none_or(|p| glob::matches(p, name)))
            .cloned()
            .collect()
    }

    /// PUBSUB NUMSUB: subscribers of `channel`.
    pub fn numsub(&self, channel: &[u8]) -> usize {
        self.channels.read().get(channel).map_or(0, Vec::len)
    }

    /// PUBSUB NUMPAT: distinct patterns subscribed.
    pub fn numpat(&self) -> usize {
        self.patterns.read().len()
    }
}
