//! The append-only file on disk: its directory, manifest, and loading.
//!
//! As in Redis 7, the AOF lives in a directory (`appenddirname`, inside `dir`) with a manifest
//! naming its files in replay order:
//!
//! ```text
//! appendonlydir/
//!   appendonly.aof.manifest        file appendonly.aof.1.incr.aof seq 1 type i
//!   appendonly.aof.1.incr.aof      #corekv-aof 1 ... records (see `record`)
//! ```
//!
//! The manifest is replaced only by writing a temporary file, fsyncing it, renaming it over the
//! old one and fsyncing the directory, so a crash leaves either the old or the new manifest.
//!
//! # Loading
//!
//! Each file is read and its records checked in order. A record cut short at the end of the
//! last file (a crash mid-write) is a torn tail: with `aof-load-truncated yes` (the default)
//! the file is truncated to its last whole record and a warning says how many bytes were
//! dropped; with `no`, startup stops. A record that fails its checksum (or is malformed) with
//! valid records after it is corruption, not a crash: startup stops and names the file, the
//! offset and what to do. Nothing is silently skipped.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::record::{self, Decoded, Header};

/// The AOF's files, from its manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// The snapshot the log starts from (written by an AOF rewrite): name and the sequence
    /// number it is consistent with.
    pub base: Option<(String, u64)>,
    /// Incremental files in replay order: name and the first sequence number they may hold.
    pub incr: Vec<(String, u64)>,
}

impl Manifest {
    /// The manifest's text.
    pub fn render(&self) -> String {
        let base = self.base.iter().map(|(name, seq)| format!("file {name} seq {seq} type b\n"));
        let incr = self.incr.iter().map(|(name, seq)| format!("file {name} seq {seq} type i\n"));
        base.chain(incr).collect()
    }

    /// Every file name the manifest lists.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.base.iter().chain(&self.incr).map(|(name, _)| name.as_str())
    }

    /// The number for the next rewrite's files (one above any in the names).
    pub fn next_number(&self) -> u64 {
        self.names()
            .filter_map(|name| name.rsplit('.').nth(2).and_then(|n| n.parse::<u64>().ok()))
            .max()
            .unwrap_or(0)
            + 1
    }

    /// Parses a manifest; `Err` names the line.
    pub fn parse(text: &str) -> Result<Manifest, String> {
        let (mut base, mut incr) = (None, Vec::new());
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line.split_ascii_whitespace().collect();
            match fields.as_slice() {
                ["file", name, "seq", seq, "type", "i"] if is_plain_name(name) => {
                    let seq = seq.parse().map_err(|_| format!("line {}: bad seq", number + 1))?;
                    incr.push(((*name).to_owned(), seq));
                }
                ["file", name, "seq", seq, "type", "b"] if is_plain_name(name) => {
                    if base.is_some() || !incr.is_empty() {
                        return Err(format!("line {}: the base file must come first", number + 1));
                    }
                    if name.ends_with(".rdb") {
                        return Err(format!(
                            "line {}: {name} is a Redis RDB base, which corekv cannot read",
                            number + 1
                        ));
                    }
                    let seq = seq.parse().map_err(|_| format!("line {}: bad seq", number + 1))?;
                    base = Some(((*name).to_owned(), seq));
                }
                _ => return Err(format!("line {}: malformed: '{line}'", number + 1)),
            }
        }
        if incr.is_empty() {
            return Err("no incremental file listed".to_owned());
        }
        Ok(Manifest { base, incr })
    }
}

fn is_plain_name(name: &str) -> bool {
    !name.is_empty() && !name.contains('/') && name != "." && name != ".."
}

/// The AOF directory of one server.
#[derive(Debug)]
pub struct AofDir {
    /// The directory.
    pub dir: PathBuf,
    /// Its manifest's path.
    pub manifest_path: PathBuf,
    /// What the manifest lists.
    pub manifest: Manifest,
}

