//! A worker: one pinned thread, one epoll loop, its own connections.

use std::collections::{BTreeSet, HashMap};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token, Waker};

use crate::commands::CommandTable;
use crate::engine::Engine;
use crate::persist::WorkerLog;
use crate::protocol::{Encoder, ParserLimits, Protocol, RequestParser};
use crate::server::client::{Client, ClientInfo};
use crate::server::config::Config;
use crate::server::conn::{Blocked, Conn, OUTPUT_PAUSE, ReadOutcome};
use crate::server::dispatch::Runner;
use crate::server::pubsub::Delivery;
use crate::server::stats::{WorkerStats, bump};
use crate::server::{Inbox, Shared};

const WAKER: Token = Token(usize::MAX);
/// Listener `i` is `Token(LISTENER_BASE - i)`.
const LISTENER_BASE: usize = usize::MAX - 1;
/// Bytes of input processed for one connection before the others get a turn.
const FAIR_SHARE: usize = 512 * 1024;

/// What workers send each other.
#[derive(Debug)]
pub enum Message {
    /// A connection accepted by worker 0 for this worker.
    NewConnection(TcpStream, SocketAddr, bool),
    /// A published message for a subscriber of this worker.
    Publish(Delivery),
    /// A key the client is blocked on may have data: retry its command.
    KeyReady(u64),
    /// CLIENT KILL: close this client.
    Kill(u64),
    /// The AOF writer made more records durable: release replies that waited for them.
    Durable,
    /// Stop.
    Shutdown,
}

/// Limits a worker caches from the configuration (refreshed when `config_epoch` moves).
#[derive(Debug, Clone, Copy)]
struct Limits {
    parser: ParserLimits,
    query_buffer: usize,
    normal_hard: u64,
    normal_soft: u64,
    normal_soft_seconds: u64,
    pubsub_hard: u64,
    pubsub_soft: u64,
    pubsub_soft_seconds: u64,
    timeout_seconds: u64,
    maxclients: u64,
    protected: bool,
    /// `slowlog-log-slower-than`, read per command without touching the shared lock.
    slowlog_us: i64,
    keepalive: u64,
}

impl Limits {
    fn from(config: &Config) -> Limits {
        let output = &config.client_output_buffer_limit;
        Limits {
            parser: ParserLimits {
                proto_max_bulk_len: config.proto_max_bulk_len_bytes,
                ..ParserLimits::default()
            },
            query_buffer: config.client_query_buffer_limit_bytes as usize,
            normal_hard: output.normal.hard_bytes,
            normal_soft: output.normal.soft_bytes,
            normal_soft_seconds: output.normal.soft_seconds,
            pubsub_hard: output.pubsub.hard_bytes,
            pubsub_soft: output.pubsub.soft_bytes,
            pubsub_soft_seconds: output.pubsub.soft_seconds,
            timeout_seconds: config.timeout_seconds,
            maxclients: config.maxclients,
            slowlog_us: config.slowlog_log_slower_than_us,
            protected: config.protected_mode,
            keepalive: config.tcp_keepalive_seconds,
        }
    }
}

/// A running server.
#[derive(Debug)]
pub struct ServerHandle {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
    addrs: Vec<SocketAddr>,
    aof_writer: Option<JoinHandle<()>>,
}

impl ServerHandle {
    /// The addresses listened on.
    pub fn addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// The shared state (tests, the embedding binary).
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Asks the workers to stop (they finish writing pending replies).
    pub fn shutdown(&self) {
        self.shared.shutdown();
    }

    /// Waits for every worker to stop, saves a final snapshot when `save` rules are set (or
    /// SHUTDOWN SAVE asked for one), then waits for the AOF writer to write and sync what the
    /// workers recorded.
    pub fn join(self) {
        for thread in self.threads {
            // A worker that panicked has already logged it; the others stopped normally.
            let _ = thread.join();
        }
        crate::server::persistence::shutdown_save(&self.shared);
        if let (Some(aof), Some(writer)) = (self.shared.aof.get(), self.aof_writer) {
            aof.stop();
            let _ = writer.join();
        }
    }
}

