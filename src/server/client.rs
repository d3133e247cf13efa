//! A connection's state: what commands read and change (`Client`), and the part other workers
//! may see (`ClientInfo`, for CLIENT LIST / KILL and INFO clients).

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use parking_lot::Mutex;

use crate::protocol::Protocol;
use crate::server::acl::{DEFAULT_USER, User};

/// CLIENT REPLY's modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyMode {
    /// Reply to every command.
    On,
    /// Reply to nothing.
    Off,
    /// Skip the next command's reply.
    Skip,
    /// Skip this command's reply (SKIP was given just before).
    SkipThis,
}

/// A MULTI block being queued.
#[derive(Debug, Default)]
pub struct Multi {
    /// The queued commands: table id and arguments.
    pub queued: Vec<(usize, Vec<Vec<u8>>)>,
    /// A queued command was refused (unknown, wrong arity): EXEC aborts.
    pub dirty: bool,
    /// A write is queued (EXEC is then a write: refused while the AOF cannot be written).
    pub writes: bool,
}

/// A key watched by WATCH: its database, name and version at WATCH time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watched {
    /// Database index.
    pub db: usize,
    /// The key.
    pub key: Vec<u8>,
    /// [`Db::watch_version`](crate::engine::Db::watch_version) when watched.
    pub version: Option<(u64, u64)>,
}

/// What a blocking command asks the worker to wait for.
#[derive(Debug, Clone)]
pub struct BlockRequest {
    /// The keys to wait on (in the client's database).
    pub keys: Vec<Vec<u8>>,
    /// Absolute deadline; `None` waits forever.
    pub deadline: Option<Instant>,
    /// On timeout: a null array (BLPOP, BLMPOP, BZPOPMIN) rather than a null bulk (BLMOVE).
    pub null_array: bool,
}

/// A connection's own state, owned by its worker.
#[derive(Debug)]
pub struct Client {
    /// CLIENT ID.
    pub id: u64,
    /// The selected database.
    pub db: usize,
    /// RESP2 or RESP3 (HELLO).
    pub protocol: Protocol,
    /// Whether AUTH succeeded (or no password is needed).
    pub authenticated: bool,
    /// The user its commands run as: `default` until AUTH; `None` for the server's own
    /// client (the AOF replay), which the ACL does not restrict.
    pub user: Option<Arc<User>>,
    /// CLIENT REPLY mode.
    pub reply_mode: ReplyMode,
    /// The running command replied with an error (failed_calls in commandstats).
    pub command_failed: bool,
    /// An open MULTI.
    pub multi: Option<Multi>,
    /// WATCHed keys.
    pub watched: Vec<Watched>,
    /// Running inside EXEC: blocking commands do not block.
    pub in_exec: bool,
    /// Subscribed channels.
    pub channels: HashSet<Vec<u8>>,
    /// Subscribed patterns.
    pub patterns: HashSet<Vec<u8>>,
    /// Set by a blocking command that found nothing: the worker parks the client.
    pub block: Option<BlockRequest>,
    /// Close the connection once the pending replies are written (QUIT, protocol errors).
    pub close_after_reply: bool,
    /// SHUTDOWN asked for: the worker starts the server's shutdown.
    pub shutdown_requested: bool,
    /// `appendfsync always`: the client's replies wait until every AOF record below this
    /// sequence number is on disk (0: nothing to wait for).
    pub aof_wait: u64,
    /// Set by a command whose own arguments would not replay to the same state (SPOP picks at
    /// random): the commands the AOF records instead.
    pub propagate: Option<Vec<Vec<Vec<u8>>>>,
    /// What other workers may see.
    pub info: Arc<ClientInfo>,
}

impl Client {
    /// A new connection's state.
    pub fn new(info: Arc<ClientInfo>, user: Option<Arc<User>>, authenticated: bool) -> Client {
        Client {
            id: info.id,
            db: 0,
            protocol: Protocol::Resp2,
            authenticated,
            user,
            reply_mode: ReplyMode::On,
            command_failed: false,
            multi: None,
            watched: Vec::new(),
            in_exec: false,
            channels: HashSet::new(),
            patterns: HashSet::new(),
            block: None,
            close_after_reply: false,
            shutdown_requested: false,
            aof_wait: 0,
            propagate: None,
            info,
        }
    }