impl AofDir {
    /// Opens `dir` (with `filename` as the base of its files' names), creating an empty AOF
    /// there if the directory does not exist yet.
    pub fn open_or_create(dir: &Path, filename: &str) -> Result<AofDir, String> {
        let manifest_path = dir.join(format!("{filename}.manifest"));
        if !dir.exists() {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("can't create the AOF directory {}: {e}", dir.display()))?;
            let manifest =
                Manifest { base: None, incr: vec![(format!("{filename}.1.incr.aof"), 1)] };
            create_file(&dir.join(&manifest.incr[0].0), record::FILE_HEADER)?;
            // The manifest's replacement syncs the new directory; its own entry lives in the
            // parent, which needs a sync of its own.
            write_atomically(&manifest_path, manifest.render().as_bytes())?;
            sync_dir(dir.parent().unwrap_or(Path::new(".")))?;
            return Ok(AofDir { dir: dir.to_owned(), manifest_path, manifest });
        }
        let text = std::fs::read_to_string(&manifest_path).map_err(|e| {
            format!(
                "can't read the AOF manifest {}: {e} (the directory exists: move it away to \
                 start with an empty AOF)",
                manifest_path.display()
            )
        })?;
        let manifest = Manifest::parse(&text)
            .map_err(|e| format!("bad AOF manifest {}: {e}", manifest_path.display()))?;
        Ok(AofDir { dir: dir.to_owned(), manifest_path, manifest })
    }

    /// The file new records go to (the manifest's last).
    pub fn current(&self) -> PathBuf {
        let (name, _) = self.manifest.incr.last().expect("a parsed manifest lists a file");
        self.dir.join(name)
    }

    /// The incremental files in replay order.
    pub fn files(&self) -> impl Iterator<Item = PathBuf> + '_ {
        self.manifest.incr.iter().map(|(name, _)| self.dir.join(name))
    }

    /// The base snapshot, if a rewrite wrote one.
    pub fn base(&self) -> Option<PathBuf> {
        self.manifest.base.as_ref().map(|(name, _)| self.dir.join(name))
    }

    /// Replaces the manifest (atomically) and keeps the new one.
    pub fn install(&mut self, manifest: Manifest) -> Result<(), String> {
        write_atomically(&self.manifest_path, manifest.render().as_bytes())?;
        self.manifest = manifest;
        Ok(())
    }

    /// Creates a new, empty incremental file (header written and synced).
    pub fn create_incr(&self, name: &str) -> Result<PathBuf, String> {
        let path = self.dir.join(name);
        create_file(&path, record::FILE_HEADER)?;
        sync_dir(&self.dir)?;
        Ok(path)
    }
}

/// What loading one file found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct FileLoad {
    /// Records applied.
    pub records: u64,
    /// The file's size after loading (after truncation of a torn tail).
    pub bytes: u64,
    /// The last record's sequence number.
    pub last_seq: Option<u64>,
    /// Bytes dropped from a torn tail.
    pub truncated: u64,
}

/// Loads one file: checks every record and hands each to `apply` in order. `allow_truncated`
/// is `aof-load-truncated` (only ever honoured for the last file). A torn tail is cut off
/// the file on disk (see [`decode_file`] for the checks).
pub fn load_file(
    path: &Path,
    allow_truncated: bool,
    apply: impl FnMut(&Header, &[u8]) -> Result<(), String>,
) -> Result<FileLoad, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("can't read {}: {e}", path.display()))?;
    let decoded = decode_file(path, &bytes, allow_truncated, apply)?;
    if let Some(torn) = decoded.torn {
        truncate(path, &bytes, &torn)?;
    }
    Ok(decoded.load)
}

/// A torn tail [`decode_file`] found: what [`load_file`] cuts off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Torn {
    /// Where the last whole record ends: the file is truncated to this length (0: not even
    /// the file header is whole, and the file is rewritten to a bare header).
    pub at: usize,
    /// What is wrong with the bytes from `at` on.
    pub reason: &'static str,
}

/// What [`decode_file`] found in a file's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodedFile {
    /// What loading it amounts to; `bytes` and `truncated` as they are once a torn tail is cut.
    pub load: FileLoad,
    /// A torn tail to cut off, when `allow_truncated` let one through.
    pub torn: Option<Torn>,
}