fn listen(addr: SocketAddr, backlog: i32) -> io::Result<TcpListener> {
    let domain = if addr.is_ipv6() { socket2::Domain::IPV6 } else { socket2::Domain::IPV4 };
    let socket = socket2::Socket::new(domain, socket2::Type::STREAM, Some(socket2::Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.bind(&addr.into())?;
    socket.listen(backlog)?;
    socket.set_nonblocking(true)?;
    Ok(TcpListener::from_std(socket.into()))
}

/// Binds, builds the engine and starts the workers.
pub fn start(config: Config, config_file: Option<std::path::PathBuf>) -> io::Result<ServerHandle> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers = if config.workers == 0 { cores } else { config.workers };
    let mut builder = Engine::builder().databases(config.databases);
    if config.shards > 0 {
        builder = builder.shards(config.shards);
    }
    let engine = builder.build();
    let shards = engine.shards();

    let mut ips = Vec::new();
    for host in &config.bind {
        let host = host.trim_start_matches('-');
        let ip: IpAddr = if host == "*" {
            IpAddr::from([0, 0, 0, 0])
        } else {
            host.parse().map_err(|_| {
                io::Error::new(io::ErrorKind::InvalidInput, format!("bad bind address '{host}'"))
            })?
        };
        ips.push(ip);
    }
    let mut listeners = Vec::new();
    let mut port = config.port;
    // `port 0` with a `tls-port` serves TLS only, as in Redis; `port 0` alone takes a free
    // port (what tests and embedders that want one ask for).
    let plain_ips = if config.port == 0 && config.tls_port > 0 { &[][..] } else { &ips[..] };
    for &ip in plain_ips {
        let listener = listen(SocketAddr::new(ip, port), config.tcp_backlog as i32)?;
        port = listener.local_addr()?.port();
        listeners.push(listener);
    }
    // TLS listeners follow the plain ones: an accepted socket's listener index says which.
    let tls = if config.tls_port > 0 {
        let server_config =
            crate::server::tls::server_config(&config.tls_cert_file, &config.tls_key_file)
                .map_err(|message| io::Error::new(io::ErrorKind::InvalidInput, message))?;
        let first_listener = listeners.len();
        for &ip in &ips {
            let listener = listen(SocketAddr::new(ip, config.tls_port), config.tcp_backlog as i32)?;
            listeners.push(listener);
        }
        Some(crate::server::TlsListeners { config: server_config, first_listener })
    } else {
        None
    };
    let addrs = listeners.iter().map(|l| l.local_addr()).collect::<io::Result<Vec<_>>>()?;

    let mut polls = Vec::new();
    let mut inboxes = Vec::new();
    for _ in 0..workers {
        let poll = Poll::new()?;
        let waker = Waker::new(poll.registry(), WAKER)?;
        inboxes.push(Inbox { queue: Default::default(), waker });
        polls.push(poll);
    }
    let commands = CommandTable::new(&config.rename_command);
    let acl =
        crate::server::acl::Acl::new(commands.all(), config.requirepass.as_deref(), &config.users)
            .map_err(|message| io::Error::new(io::ErrorKind::InvalidInput, message))?;
    let stats = (0..workers).map(|_| Arc::new(WorkerStats::new(commands.len()))).collect();
    let shared = Arc::new(Shared {
        engine,
        config: parking_lot::RwLock::new(config),
        config_epoch: AtomicU64::new(0),
        commands,
        acl,
        tls,
        clients: Default::default(),
        pubsub: Default::default(),
        blocking: Default::default(),
        inboxes,
        stats,
        slowlog: Default::default(),
        next_client_id: AtomicU64::new(1),
        shutting_down: Default::default(),
        started: Instant::now(),
        port,
        run_id: run_id(),
        last_save: AtomicU64::new(Shared::unix_seconds()),
        config_file,
        aof: std::sync::OnceLock::new(),
        order: Arc::new(crate::persist::order::Order::new(shards, 1)),
        snapshots: crate::persist::snapshot::Snapshots::new(shards),
        this: std::sync::OnceLock::new(),
        shutdown_save: Default::default(),
    });
    let _ = shared.this.set(Arc::downgrade(&shared));
    shared.engine.set_eviction_hook(Box::new(crate::server::persistence::PersistEvictions(
        Arc::downgrade(&shared),
    )));

    let mut aof_writer = None;
    let appendonly = shared.config.read().appendonly;
    if !appendonly {
        // With the AOF on, the AOF is the dataset (as in Redis); without it, the snapshot.
        crate::server::persistence::load_snapshot(&shared)
            .map_err(|message| io::Error::new(io::ErrorKind::InvalidData, message))?;
    }
    if appendonly {
        let (aof, file) = crate::server::persistence::load(&shared, workers)
            .map_err(|message| io::Error::new(io::ErrorKind::InvalidData, message))?;
        let wake_shared = Arc::downgrade(&shared);
        let wake = Box::new(move |worker: usize| {
            if let Some(shared) = wake_shared.upgrade() {
                shared.inboxes[worker].send(Message::Durable);
            }
        });
        aof_writer = Some(aof.start(file, wake)?);
        let _ = shared.aof.set(aof);
    }
    // After loading, as Redis (which does not evict while loading): replaying the recorded
    // evictions (DELs) is what keeps evicted keys out, and evicting during the replay would
    // remove others. Anything still over the limit is evicted by the maintenance cycles, and
    // recorded.
    let limit = shared.config.read().memory_limit();
    shared.engine.set_memory_limit(limit);

    let core_ids = if shared.config.read().pin_workers {
        core_affinity::get_core_ids().unwrap_or_default()
    } else {
        Vec::new()
    };
    let mut threads = Vec::new();
    for (index, poll) in polls.into_iter().enumerate() {
        let shared = shared.clone();
        let listeners = if index == 0 { std::mem::take(&mut listeners) } else { Vec::new() };
        let core = (!core_ids.is_empty()).then(|| core_ids[index % core_ids.len()]);
        let thread = std::thread::Builder::new().name(format!("corekv-worker-{index}")).spawn(
            move || {
                if let Some(core) = core {
                    core_affinity::set_for_current(core);
                }
                let mut worker = Worker::new(index, shared, poll, listeners);
                if let Err(error) = worker.run() {
                    tracing::error!(worker = index, %error, "worker stopped on an error");
                }
            },
        )?;
        threads.push(thread);
    }
    Ok(ServerHandle { shared, threads, addrs, aof_writer })
}

fn run_id() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..40).map(|_| char::from_digit(rng.random_range(0..16), 16).unwrap_or('0')).collect()
}

