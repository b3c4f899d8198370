//! A short fuzzing run of every parser of outside bytes (the long runs are
//! `cargo run --release --example fuzz`, reported in RELIABILITY.md), and every input a fuzzing
//! run ever crashed on, kept in tests/fixtures/fuzz as TARGET-NAME.bin, run again.

#[path = "../examples/fuzz/allocation_guard.rs"]
mod allocation_guard;
#[path = "common/memory_storage.rs"]
mod memory_storage;
#[path = "../examples/fuzz/mutate.rs"]
mod mutate;
#[path = "../examples/fuzz/targets.rs"]
mod targets;

use std::time::Duration;

#[global_allocator]
static GUARD: allocation_guard::Guard = allocation_guard::Guard;

const EXECUTIONS: u64 = 1500;

fn short_run(name: &str) {
    backprop_lab::train::cost::set_memory_limit(256 << 20);
    let target = targets::all()
        .into_iter()
        .find(|t| t.name == name)
        .expect("a target of that name");
    let budget = mutate::Budget {
        executions: EXECUTIONS,
        time: Duration::from_secs(60),
    };
    let report = mutate::fuzz(&target, 1, budget, &allocation_guard::watch);
    let crashes: Vec<_> = report
        .crashes
        .iter()
        .map(|c| (&c.message, String::from_utf8_lossy(&c.input)))
        .collect();
    assert!(crashes.is_empty(), "{name}: {crashes:?}");
    assert!(report.executions > 0, "{name} ran");
    // the seeds themselves are accepted, and mutants are refused: both paths ran
    assert!(report.accepted > 0, "{name}: nothing accepted");
    assert!(
        report.accepted < report.executions,
        "{name}: nothing refused"
    );
}

#[test]
fn idx_files() {
    short_run("idx");
}

#[test]
fn json_models() {
    short_run("model-json");
}

#[test]
fn safetensors_models() {
    short_run("model-safetensors");
}

#[test]
fn run_files() {
    short_run("run");
}

#[test]
fn pictures() {
    short_run("picture");
}

#[test]
fn preferences() {
    short_run("preferences");
}

#[test]
fn lessons() {
    short_run("lesson");
}

#[test]
fn every_seed_is_accepted_unchanged() {
    for target in targets::all() {
        for (index, seed) in (target.seeds)().iter().enumerate() {
            assert!((target.run)(seed), "{} seed {index} refused", target.name);
        }
    }
}

#[test]
fn mutations_are_deterministic_and_change_the_input() {
    let seed = b"{\"rows\": 12, \"weight\": [0.5, 1.25]}".to_vec();
    let mutants = |rng_seed| {
        let mut rng = mutate::Rng::new(rng_seed);
        (0..50)
            .map(|_| {
                let mut input = seed.clone();
                mutate::mutate(&mut input, &mut rng, std::slice::from_ref(&seed), 256);
                input
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(mutants(5), mutants(5));
    assert_ne!(mutants(5), mutants(6));
    assert!(mutants(5).iter().filter(|m| **m != seed).count() > 40);
    assert!(mutants(5).iter().all(|m| m.len() <= 256));
}

#[test]
fn every_crash_found_stays_fixed() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz");
    let targets = targets::all();
    let mut replayed = 0;
    for entry in std::fs::read_dir(&dir).expect("tests/fixtures/fuzz") {
        let path = entry.expect("a directory entry").path();
        let file = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if !file.ends_with(".bin") {
            continue;
        }
        let target = targets
            .iter()
            .find(|t| file.starts_with(&format!("{}-", t.name)))
            .unwrap_or_else(|| panic!("{file} names no target"));
        let input = std::fs::read(&path).expect("a crash input");
        // it used to panic or ask for more memory than there is; now it is refused
        assert!(!(target.run)(&input), "{file} was accepted");
        replayed += 1;
    }
    assert!(replayed > 0, "no crash inputs in {}", dir.display());
}