/// The checks of [`load_file`] on a file's bytes, without touching the file: every record in
/// order to `apply`, a torn tail reported (or, without `allow_truncated`, refused) rather than
/// cut, damage before intact records refused. `path` only names the file in messages. Public
/// so the loader can be checked (and fuzzed) on bytes alone.
pub fn decode_file(
    path: &Path,
    bytes: &[u8],
    allow_truncated: bool,
    mut apply: impl FnMut(&Header, &[u8]) -> Result<(), String>,
) -> Result<DecodedFile, String> {
    let shown = path.display();
    let mut at = match record::check_file_header(bytes) {
        Ok(used) => used,
        // A crash right after creating the file can leave part of its header.
        Err(_) if record::FILE_HEADER.starts_with(bytes) => {
            return torn(path, bytes, 0, allow_truncated, FileLoad::default(), "file header");
        }
        Err(reason) => return Err(format!("{shown}: {reason}")),
    };
    let mut load = FileLoad::default();
    while at < bytes.len() {
        match record::decode(&bytes[at..]) {
            Decoded::Record(header, payload, used) => {
                if load.last_seq.is_some_and(|last| header.seq <= last) {
                    return Err(corrupt(path, at, "sequence number out of order"));
                }
                apply(&header, payload).map_err(|e| {
                    format!("{shown} at offset {at} (record seq {}): {e}", header.seq)
                })?;
                load.records += 1;
                load.last_seq = Some(header.seq);
                at += used;
            }
            Decoded::Incomplete => {
                return torn(path, bytes, at, allow_truncated, load, "incomplete record");
            }
            Decoded::Invalid(reason) => {
                if valid_record_after(bytes, at) {
                    return Err(corrupt(path, at, reason));
                }
                return torn(path, bytes, at, allow_truncated, load, reason);
            }
        }
    }
    load.bytes = bytes.len() as u64;
    Ok(DecodedFile { load, torn: None })
}

/// A bad record at the end of the file: to be truncated away (or refused).
fn torn(
    path: &Path,
    bytes: &[u8],
    at: usize,
    allow: bool,
    mut load: FileLoad,
    reason: &'static str,
) -> Result<DecodedFile, String> {
    let dropped = bytes.len() - at;
    if !allow {
        return Err(format!(
            "{} ends with a truncated or damaged record at offset {at} ({reason}, {dropped} \
             bytes); set aof-load-truncated yes to drop it and start, or truncate the file to \
             {at} bytes yourself",
            path.display()
        ));
    }
    load.bytes = if at == 0 { record::FILE_HEADER.len() as u64 } else { at as u64 };
    load.truncated = dropped as u64;
    Ok(DecodedFile { load, torn: Some(Torn { at, reason }) })
}

/// Cuts a torn tail off the file at `path` (whose content is `bytes`).
fn truncate(path: &Path, bytes: &[u8], torn: &Torn) -> Result<(), String> {
    let Torn { at, reason } = *torn;
    tracing::warn!(
        path = %path.display(),
        offset = at,
        dropped_bytes = bytes.len() - at,
        reason,
        "the AOF ends with a torn record (a crash mid-write); truncating it to its last whole record"
    );
    let file = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| format!("can't open {} to truncate it: {e}", path.display()))?;
    let keep = at as u64;
    file.set_len(keep).map_err(|e| format!("can't truncate {}: {e}", path.display()))?;
    if keep == 0 {
        (&file)
            .write_all(record::FILE_HEADER)
            .map_err(|e| format!("can't rewrite the header of {}: {e}", path.display()))?;
    }
    file.sync_all().map_err(|e| format!("can't sync {}: {e}", path.display()))
}

fn corrupt(path: &Path, at: usize, reason: &str) -> String {
    format!(
        "bad record in the append-only file {} at offset {at}: {reason}. Records after it are \
         intact, so this is damage, not a crash mid-write; corekv will not skip it silently. \
         To start with only what precedes it, truncate the file to {at} bytes (records after \
         the offset are lost), or restore the file from a backup",
        path.display()
    )
}

/// Whether a whole, checksummed record starts at a line start after `at`.
fn valid_record_after(bytes: &[u8], at: usize) -> bool {
    let mut from = at + 1;
    while let Some(found) = memchr::memmem::find(&bytes[from..], b"\n#") {
        let start = from + found + 1;
        if matches!(record::decode(&bytes[start..]), Decoded::Record(..)) {
            return true;
        }
        from = start;
    }
    false
}

fn create_file(path: &Path, contents: &[u8]) -> Result<(), String> {
    let mut file = OpenOptions::new()
        .create_new(true)
        .write(true)
        .open(path)
        .map_err(|e| format!("can't create {}: {e}", path.display()))?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("can't write {}: {e}", path.display()))
}

/// [`replace_atomically`], with the error as a message naming the file.
pub fn write_atomically(path: &Path, contents: &[u8]) -> Result<(), String> {
    replace_atomically(path, contents).map_err(|e| format!("can't write {}: {e}", path.display()))
}