struct Worker {
    index: usize,
    shared: Arc<Shared>,
    stats: Arc<WorkerStats>,
    poll: Poll,
    listeners: Vec<TcpListener>,
    conns: Vec<Option<Conn>>,
    free: Vec<usize>,
    by_id: HashMap<u64, usize>,
    /// Connections with input left to process (fair-share cut or unblocked).
    ready: Vec<usize>,
    /// Blocked clients' deadlines.
    timers: BTreeSet<(Instant, u64)>,
    next_worker: usize,
    limits: Limits,
    config_epoch: u64,
    last_sweep: Instant,
    /// This worker's side of the AOF, when it is on.
    log: Option<WorkerLog>,
    /// Connections whose replies wait for their AOF records to be durable (`always`).
    durable_waiters: Vec<usize>,
}

impl Worker {
    fn new(index: usize, shared: Arc<Shared>, poll: Poll, listeners: Vec<TcpListener>) -> Worker {
        let limits = Limits::from(&shared.config.read());
        let log = shared.aof.get().map(|aof| WorkerLog::new(aof.clone(), index));
        Worker {
            index,
            stats: shared.stats[index].clone(),
            shared,
            poll,
            listeners,
            conns: Vec::new(),
            free: Vec::new(),
            by_id: HashMap::new(),
            ready: Vec::new(),
            timers: BTreeSet::new(),
            next_worker: 0,
            limits,
            config_epoch: 0,
            last_sweep: Instant::now(),
            log,
            durable_waiters: Vec::new(),
        }
    }

