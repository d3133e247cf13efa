//! The writer thread's disk I/O: io_uring when the kernel allows it, plain blocking calls
//! otherwise, with the same guarantees.
//!
//! With io_uring a group commit is one `io_uring_enter`: the write and the `fdatasync` are
//! submitted together, linked, so the sync starts the moment the write completes. The blocking
//! fallback makes the same two calls one after the other. Either way the calls happen on the
//! writer thread only: no worker ever waits on the disk.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;

use io_uring::{IoUring, opcode, types};

/// Entries in the ring: one write and one fsync per submission, with room to spare.
const RING_ENTRIES: u32 = 8;
/// The largest single write submitted (io_uring takes a `u32` length).
const MAX_WRITE: usize = 1 << 30;
const WRITE_TAG: u64 = 1;
const SYNC_TAG: u64 = 2;

/// The writer's I/O backend.
pub enum Io {
    /// io_uring: writes and fsyncs submitted through one ring.
    Uring(Box<IoUring>),
    /// `pwrite` and `fdatasync`.
    Blocking,
}

impl std::fmt::Debug for Io {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Io {
    /// io_uring if a ring can be set up and runs a no-op (seccomp and old kernels refuse at
    /// one step or the other), else the blocking backend and the reason.
    pub fn probe() -> (Io, Option<String>) {
        let mut ring = match IoUring::new(RING_ENTRIES) {
            Ok(ring) => ring,
            Err(error) => return (Io::Blocking, Some(format!("io_uring_setup: {error}"))),
        };
        let nop = opcode::Nop::new().build().user_data(0);
        // SAFETY: a no-op references no memory.
        if unsafe { ring.submission().push(&nop) }.is_err() {
            return (Io::Blocking, Some("io_uring: submission queue full".to_owned()));
        }
        if let Err(error) = ring.submit_and_wait(1) {
            // The no-op may still be queued: leak the ring rather than let a later enter run it
            // (it references nothing, but the ring is not trusted any more).
            std::mem::forget(ring);
            return (Io::Blocking, Some(format!("io_uring_enter: {error}")));
        }
        let completed = ring.completion().next();
        match completed {
            Some(entry) if entry.result() >= 0 => (Io::Uring(Box::new(ring)), None),
            Some(entry) => (
                Io::Blocking,
                Some(format!("io_uring no-op: {}", io::Error::from_raw_os_error(-entry.result()))),
            ),
            None => (Io::Blocking, Some("io_uring: no completion for a no-op".to_owned())),
        }
    }

    /// "io_uring" or "blocking", as `INFO persistence` reports it.
    pub fn name(&self) -> &'static str {
        match self {
            Io::Uring(_) => "io_uring",
            Io::Blocking => "blocking",
        }
    }

    /// Writes `buf` at `offset` and, if `sync`, then `fdatasync`s the file.
    ///
    /// On error, `written` holds how many leading bytes of `buf` did reach the file, so the
    /// caller resumes from there (never writing a byte twice).
    pub fn write_at(
        &mut self,
        file: &File,
        buf: &[u8],
        offset: u64,
        sync: bool,
        written: &mut usize,
    ) -> io::Result<()> {
        *written = 0;
        while *written < buf.len() {
            let chunk = &buf[*written..buf.len().min(*written + MAX_WRITE)];
            let last = *written + chunk.len() == buf.len();
            let at = offset + *written as u64;
            let n = match self {
                Io::Blocking => file.write_at(chunk, at)?,
                Io::Uring(ring) => match uring_write(ring, file, chunk, at, sync && last) {
                    Ok((n, true)) => {
                        *written += n;
                        return Ok(());
                    }
                    Ok((n, false)) => n,
                    Err(Failure::Op(error)) => return Err(error),
                    Err(Failure::Ring(error)) => {
                        self.abandon_ring(&error);
                        return Err(error);
                    }
                },
            };
            if n == 0 {
                return Err(io::Error::new(io::ErrorKind::WriteZero, "write returned 0"));
            }
            *written += n;
        }
        if sync { self.sync(file) } else { Ok(()) }
    }

    /// `fdatasync`s the file.
    pub fn sync(&mut self, file: &File) -> io::Result<()> {
        match self {
            Io::Blocking => file.sync_data(),
            Io::Uring(ring) => match uring_sync(ring, file) {
                Ok(()) => Ok(()),
                Err(Failure::Op(error)) => Err(error),
                Err(Failure::Ring(error)) => {
                    self.abandon_ring(&error);
                    Err(error)
                }
            },
        }
    }

    /// Falls back to blocking I/O for good after the ring itself failed. The ring is leaked,
    /// not dropped: an entry it may still hold is then never submitted (no SQPOLL: the kernel
    /// takes entries only on `io_uring_enter`), so no stale write can land later.
    fn abandon_ring(&mut self, error: &io::Error) {
        tracing::warn!(%error, "io_uring failed; the AOF writer continues with blocking I/O");
        if let Io::Uring(ring) = std::mem::replace(self, Io::Blocking) {
            std::mem::forget(ring);
        }
    }
}