/// Replaces `path` with `content` so that a crash leaves either the old or the new file:
/// temporary file (created exclusively, so two concurrent replacements fail rather than
/// interleave; the old file's permissions kept), fsync, rename, directory fsync. CONFIG
/// REWRITE and the AOF manifest both use it.
pub fn replace_atomically(path: &Path, content: &[u8]) -> io::Result<()> {
    let directory = path.parent().filter(|parent| !parent.as_os_str().is_empty());
    let directory = directory.unwrap_or(Path::new("."));
    let file_name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"))?;
    let temporary =
        directory.join(format!(".{}.{}.tmp", file_name.to_string_lossy(), std::process::id()));
    let write = || -> io::Result<()> {
        let mut file = OpenOptions::new().write(true).create_new(true).open(&temporary)?;
        file.write_all(content)?;
        if let Ok(metadata) = std::fs::metadata(path) {
            file.set_permissions(metadata.permissions())?;
        }
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    };
    if let Err(error) = write() {
        // Best effort: the temporary file may not exist, and the original error matters more.
        let _ = std::fs::remove_file(&temporary);
        return Err(error);
    }
    // The rename is durable only once the directory entry is.
    File::open(directory)?.sync_all()
}

/// Fsyncs a directory, so a file created or renamed in it survives a crash.
pub fn sync_dir(dir: &Path) -> Result<(), String> {
    let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| format!("can't sync the directory {}: {e}", dir.display()))
}

