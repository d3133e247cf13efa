//! Loom models of corekv's lock-free structures live in `tests/`; run them with
//! `scripts/loom.sh` (which sets `--cfg corekv_loom`).
