//! `corekv-server`: the RESP server. `corekv-server [corekv.conf] [--option value ...]`.

use std::process::ExitCode;

use corekv::server::{self, Config};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{}", corekv::server::config::USAGE);
        return ExitCode::SUCCESS;
    }
    if args.iter().any(|a| a == "--version" || a == "-v") {
        println!("corekv-server {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    tracing_subscriber::fmt().with_target(false).with_writer(std::io::stderr).init();
    let config = match Config::from_args(args) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    // Redis works in `dir`: persistence files (when enabled) are relative to it.
    if let Err(error) = std::env::set_current_dir(&config.dir) {
        eprintln!("corekv-server: cannot enter dir {}: {error}", config.dir.display());
        return ExitCode::FAILURE;
    }
    let config_file = config.source_path().map(|p| p.to_path_buf());
    let handle = match server::start(config, config_file) {
        Ok(handle) => handle,
        Err(error) => {
            eprintln!("corekv-server: cannot start: {error}");
            return ExitCode::FAILURE;
        }
    };
    let shared = handle.shared().clone();
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        addrs = ?handle.addrs(),
        shards = shared.engine.shards(),
        workers = shared.inboxes.len(),
        mode = %match shared.aof.get() {
            Some(aof) => format!(
                "persistent (AOF {}, appendfsync {}, {})",
                aof.path().display(),
                aof.fsync().name(),
                aof.backend()
            ),
            None => "memory-only".to_owned(),
        },
        "corekv ready to accept connections"
    );
    let mut signals = match signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGINT,
    ]) {
        Ok(signals) => signals,
        Err(error) => {
            eprintln!("corekv-server: cannot install signal handlers: {error}");
            return ExitCode::FAILURE;
        }
    };
    let signal_shared = shared.clone();
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            tracing::info!(signal, "received a shutdown signal, shutting down");
            signal_shared.shutdown();
        }
    });
    handle.join();
    tracing::info!("corekv is now ready to exit, bye bye");
    ExitCode::SUCCESS
}