/// Opens the current file for appending; returns it with its length.
pub fn open_for_append(path: &Path) -> Result<(File, u64), String> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| format!("can't open {} for appending: {e}", path.display()))?;
    let len = file.metadata().map_err(|e| format!("can't stat {}: {e}", path.display()))?.len();
    Ok((file, len))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct TempDir(PathBuf);
    impl TempDir {
        fn new(name: &str) -> TempDir {
            let dir = std::env::temp_dir().join(format!(
                "corekv-aof-test-{name}-{}-{:?}",
                std::process::id(),
                std::thread::current().id()
            ));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }
    }
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn file_with(records: &[&[u8]]) -> Vec<u8> {
        let mut bytes = record::FILE_HEADER.to_vec();
        for (i, payload) in records.iter().enumerate() {
            record::encode(&mut bytes, i as u64 + 1, 1000, 0, payload);
        }
        bytes
    }

    fn load(path: &Path, allow: bool) -> Result<(FileLoad, Vec<Vec<u8>>), String> {
        let mut seen = Vec::new();
        let load = load_file(path, allow, |_, payload| {
            seen.push(payload.to_vec());
            Ok(())
        })?;
        Ok((load, seen))
    }

    const A: &[u8] = b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n";
    const B: &[u8] = b"*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n2\r\n";
    const C: &[u8] = b"*2\r\n$4\r\nINCR\r\n$1\r\nc\r\n";

    #[test]
    fn creates_and_reopens_a_directory() {
        let temp = TempDir::new("create");
        let dir = temp.0.join("appendonlydir");
        let created = AofDir::open_or_create(&dir, "appendonly.aof").unwrap();
        assert_eq!(created.manifest.incr, vec![("appendonly.aof.1.incr.aof".to_owned(), 1)]);
        assert_eq!(std::fs::read(created.current()).unwrap(), record::FILE_HEADER);
        let reopened = AofDir::open_or_create(&dir, "appendonly.aof").unwrap();
        assert_eq!(reopened.manifest, created.manifest);
        std::fs::remove_file(&created.manifest_path).unwrap();
        assert!(AofDir::open_or_create(&dir, "appendonly.aof").unwrap_err().contains("manifest"));
    }

    #[test]
    fn every_truncation_loads_a_prefix() {
        let temp = TempDir::new("truncate");
        let whole = file_with(&[A, B, C]);
        let path = temp.0.join("f");
        let boundaries: Vec<usize> = {
            let mut ends = vec![record::FILE_HEADER.len()];
            let mut at = ends[0];
            while at < whole.len() {
                let Decoded::Record(_, _, used) = record::decode(&whole[at..]) else { panic!() };
                at += used;
                ends.push(at);
            }
            ends
        };
        for cut in 0..=whole.len() {
            std::fs::write(&path, &whole[..cut]).unwrap();
            let whole_records =
                boundaries.iter().filter(|&&end| end <= cut).count().saturating_sub(1);
            let torn = cut >= record::FILE_HEADER.len() && !boundaries.contains(&cut);
            if torn || cut < record::FILE_HEADER.len() && cut > 0 {
                assert!(load(&path, false).unwrap_err().contains("aof-load-truncated"), "{cut}");
                std::fs::write(&path, &whole[..cut]).unwrap();
            }
            if cut == 0 {
                // An empty file: a crash right after creating it.
                let (loaded, seen) = load(&path, true).unwrap();
                assert_eq!((loaded.records, seen.len()), (0, 0));
                continue;
            }
            let (loaded, seen) = load(&path, true).unwrap();
            assert_eq!(seen, [A, B, C][..whole_records.min(3)].to_vec(), "cut at {cut}");
            assert_eq!(loaded.records as usize, whole_records);
            let kept = std::fs::read(&path).unwrap();
            assert_eq!(kept, whole[..boundaries[whole_records].max(record::FILE_HEADER.len())]);
        }
    }

    #[test]
    fn decoding_bytes_reports_a_torn_tail_without_touching_a_file() {
        let whole = file_with(&[A, B]);
        let path = Path::new("/nonexistent/appendonly.aof.1.incr.aof");
        let cut = &whole[..whole.len() - 2];
        let mut seen = Vec::new();
        let decoded = decode_file(path, cut, true, |_, payload| {
            seen.push(payload.to_vec());
            Ok(())
        })
        .unwrap();
        let torn = decoded.torn.expect("a torn tail");
        assert_eq!((seen, torn.reason), (vec![A.to_vec()], "incomplete record"));
        assert_eq!(decoded.load.bytes, torn.at as u64);
        assert_eq!(decoded.load.truncated, (cut.len() - torn.at) as u64);
        let whole_again = decode_file(path, &cut[..torn.at], false, |_, _| Ok(())).unwrap();
        assert_eq!((whole_again.load.records, whole_again.torn), (1, None));
        let refused = decode_file(path, cut, false, |_, _| Ok(())).unwrap_err();
        assert!(refused.contains("aof-load-truncated"), "{refused}");
    }

    #[test]
    fn damage_in_the_middle_stops_loading() {
        let temp = TempDir::new("corrupt");
        let whole = file_with(&[A, B, C]);
        let path = temp.0.join("f");
        // Flip a payload byte of the second record: the third is intact after it.
        let second = record::FILE_HEADER.len()
            + match record::decode(&whole[record::FILE_HEADER.len()..]) {
                Decoded::Record(_, _, used) => used,
                _ => unreachable!(),
            };
        let mut damaged = whole.clone();
        damaged[second + 30] ^= 0x20;
        std::fs::write(&path, &damaged).unwrap();
        let error = load(&path, true).unwrap_err();
        assert!(error.contains(&format!("offset {second}")), "{error}");
        assert!(error.contains("checksum mismatch"), "{error}");
        assert_eq!(std::fs::read(&path).unwrap(), damaged, "a refused file is left untouched");
        // The same damage in the last record is a torn tail.
        let mut tail = whole.clone();
        let last = tail.len() - 3;
        tail[last] ^= 0x20;
        std::fs::write(&path, &tail).unwrap();
        let (loaded, _) = load(&path, true).unwrap();
        assert_eq!(loaded.records, 2);
    }

    #[test]
    fn foreign_and_future_files_are_refused() {
        let temp = TempDir::new("foreign");
        let path = temp.0.join("f");
        std::fs::write(&path, b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n").unwrap();
        assert!(load(&path, true).unwrap_err().contains("wrong magic"));
        std::fs::write(&path, b"#corekv-aof 9\r\n").unwrap();
        assert!(load(&path, true).unwrap_err().contains("version 9"));
    }

    #[test]
    fn manifest_round_trip_and_errors() {
        let manifest = Manifest {
            base: Some(("a.3.base.ckv".into(), 40)),
            incr: vec![("a.1.incr.aof".into(), 1), ("a.2.incr.aof".into(), 9)],
        };
        assert_eq!(Manifest::parse(&manifest.render()).unwrap(), manifest);
        assert_eq!(manifest.next_number(), 4);
        assert!(Manifest::parse("").unwrap_err().contains("no incremental file"));
        assert!(Manifest::parse("file ../x seq 1 type i\n").unwrap_err().contains("line 1"));
        assert!(Manifest::parse("file a.1.base.rdb seq 1 type b\n").unwrap_err().contains("RDB"));
    }
}