/// Why a ring operation failed.
enum Failure {
    /// The operation ran and failed (ENOSPC, EIO, ...): the ring is fine.
    Op(io::Error),
    /// The ring could not submit or complete: stop using it.
    Ring(io::Error),
}

fn uring_sync(ring: &mut IoUring, file: &File) -> Result<(), Failure> {
    let fsync = opcode::Fsync::new(types::Fd(file.as_raw_fd()))
        .flags(types::FsyncFlags::DATASYNC)
        .build()
        .user_data(SYNC_TAG);
    // SAFETY: an fsync references no memory of ours; the fd outlives the call because we wait
    // for its completion below.
    unsafe { push(ring, &fsync) }.map_err(Failure::Ring)?;
    let mut result = None;
    reap(ring, 1, |tag, res| {
        if tag == SYNC_TAG {
            result = Some(res);
        }
    })
    .map_err(Failure::Ring)?;
    match result {
        Some(res) if res >= 0 => Ok(()),
        Some(res) => Err(Failure::Op(io::Error::from_raw_os_error(-res))),
        None => Err(Failure::Ring(io::Error::other("io_uring: fsync completion missing"))),
    }
}

/// One write (and a linked fsync when `sync`); returns the bytes written and whether the
/// fsync ran and succeeded (a short write cancels the linked fsync).
fn uring_write(
    ring: &mut IoUring,
    file: &File,
    chunk: &[u8],
    offset: u64,
    sync: bool,
) -> Result<(usize, bool), Failure> {
    let fd = types::Fd(file.as_raw_fd());
    let mut write =
        opcode::Write::new(fd, chunk.as_ptr(), chunk.len() as u32).offset(offset).build();
    write = write.user_data(WRITE_TAG);
    if sync {
        write = write.flags(io_uring::squeue::Flags::IO_LINK);
    }
    // SAFETY: the write reads `chunk`, which stays borrowed until `reap` below has seen this
    // submission's completions; the fd likewise outlives the call.
    unsafe { push(ring, &write) }.map_err(Failure::Ring)?;
    if sync {
        let fsync =
            opcode::Fsync::new(fd).flags(types::FsyncFlags::DATASYNC).build().user_data(SYNC_TAG);
        // SAFETY: an fsync references no memory; see above for the fd.
        unsafe { push(ring, &fsync) }.map_err(Failure::Ring)?;
    }
    let (mut wrote, mut synced) = (None, None);
    reap(ring, if sync { 2 } else { 1 }, |tag, res| match tag {
        WRITE_TAG => wrote = Some(res),
        _ => synced = Some(res),
    })
    .map_err(Failure::Ring)?;
    let n = match wrote {
        Some(res) if res >= 0 => res as usize,
        Some(res) => return Err(Failure::Op(io::Error::from_raw_os_error(-res))),
        None => return Err(Failure::Ring(io::Error::other("io_uring: write completion missing"))),
    };
    match synced {
        Some(res) if res >= 0 => Ok((n, true)),
        // A short write cancels the linked fsync; the caller writes the rest and syncs again.
        Some(res) if -res == libc::ECANCELED && n < chunk.len() => Ok((n, false)),
        Some(res) => Err(Failure::Op(io::Error::from_raw_os_error(-res))),
        None => Ok((n, false)),
    }
}

/// Queues one entry.
///
/// # Safety
///
/// Whatever the entry points to must stay valid until its completion has been reaped.
unsafe fn push(ring: &mut IoUring, entry: &io_uring::squeue::Entry) -> io::Result<()> {
    // SAFETY: forwarded to the caller.
    unsafe { ring.submission().push(entry) }
        .map_err(|_| io::Error::other("io_uring: submission queue full"))
}

/// Submits what is queued and waits until `count` completions have been handed to `on`.
fn reap(ring: &mut IoUring, count: usize, mut on: impl FnMut(u64, i32)) -> io::Result<()> {
    let mut seen = 0;
    while seen < count {
        match ring.submit_and_wait(count - seen) {
            Ok(_) => {}
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        }
        for entry in ring.completion() {
            on(entry.user_data(), entry.result());
            seen += 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn each_backend(test: impl Fn(Io)) {
        let (io, _) = Io::probe();
        let uring = matches!(io, Io::Uring(_));
        test(io);
        if uring {
            test(Io::Blocking);
        }
    }

    #[test]
    fn writes_land_at_their_offsets_and_sync() {
        each_backend(|mut io| {
            let dir = std::env::temp_dir().join(format!(
                "corekv-io-{}-{}",
                std::process::id(),
                io.name()
            ));
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join("f");
            let file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(true)
                .read(true)
                .write(true)
                .open(&path)
                .unwrap();
            let mut written = 0;
            io.write_at(&file, b"hello ", 0, false, &mut written).unwrap();
            assert_eq!(written, 6);
            io.write_at(&file, b"world", 6, true, &mut written).unwrap();
            assert_eq!(written, 5);
            io.sync(&file).unwrap();
            assert_eq!(std::fs::read(&path).unwrap(), b"hello world");
            std::fs::remove_dir_all(&dir).unwrap();
        });
    }
}
