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

    /// The few options the stand-in knows, as `(name, value)`.
    fn known(&self) -> Vec<(&'static str, String)> {
        vec![
            ("port", self.port.to_string()),
            ("databases", self.databases.to_string()),
            ("maxclients", self.maxclients.to_string()),
            ("timeout", self.timeout.to_string()),
            ("slowlog-log-slower-than", self.slowlog_log_slower_than.to_string()),
            ("slowlog-max-len", self.slowlog_max_len.to_string()),
            ("maxmemory", "0".to_string()),
            ("maxmemory-policy", "noeviction".to_string()),
            ("hz", "10".to_string()),
        ]
    }

    pub fn source_path(&self) -> Option<&std::path::Path> {
        None
    }

    pub fn get(&self, pattern: &[u8]) -> Vec<(String, String)> {
        let pattern = pattern.to_ascii_lowercase();
        self.known()
            .into_iter()
            .filter(|(name, _)| crate::engine::glob::matches(&pattern, name.as_bytes()))
            .map(|(name, value)| (name.to_string(), value))
            .collect()
    }

    pub fn get_many(&self, patterns: &[&[u8]]) -> Vec<(String, String)> {
        let mut reply: Vec<(String, String)> = Vec::new();
        for pattern in patterns {
            for (name, value) in self.get(pattern) {
                if !reply.iter().any(|(seen, _)| *seen == name) {
                    reply.push((name, value));
                }
            }
        }
        reply
    }

    pub fn set(&mut self, name: &[u8], value: &[u8]) -> Result<(), String> {
        self.set_many(&[(name, value)])
    }

    pub fn set_many(&mut self, pairs: &[(&[u8], &[u8])]) -> Result<(), String> {
        let mut candidate = self.clone();
        for &(name, value) in pairs {
            let given = String::from_utf8_lossy(name).to_ascii_lowercase();
            let number = || {
                std::str::from_utf8(value).ok().and_then(|v| v.parse::<i64>().ok()).ok_or_else(
                    || {
                        format!(
                            "ERR CONFIG SET failed (possibly related to argument '{given}') - \
                             argument couldn't be parsed into an integer"
                        )
                    },
                )
            };
            match given.as_str() {
                "maxclients" => candidate.maxclients = number()?.max(1) as u64,
                "timeout" => candidate.timeout = number()?.max(0) as u64,
                "slowlog-log-slower-than" => candidate.slowlog_log_slower_than = number()?,
                "slowlog-max-len" => candidate.slowlog_max_len = number()?.max(0) as u64,
                _ => {
                    return Err(format!(
                        "ERR Unknown option or number of arguments for CONFIG SET - '{}'",
                        String::from_utf8_lossy(name)
                    ));
                }
            }
        }
        *self = candidate;
        Ok(())
    }

    pub fn rewrite_source(&self) -> Result<(), String> {
        Err("ERR The server is running without a config file".to_owned())
    }
}
