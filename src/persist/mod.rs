//! Persistence: the append-only file (AOF), written by one thread off the request path.
//!
//! - [`record`]: the record format (RESP commands behind a checksummed header line).
//! - [`order`]: how concurrent workers' writes get a replayable order (stripe locks and
//!   sequence numbers).
//! - [`writer`]: workers' batches, the writer thread, group commit, `appendfsync`, disk errors.
//! - [`io`]: io_uring, with a blocking fallback.
//! - [`aof`]: the AOF directory and manifest, loading, torn tails and corruption.
//!
//! The engine knows nothing of this module: the server records each write after running it
//! (`server::dispatch`) and replays records through the same command path at startup
//! (`server::persistence`).

pub mod aof;
pub mod io;
pub mod order;
pub mod record;
pub mod snapshot;
pub mod writer;

pub use writer::{Aof, Fsync, WorkerLog};