    fn run(&mut self) -> io::Result<()> {
        for (i, listener) in self.listeners.iter_mut().enumerate() {
            self.poll.registry().register(
                listener,
                Token(LISTENER_BASE - i),
                Interest::READABLE,
            )?;
        }
        let mut events = Events::with_capacity(1024);
        loop {
            let timeout = if !self.ready.is_empty() {
                Duration::ZERO
            } else {
                let mut timeout = Duration::from_millis(100);
                if let Some(&(deadline, _)) = self.timers.first() {
                    timeout = timeout.min(deadline.saturating_duration_since(Instant::now()));
                }
                timeout
            };
            match self.poll.poll(&mut events, Some(timeout)) {
                Ok(()) => {}
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(error),
            }
            self.refresh_config();
            for event in events.iter() {
                match event.token() {
                    WAKER => {}
                    Token(token)
                        if token > LISTENER_BASE - self.listeners.len()
                            && token <= LISTENER_BASE =>
                    {
                        self.accept(LISTENER_BASE - token);
                    }
                    Token(token) => {
                        if (event.is_read_closed() || event.is_error())
                            && let Some(Some(conn)) = self.conns.get_mut(token)
                        {
                            conn.hung_up = true;
                        }
                        if event.is_readable() || event.is_read_closed() || event.is_error() {
                            self.on_readable(token);
                        }
                        if event.is_writable() {
                            self.after_output(token);
                        }
                    }
                }
            }
            if self.drain_inbox() {
                break;
            }
            for token in std::mem::take(&mut self.ready) {
                self.on_readable(token);
            }
            self.fire_timers();
            if self.last_sweep.elapsed() >= Duration::from_millis(1000) {
                self.sweep();
            }
            // Before sleeping: the writer cannot pass a record still in this worker's batch.
            if let Some(log) = &self.log {
                log.flush();
            }
        }
        self.stop();
        Ok(())
    }

    fn refresh_config(&mut self) {
        // Acquire: pairs with CONFIG SET's release bump, so the new values are visible.
        let epoch = self.shared.config_epoch.load(Ordering::Acquire);
        if epoch != self.config_epoch {
            self.config_epoch = epoch;
            self.limits = Limits::from(&self.shared.config.read());
            for conn in self.conns.iter_mut().flatten() {
                conn.parser.set_limits(self.limits.parser);
            }
        }
    }

    /// Handles inbox messages; true when the worker must stop.
    fn drain_inbox(&mut self) -> bool {
        let mut stop = false;
        while let Some(message) = self.shared.inboxes[self.index].queue.pop() {
            match message {
                Message::NewConnection(stream, addr, tls) => self.adopt(stream, addr, tls),
                Message::Publish(delivery) => self.deliver(delivery),
                Message::KeyReady(client) => {
                    if let Some(&token) = self.by_id.get(&client) {
                        self.retry_blocked(token);
                    }
                }
                Message::Kill(client) => {
                    if let Some(&token) = self.by_id.get(&client) {
                        self.close(token);
                    }
                }
                Message::Durable => self.release_durable(),
                Message::Shutdown => stop = true,
            }
        }
        stop
    }

    fn accept(&mut self, listener: usize) {
        loop {
            let (stream, addr) = match self.listeners[listener].accept() {
                Ok(accepted) => accepted,
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => return,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => {
                    // EMFILE and friends: log and retry on the next readiness event.
                    tracing::warn!(%error, "accept failed");
                    return;
                }
            };
            bump(&self.stats.connections_received, 1);
            let connected: u64 =
                crate::server::stats::total(&self.shared.stats, |s| &s.connected_clients);
            if connected >= self.limits.maxclients {
                bump(&self.stats.rejected_connections, 1);
                refuse(stream, b"-ERR max number of clients reached\r\n");
                continue;
            }
            // Redis's rule: protected while the default user needs no password.
            if self.limits.protected
                && !addr.ip().is_loopback()
                && self.shared.acl.default_user().needs_no_password()
            {
                bump(&self.stats.rejected_connections, 1);
                refuse(stream, PROTECTED_MODE_DENIED);
                continue;
            }
            let tls = self.shared.tls.as_ref().is_some_and(|tls| listener >= tls.first_listener);
            let worker = self.next_worker % self.shared.inboxes.len();
            self.next_worker = self.next_worker.wrapping_add(1);
            if worker == self.index {
                self.adopt(stream, addr, tls);
            } else {
                // Counted now so maxclients holds even before the other worker adopts it.
                self.shared.inboxes[worker].send(Message::NewConnection(stream, addr, tls));
            }
        }
    }

