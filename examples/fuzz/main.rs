//! The long fuzzing runs RELIABILITY.md reports: every parser of outside bytes under a mutation
//! fuzzer, seeded with real files; `cargo test` runs a short run of each (tests/fuzz.rs).
//!
//! cargo run --release --example fuzz -- all --seconds 60
//! cargo run --release --example fuzz -- run --executions 10000000 --crashes /tmp/crashes
//!
//! A panic is caught, counted and its input written to the crashes folder. An allocation of more
//! than 1 GiB is taken for a crash too: the input that asked for it is printed in hex and the
//! process aborts (a parser must refuse such a size from the header, not try it).

mod allocation_guard;
#[path = "../../tests/common/memory_storage.rs"]
mod memory_storage;
mod mutate;
mod targets;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Parser;

#[global_allocator]
static GUARD: allocation_guard::Guard = allocation_guard::Guard;

/// Runs built from a run file may take this much memory (a fuzzed run of 100,000 units is refused
/// quickly instead of trained slowly).
const RUN_MEMORY_LIMIT: u64 = 256 << 20;

#[derive(Parser)]
struct Args {
    /// A target (idx, model-json, model-safetensors, run, picture, preferences, lesson) or "all".
    target: String,
    /// Stop each target after this many seconds.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Stop each target after this many executions.
    #[arg(long, default_value_t = u64::MAX)]
    executions: u64,
    /// The mutations' random seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Write each crashing input here as TARGET-N.bin.
    #[arg(long)]
    crashes: Option<PathBuf>,
}

fn main() -> Result<()> {
    let args = Args::parse();
    backprop_lab::train::cost::set_memory_limit(RUN_MEMORY_LIMIT);
    let targets: Vec<_> = targets::all()
        .into_iter()
        .filter(|t| args.target == "all" || t.name == args.target)
        .collect();
    if targets.is_empty() {
        let names: Vec<_> = targets::all().iter().map(|t| t.name).collect();
        bail!(
            "no target {}: the targets are {}",
            args.target,
            names.join(", ")
        );
    }
    let budget = mutate::Budget {
        executions: args.executions,
        time: Duration::from_secs_f64(args.seconds),
    };
    let mut crashed = false;
    for target in &targets {
        let report = mutate::fuzz(target, args.seed, budget, &allocation_guard::watch);
        let seconds = report.elapsed.as_secs_f64();
        println!(
            "{}: {} executions in {seconds:.1} s ({:.0}/s), {} accepted, {} crashes, slowest {:.2} ms \
             ({} bytes)",
            target.name,
            report.executions,
            report.executions as f64 / seconds,
            report.accepted,
            report.crashes.len(),
            report.slowest.0.as_secs_f64() * 1000.0,
            report.slowest.1,
        );
        for (index, crash) in report.crashes.iter().enumerate() {
            crashed = true;
            println!("  crash {index}: {}", crash.message);
            if let Some(dir) = &args.crashes {
                std::fs::create_dir_all(dir).with_context(|| dir.display().to_string())?;
                let path = dir.join(format!("{}-{index}.bin", target.name));
                std::fs::write(&path, &crash.input).with_context(|| path.display().to_string())?;
                println!("    written to {}", path.display());
            }
        }
    }
    if crashed {
        bail!("crashes found");
    }
    Ok(())
}