    /// Runs as `user` from now on (AUTH, HELLO AUTH, RESET).
    pub fn set_user(&mut self, user: Arc<User>, authenticated: bool) {
        *self.info.user.lock() = Arc::from(user.name.as_str());
        self.user = Some(user);
        self.authenticated = authenticated;
    }

    /// Subscriptions (channels and patterns): the count Redis's (UN)SUBSCRIBE replies carry.
    pub fn subscriptions(&self) -> usize {
        self.channels.len() + self.patterns.len()
    }

    /// RESP2 subscribe mode restricts the commands a client may send.
    pub fn in_subscribe_mode(&self) -> bool {
        self.protocol == Protocol::Resp2 && self.subscriptions() > 0
    }
}

/// The part of a connection's state every worker can read (CLIENT LIST, INFO clients) or act
/// on (CLIENT KILL). Written by the owning worker with relaxed stores: readers want a recent
/// value, not a synchronised one.
#[derive(Debug)]
pub struct ClientInfo {
    /// CLIENT ID.
    pub id: u64,
    /// The owning worker.
    pub worker: usize,
    /// Peer address.
    pub addr: SocketAddr,
    /// Local address.
    pub laddr: SocketAddr,
    /// The socket's file descriptor.
    pub fd: i32,
    /// When the connection was accepted.
    pub created: Instant,
    /// CLIENT SETNAME.
    pub name: Mutex<Option<Vec<u8>>>,
    /// CLIENT SETINFO-like library name/version are not tracked; the last command's name is.
    pub last_command: AtomicUsize,
    /// Milliseconds since `created` of the last command.
    pub last_interaction_ms: AtomicU64,
    /// Selected database.
    pub db: AtomicUsize,
    /// 2 or 3.
    pub resp: AtomicU8,
    /// Channel subscriptions.
    pub sub: AtomicUsize,
    /// Pattern subscriptions.
    pub psub: AtomicUsize,
    /// Commands queued in MULTI, or -1 (stored +1: 0 means no MULTI).
    pub multi: AtomicUsize,
    /// Query buffer bytes.
    pub qbuf: AtomicUsize,
    /// Output buffer bytes.
    pub obuf: AtomicUsize,
    /// Blocked in a blocking command.
    pub blocked: AtomicBool,
    /// CLIENT NO-EVICT.
    pub no_evict: AtomicBool,
    /// CLIENT KILL asked for: the owner closes the connection.
    pub killed: AtomicBool,
    /// The authenticated user's name (CLIENT LIST, CLIENT KILL USER, ACL DELUSER).
    pub user: Mutex<Arc<str>>,
}

impl ClientInfo {
    /// A new connection's shared part.
    pub fn new(id: u64, worker: usize, addr: SocketAddr, laddr: SocketAddr, fd: i32) -> Self {
        ClientInfo {
            id,
            worker,
            addr,
            laddr,
            fd,
            created: Instant::now(),
            name: Mutex::new(None),
            last_command: AtomicUsize::new(usize::MAX),
            last_interaction_ms: AtomicU64::new(0),
            db: AtomicUsize::new(0),
            resp: AtomicU8::new(2),
            sub: AtomicUsize::new(0),
            psub: AtomicUsize::new(0),
            multi: AtomicUsize::new(0),
            qbuf: AtomicUsize::new(0),
            obuf: AtomicUsize::new(0),
            blocked: AtomicBool::new(false),
            no_evict: AtomicBool::new(false),
            killed: AtomicBool::new(false),
            user: Mutex::new(Arc::from(DEFAULT_USER)),
        }
    }

    /// Seconds since the last command.
    pub fn idle_seconds(&self) -> u64 {
        // Relaxed: an approximate idle time is all CLIENT LIST shows.
        let last = self.last_interaction_ms.load(Ordering::Relaxed);
        (self.created.elapsed().as_millis() as u64).saturating_sub(last) / 1000
    }

    /// Records activity now.
    pub fn touch(&self) {
        // Relaxed: see `idle_seconds`.
        self.last_interaction_ms
            .store(self.created.elapsed().as_millis() as u64, Ordering::Relaxed);
    }
}