    fn adopt(&mut self, mut stream: TcpStream, addr: SocketAddr, tls: bool) {
        let session = match &self.shared.tls {
            Some(listeners) if tls => {
                match crate::server::tls::TlsSession::new(&listeners.config) {
                    Ok(session) => Some(Box::new(session)),
                    Err(error) => {
                        tracing::warn!(%error, "TLS session setup failed");
                        return;
                    }
                }
            }
            _ => None,
        };
        let _ = stream.set_nodelay(true);
        if self.limits.keepalive > 0 {
            let keepalive =
                socket2::TcpKeepalive::new().with_time(Duration::from_secs(self.limits.keepalive));
            let _ = socket2::SockRef::from(&stream).set_tcp_keepalive(&keepalive);
        }
        let token = self.free.pop().unwrap_or_else(|| {
            self.conns.push(None);
            self.conns.len() - 1
        });
        if let Err(error) = self.poll.registry().register(
            &mut stream,
            Token(token),
            Interest::READABLE | Interest::WRITABLE,
        ) {
            tracing::warn!(%error, "cannot register a connection");
            self.free.push(token);
            return;
        }
        // Relaxed: ids need uniqueness only.
        let id = self.shared.next_client_id.fetch_add(1, Ordering::Relaxed);
        let laddr = stream.local_addr().unwrap_or(addr);
        let fd = std::os::fd::AsRawFd::as_raw_fd(&stream);
        let info = Arc::new(ClientInfo::new(id, self.index, addr, laddr, fd));
        let user = self.shared.acl.default_user();
        let authenticated = user.needs_no_password();
        let client = Client::new(info.clone(), Some(user), authenticated);
        let mut parser = RequestParser::new(self.limits.parser);
        parser.set_auth_required(!authenticated);
        self.shared.clients.lock().insert(id, info);
        self.by_id.insert(id, token);
        self.conns[token] = Some(Conn::new(stream, session, client, parser));
        bump(&self.stats.connected_clients, 1);
        // Edge-triggered: bytes that arrived before registration raise no event.
        self.ready.push(token);
    }

    fn on_readable(&mut self, token: usize) {
        let Some(Some(conn)) = self.conns.get_mut(token) else { return };
        if conn.blocked.is_some() {
            // Parked: keep reading, as Redis does, so a peer that hangs up is closed now
            // instead of being served an element nobody will read. Pipelined input waits in
            // the buffer until the client is served (`unblock` queues the connection).
            loop {
                match conn.read() {
                    ReadOutcome::Data { bytes, .. } => {
                        bump(&self.stats.net_input_bytes, bytes as u64);
                        if conn.pending_input() > self.limits.query_buffer {
                            bump(&self.stats.client_query_buffer_limit_disconnections, 1);
                            self.close(token);
                            return;
                        }
                    }
                    ReadOutcome::WouldBlock => return,
                    ReadOutcome::Closed => {
                        self.close(token);
                        return;
                    }
                }
            }
        }
        let mut processed = 0;
        let mut close = false;
        loop {
            if conn.client.close_after_reply {
                break;
            }
            // With too much unread output, stop executing but keep reading: a client that
            // writes a whole pipeline before reading any reply (as redis-py's pipelines do)
            // must be able to finish writing, or both sides wait on each other. Its input is
            // bounded by the query buffer limit, as in Redis; output stops growing here.
            let paused = conn.pending_output() >= OUTPUT_PAUSE;
            let outcome = conn.read();
            match outcome {
                ReadOutcome::Data { bytes, .. } => {
                    bump(&self.stats.net_input_bytes, bytes as u64);
                    processed += bytes;
                }
                ReadOutcome::WouldBlock => {}
                ReadOutcome::Closed => conn.eof = true,
            }
            if conn.pending_input() > self.limits.query_buffer {
                tracing::info!(
                    client = conn.client.id,
                    "closing client that reached max query buffer length"
                );
                bump(&self.stats.client_query_buffer_limit_disconnections, 1);
                close = true;
                break;
            }
            if paused {
                conn.paused = true;
                if let ReadOutcome::Data { full: true, .. } = outcome {
                    continue;
                }
                break;
            }
            let runner = Runner {
                shared: &self.shared,
                stats: &self.stats,
                slowlog_us: self.limits.slowlog_us,
                log: self.log.as_ref(),
            };
            let blocked = process_input(&runner, conn);
            if let Some(blocked) = blocked {
                let client = conn.client.id;
                let db = blocked.db;
                let keys = blocked.keys.clone();
                if let Some(deadline) = blocked.deadline {
                    self.timers.insert((deadline, client));
                }
                conn.blocked = Some(blocked);
                conn.client.info.blocked.store(true, Ordering::Relaxed);
                bump(&self.stats.blocked_clients, 1);
                self.shared.blocking.block(db, &keys, client, self.index);
                // Retry once now that the registration is visible (see server::blocking).
                self.shared.inboxes[self.index].send(Message::KeyReady(client));
                break;
            }
            if conn.client.shutdown_requested {
                self.shared.shutdown();
            }
            // More may wait when the read filled the space offered, or when the peer hung up
            // (its FIN may have come with these bytes: read until the end shows).
            let more = match outcome {
                ReadOutcome::Data { full, .. } => full || conn.hung_up,
                ReadOutcome::WouldBlock | ReadOutcome::Closed => false,
            };
            if more {
                if processed >= FAIR_SHARE {
                    self.ready.push(token);
                    break;
                }
                continue;
            }
            break;
        }
        let Some(Some(conn)) = self.conns.get_mut(token) else { return };
        conn.shrink_input();
        if close {
            self.close(token);
            return;
        }
        self.after_output(token);
    }

