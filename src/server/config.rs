//! TEMPORARY: replaced by the full configuration module on merge.
#![allow(missing_docs)]

#[derive(Debug, Clone, Copy, Default)]
pub struct OutputLimit {
    pub hard_bytes: u64,
    pub soft_bytes: u64,
    pub soft_seconds: u64,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct OutputLimits {
    pub normal: OutputLimit,
    pub replica: OutputLimit,
    pub pubsub: OutputLimit,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub port: u16,
    pub bind: Vec<String>,
    pub protected_mode: bool,
    pub requirepass: Option<Vec<u8>>,
    pub maxclients: u64,
    pub timeout: u64,
    pub tcp_keepalive: u64,
    pub tcp_backlog: u64,
    pub databases: u64,
    pub proto_max_bulk_len: u64,
    pub client_query_buffer_limit: u64,
    pub client_output_buffer_limit: OutputLimits,
    pub shards: u64,
    pub workers: u64,
    pub rename_command: Vec<(String, String)>,
    pub slowlog_log_slower_than: i64,
    pub slowlog_max_len: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            port: 6379,
            bind: vec!["127.0.0.1".into()],
            protected_mode: true,
            requirepass: None,
            maxclients: 10000,
            timeout: 0,
            tcp_keepalive: 300,
            tcp_backlog: 511,
            databases: 16,
            proto_max_bulk_len: 512 << 20,
            client_query_buffer_limit: 1 << 30,
            client_output_buffer_limit: OutputLimits {
                normal: OutputLimit::default(),
                replica: OutputLimit {
                    hard_bytes: 256 << 20,
                    soft_bytes: 64 << 20,
                    soft_seconds: 60,
                },
                pubsub: OutputLimit { hard_bytes: 32 << 20, soft_bytes: 8 << 20, soft_seconds: 60 },
            },
            shards: 0,
            workers: 0,
            rename_command: Vec::new(),
            slowlog_log_slower_than: 10000,
            slowlog_max_len: 128,
        }
    }
}

impl Config {
    pub fn from_args(args: impl IntoIterator<Item = String>) -> Result<Config, String> {
        let mut config = Config::default();
        let args: Vec<String> = args.into_iter().collect();
        let mut i = 0;
        while i < args.len() {
            match args[i].as_str() {
                "--port" => config.port = args[i + 1].parse().map_err(|e| format!("{e}"))?,
                "--bind" => config.bind = vec![args[i + 1].clone()],
                "--requirepass" => config.requirepass = Some(args[i + 1].clone().into_bytes()),
                "--workers" => config.workers = args[i + 1].parse().map_err(|e| format!("{e}"))?,
                "--save" | "--appendonly" => {}
                other => return Err(format!("unknown {other}")),
            }
            i += 2;
        }
        Ok(config)
    }

    pub fn get(&self, _pattern: &[u8]) -> Vec<(String, String)> {
        Vec::new()
    }

    pub fn set(&mut self, name: &[u8], _value: &[u8]) -> Result<(), String> {
        Err(format!(
            "ERR Unknown option or number of arguments for CONFIG SET - '{}'",
            String::from_utf8_lossy(name)
        ))
    }
}
