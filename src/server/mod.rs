//! The network server (in progress): configuration for now.

pub mod config;