    /// Writes what is pending, enforces the output limits and closes when due.
    fn after_output(&mut self, token: usize) {
        if self.over_output_limit(token) {
            self.close(token);
            return;
        }
        let Some(Some(conn)) = self.conns.get_mut(token) else { return };
        if conn.client.aof_wait > 0
            && let Some(log) = &self.log
        {
            let aof = log.aof();
            if conn.client.aof_wait > aof.durable()
                && conn.client.aof_wait > aof.wait_for_durable(self.index)
            {
                // `appendfsync always`: these replies leave once their records are on disk.
                if !self.durable_waiters.contains(&token) {
                    self.durable_waiters.push(token);
                }
                return;
            }
            conn.client.aof_wait = 0;
        }
        let mut written = 0;
        let flushed = conn.flush(&mut written);
        bump(&self.stats.net_output_bytes, written);
        let done = match flushed {
            Ok(all) => all,
            Err(_) => {
                self.close(token);
                return;
            }
        };
        let Some(Some(conn)) = self.conns.get_mut(token) else { return };
        if conn.paused && conn.pending_output() < OUTPUT_PAUSE {
            // The paused pipeline resumes (see `Conn::paused`).
            conn.paused = false;
            self.ready.push(token);
        }
        // Relaxed: CLIENT LIST figures are informational.
        conn.client.info.obuf.store(conn.pending_output(), Ordering::Relaxed);
        conn.client.info.qbuf.store(conn.pending_input(), Ordering::Relaxed);
        if done && (conn.client.close_after_reply || (conn.eof && conn.blocked.is_none())) {
            self.close(token);
        } else if conn.eof && !done {
            // The peer is gone; nothing more can be delivered.
            self.close(token);
        }
    }

    /// Sends the replies whose AOF records are now durable.
    fn release_durable(&mut self) {
        let waiting = std::mem::take(&mut self.durable_waiters);
        for token in waiting {
            self.after_output(token);
        }
        if self.durable_waiters.is_empty()
            && let Some(log) = &self.log
        {
            log.aof().stop_waiting(self.index);
        }
    }

    fn over_output_limit(&mut self, token: usize) -> bool {
        let Some(Some(conn)) = self.conns.get_mut(token) else { return false };
        let pending = conn.pending_output() as u64;
        let (hard, soft, seconds) = if conn.client.subscriptions() > 0 {
            (self.limits.pubsub_hard, self.limits.pubsub_soft, self.limits.pubsub_soft_seconds)
        } else {
            (self.limits.normal_hard, self.limits.normal_soft, self.limits.normal_soft_seconds)
        };
        let mut over = hard > 0 && pending > hard;
        if soft > 0 && pending > soft {
            let since = *conn.soft_limit_since.get_or_insert_with(Instant::now);
            over |= since.elapsed() > Duration::from_secs(seconds);
        } else {
            conn.soft_limit_since = None;
        }
        if over {
            tracing::info!(
                client = conn.client.id,
                "client scheduled to be closed ASAP for overcoming of output buffer limits"
            );
            bump(&self.stats.client_output_buffer_limit_disconnections, 1);
        }
        over
    }

