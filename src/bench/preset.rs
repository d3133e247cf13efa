//! Named workloads: the write and read shapes the harness issue asks to measure, defined once
//! so `corekv-bench --preset NAME` (against any server) and `cargo bench --bench harness` (the
//! embedded engine and a loopback corekv) send exactly the same thing.

use std::fmt;
use std::str::FromStr;

use super::Load;
use super::error::BenchError;
use super::workload::{CommandKind, Mix, Workload};

/// Keys per MSET in [`Preset::Mset1000`].
pub const MSET_KEYS: usize = 1_000;
/// SETs in flight per connection in [`Preset::SetPipeline1000`].
pub const PIPELINE_DEPTH: usize = 1_000;
/// SETs per MULTI/EXEC in [`Preset::Multi10`].
pub const MULTI_SETS: usize = 10;

/// A named workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// Single-key writes: `SET`, one at a time per connection.
    Set,
    /// Batched writes: one `MSET` of [`MSET_KEYS`] keys.
    Mset1000,
    /// Batched writes: `SET`s pipelined [`PIPELINE_DEPTH`] deep per connection.
    SetPipeline1000,
    /// Random point reads: `GET` of a preloaded key, chosen uniformly.
    Get,
    /// Transactions: `MULTI`, [`MULTI_SETS`] `SET`s, `EXEC`, timed to EXEC's reply.
    Multi10,
}

impl Preset {
    /// Every preset, in the order the harness runs and reports them.
    pub const ALL: [Preset; 5] =
        [Preset::Set, Preset::Mset1000, Preset::SetPipeline1000, Preset::Get, Preset::Multi10];

    /// The name on the command line and in tables.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Set => "set",
            Preset::Mset1000 => "mset-1000",
            Preset::SetPipeline1000 => "set-pipeline-1000",
            Preset::Get => "get",
            Preset::Multi10 => "multi-10",
        }
    }

    /// Whether the preset means anything in-process: a pipeline is a property of a connection,
    /// so the embedded target would run [`Preset::SetPipeline1000`] as plain [`Preset::Set`].
    pub fn embeddable(self) -> bool {
        self != Preset::SetPipeline1000
    }

    /// Sets the mix, batch sizes, preload and pipeline depth of the preset; keys, sizes, the
    /// distribution, connections and duration stay as they are.
    pub fn apply(self, workload: &mut Workload, load: &mut Load) {
        let (command, pipeline) = match self {
            Preset::Set => (CommandKind::Set, 1),
            Preset::Mset1000 => (CommandKind::Mset, 1),
            Preset::SetPipeline1000 => (CommandKind::Set, PIPELINE_DEPTH),
            Preset::Get => (CommandKind::Get, 1),
            Preset::Multi10 => (CommandKind::Multi, 1),
        };
        workload.mix = Mix::new(&[(command, 1)]).expect("one command with weight 1 is a mix");
        workload.mset_keys = MSET_KEYS;
        workload.multi_sets = MULTI_SETS;
        workload.preload = self == Preset::Get;
        load.pipeline = pipeline;
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Preset {
    type Err = BenchError;

    fn from_str(text: &str) -> Result<Preset, BenchError> {
        Preset::ALL.into_iter().find(|preset| preset.name() == text).ok_or_else(|| {
            let names: Vec<&str> = Preset::ALL.iter().map(|preset| preset.name()).collect();
            BenchError::config(format!("unknown preset {text:?}: one of {}", names.join(", ")))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_round_trip_and_set_their_shape() {
        for preset in Preset::ALL {
            assert_eq!(preset.name().parse::<Preset>().unwrap(), preset);
            let (mut workload, mut load) = (Workload::default(), Load::default());
            preset.apply(&mut workload, &mut load);
            workload.validate().unwrap();
            load.validate().unwrap();
            assert_eq!(workload.mix.entries().len(), 1);
        }
        assert!("sett".parse::<Preset>().unwrap_err().to_string().contains("mset-1000"));
        let (mut workload, mut load) = (Workload::default(), Load::default());
        Preset::SetPipeline1000.apply(&mut workload, &mut load);
        assert_eq!((workload.mix.to_string().as_str(), load.pipeline), ("set=1", 1_000));
        Preset::Get.apply(&mut workload, &mut load);
        assert!(workload.preload && load.pipeline == 1);
        Preset::Mset1000.apply(&mut workload, &mut load);
        assert_eq!((workload.mix.to_string().as_str(), workload.mset_keys), ("mset=1", 1_000));
        Preset::Multi10.apply(&mut workload, &mut load);
        assert_eq!((workload.mix.to_string().as_str(), workload.multi_sets), ("multi=1", 10));
    }
}