    fn deliver(&mut self, delivery: Delivery) {
        let Some(&token) = self.by_id.get(&delivery.client) else { return };
        let Some(Some(conn)) = self.conns.get_mut(token) else { return };
        let mut reply = Encoder::new(&mut conn.wbuf, conn.client.protocol);
        let count = if delivery.pattern.is_some() { 4 } else { 3 };
        match conn.client.protocol {
            Protocol::Resp2 => reply.array(count),
            Protocol::Resp3 => reply.push(count),
        }
        match &delivery.pattern {
            Some(pattern) => {
                reply.bulk(b"pmessage");
                reply.bulk(pattern);
            }
            None => reply.bulk(b"message"),
        }
        reply.bulk(&delivery.channel);
        reply.bulk(&delivery.payload);
        self.after_output(token);
    }

    fn retry_blocked(&mut self, token: usize) {
        let Some(Some(conn)) = self.conns.get_mut(token) else { return };
        let Some(blocked) = conn.blocked.take() else { return };
        let args: Vec<&[u8]> = blocked.args.iter().map(Vec::as_slice).collect();
        let runner = Runner {
            shared: &self.shared,
            stats: &self.stats,
            slowlog_us: self.limits.slowlog_us,
            log: self.log.as_ref(),
        };
        runner.execute(&mut conn.client, &mut conn.wbuf, &args);
        if conn.client.block.take().is_some() {
            // Still nothing: keep waiting with the original deadline and registration.
            conn.blocked = Some(blocked);
            return;
        }
        self.unblock(token, blocked);
    }

    fn unblock(&mut self, token: usize, blocked: Blocked) {
        let Some(Some(conn)) = self.conns.get_mut(token) else { return };
        let client = conn.client.id;
        self.shared.blocking.unblock(blocked.db, &blocked.keys, client);
        if let Some(deadline) = blocked.deadline {
            self.timers.remove(&(deadline, client));
        }
        conn.client.info.blocked.store(false, Ordering::Relaxed);
        let blocked_now = self.stats.blocked_clients.load(Ordering::Relaxed);
        self.stats.blocked_clients.store(blocked_now.saturating_sub(1), Ordering::Relaxed);
        // Pipelined requests behind the blocking one run now.
        self.ready.push(token);
        self.after_output(token);
    }

    fn fire_timers(&mut self) {
        let now = Instant::now();
        while let Some(&(deadline, client)) = self.timers.first() {
            if deadline > now {
                break;
            }
            self.timers.pop_first();
            let Some(&token) = self.by_id.get(&client) else { continue };
            let Some(Some(conn)) = self.conns.get_mut(token) else { continue };
            let Some(blocked) = conn.blocked.take() else { continue };
            let mut reply = Encoder::new(&mut conn.wbuf, conn.client.protocol);
            if blocked.null_array {
                reply.null_array();
            } else {
                reply.null();
            }
            self.unblock(token, blocked);
        }
    }

    /// Once a second: idle timeouts and CLIENT KILL flags; on worker 0, `save` rules.
    fn sweep(&mut self) {
        self.last_sweep = Instant::now();
        if self.index == 0 {
            crate::server::persistence::cron(&self.shared);
        }
        let timeout = self.limits.timeout_seconds;
        let mut doomed = Vec::new();
        for (token, conn) in self.conns.iter().enumerate() {
            let Some(conn) = conn else { continue };
            // Relaxed: the flag is re-read every second; Kill messages make it prompt.
            if conn.client.info.killed.load(Ordering::Relaxed) {
                doomed.push(token);
            } else if timeout > 0
                && conn.blocked.is_none()
                && conn.client.subscriptions() == 0
                && conn.client.info.idle_seconds() > timeout
            {
                tracing::debug!(client = conn.client.id, "closing idle client");
                doomed.push(token);
            }
        }
        for token in doomed {
            self.close(token);
        }
    }

    fn close(&mut self, token: usize) {
        let Some(mut conn) = self.conns.get_mut(token).and_then(Option::take) else { return };
        let _ = self.poll.registry().deregister(&mut conn.stream);
        let id = conn.client.id;
        self.by_id.remove(&id);
        self.free.push(token);
        if let Some(blocked) = conn.blocked.take() {
            self.shared.blocking.unblock(blocked.db, &blocked.keys, id);
            if let Some(deadline) = blocked.deadline {
                self.timers.remove(&(deadline, id));
            }
            let blocked_now = self.stats.blocked_clients.load(Ordering::Relaxed);
            self.stats.blocked_clients.store(blocked_now.saturating_sub(1), Ordering::Relaxed);
        }
        for channel in &conn.client.channels {
            self.shared.pubsub.unsubscribe(channel, id);
        }
        for pattern in &conn.client.patterns {
            self.shared.pubsub.punsubscribe(pattern, id);
        }
        self.shared.clients.lock().remove(&id);
        let connected = self.stats.connected_clients.load(Ordering::Relaxed);
        self.stats.connected_clients.store(connected.saturating_sub(1), Ordering::Relaxed);
    }

    fn stop(&mut self) {
        if let Some(log) = &self.log {
            log.flush();
            // Replies held for `appendfsync always` leave only once durable: the writer is
            // still running (it stops after every worker), so wait for it, boundedly.
            let wanted = self.conns.iter().flatten().map(|c| c.client.aof_wait).max().unwrap_or(0);
            let deadline = Instant::now() + Duration::from_secs(10);
            while log.aof().durable() < wanted && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(1));
            }
            if log.aof().durable() < wanted {
                tracing::warn!("shutting down with replies whose AOF records are not durable");
                for conn in self.conns.iter_mut().flatten() {
                    if conn.client.aof_wait > log.aof().durable() {
                        conn.wbuf.truncate(conn.wpos);
                    }
                }
            }
        }
        for token in 0..self.conns.len() {
            if let Some(Some(conn)) = self.conns.get_mut(token) {
                let mut written = 0;
                let _ = conn.flush(&mut written);
            }
            self.close(token);
        }
    }
}

/// Parses and runs every complete request in the buffer. Returns the block request of a
/// blocking command that found nothing (the rest of the pipeline waits for it).
fn process_input(runner: &Runner<'_>, conn: &mut Conn) -> Option<Blocked> {
    let mut spare: Vec<&[u8]> = Vec::new();
    if conn.pending_input() > 0 {
        conn.client.info.touch();
    }
    conn.paused = false;
    while !conn.client.close_after_reply {
        if conn.pending_output() >= OUTPUT_PAUSE {
            conn.paused = conn.pending_input() > 0;
            break;
        }
        let parsed = conn.parser.parse(&conn.rbuf[conn.rstart..conn.rend]);
        match parsed {
            Ok(Some((request, used))) => {
                let mut args = recycle(spare);
                args.extend(request.args());
                runner.execute(&mut conn.client, &mut conn.wbuf, &args);
                let blocked = conn.client.block.take().map(|request| Blocked {
                    args: args.iter().map(|a| a.to_vec()).collect(),
                    keys: request.keys,
                    db: conn.client.db,
                    deadline: request.deadline,
                    null_array: request.null_array,
                });
                spare = recycle(args);
                conn.rstart += used;
                conn.parser.set_auth_required(!conn.client.authenticated);
                if blocked.is_some() || conn.client.shutdown_requested {
                    return blocked;
                }
            }
            Ok(None) => break,
            Err(error) => {
                error.write_reply(&mut conn.wbuf);
                conn.client.close_after_reply = true;
                break;
            }
        }
    }
    None
}

/// Reuses a vector's allocation for borrows of another lifetime (it is emptied first, so no
/// borrow survives; the in-place `collect` keeps the allocation).
fn recycle<'a>(mut args: Vec<&[u8]>) -> Vec<&'a [u8]> {
    args.clear();
    args.into_iter().map(|_| -> &'a [u8] { unreachable!("the vector is empty") }).collect()
}

/// Writes a last error to a connection that is not adopted, then drops it.
fn refuse(mut stream: TcpStream, reply: &[u8]) {
    use std::io::Write;
    // Best effort, as Redis: the socket is fresh, so the short error fits its buffer.
    let _ = stream.write(reply);
}

const PROTECTED_MODE_DENIED: &[u8] = b"-DENIED corekv is running in protected mode because \
protected mode is enabled and no password is set for the default user. In this mode \
connections are only accepted from the loopback interface. If you want to connect from \
external computers to corekv you may adopt one of the following solutions: 1) Just disable \
protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface \
by connecting to corekv from the same host the server is running, however MAKE SURE corekv is \
not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change \
permanent. 2) Alternatively you can just disable the protected mode by editing the corekv \
configuration file, and setting the protected mode option to 'no', and then restarting the \
server. 3) If you started the server manually just for testing, restart it with the \
'--protected-mode no' option. 4) Set up an authentication password for the default user. \
NOTE: You only need to do one of the above things in order for the server to start accepting \
connections from the outside.\r\n";
