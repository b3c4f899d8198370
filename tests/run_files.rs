//! Run files: a run saved and resumed goes on bit for bit as if it had never stopped (across an
//! epoch boundary, mid-epoch, after an optimizer switch; in-process and on the command line),
//! every bad file is refused with its reason and changes nothing, and a save killed mid-write
//! leaves the old file intact. Also the per-step CSV.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use backprop_lab::io::{RunFile, RunFileError, temporary_path};
use backprop_lab::nn::Optimizer;
use backprop_lab::train::{Preset, RunConfig, SettingChange, Trainer};
use serde_json::Value;

fn config(preset: &str) -> RunConfig {
    RunConfig::from_preset(&Preset::named(preset).expect("a preset"), 42)
}

fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_backprop-lab"))
        .args(args)
        .output()
        .expect("the binary runs")
}

/// `steps` batches: their losses, bit for bit.
fn train(trainer: &mut Trainer, steps: usize) -> Vec<u64> {
    (0..steps)
        .map(|_| trainer.train_batch().expect("a step").loss.to_bits())
        .collect()
}

/// Everything that decides what comes next, as bits.
fn fingerprint(trainer: &Trainer) -> (Vec<u32>, String, u64, usize) {
    let weights = trainer
        .network()
        .params()
        .flat_map(|p| p.weight.iter().chain(&p.bias).map(|v| v.to_bits()))
        .collect();
    let optimizer = serde_json::to_string(trainer.optimizer_state()).expect("serializable");
    (weights, optimizer, trainer.step(), trainer.epoch())
}

/// Trains `before` steps (calling `meddle` first), saves to a file, loads it in a fresh trainer,
/// then trains both `after` more steps: every loss and the end state must be the same bits.
fn resumes_bit_for_bit(preset: &str, before: usize, after: usize, meddle: impl Fn(&mut Trainer)) {
    let dir = tempfile::tempdir().expect("a folder");
    let path = dir.path().join("run.json");
    let config = config(preset);
    let mut original = config.build().expect("builds");
    meddle(&mut original);
    train(&mut original, before);
    RunFile::new(&config, &original).save(&path).expect("saved");
    let mut resumed = RunFile::load(&path)
        .expect("loads")
        .resume(&path)
        .expect("resumes");
    assert_eq!(
        fingerprint(&resumed),
        fingerprint(&original),
        "{preset}: as saved"
    );
    let epoch = original.epoch();
    let expected = train(&mut original, after);
    let got = train(&mut resumed, after);
    assert_eq!(got, expected, "{preset}: the losses after resuming");
    assert_eq!(
        fingerprint(&resumed),
        fingerprint(&original),
        "{preset}: the end state"
    );
    assert!(
        original.epoch() > epoch,
        "{preset}: the test crosses an epoch boundary"
    );
}

#[test]
fn xor_resumes_bit_for_bit() {
    // an epoch is one batch of the four points: every step crosses a boundary
    resumes_bit_for_bit("xor", 7, 20, |_| {});
}

#[test]
fn spiral_resumes_bit_for_bit_from_mid_epoch() {
    // 32 batches an epoch: saved at batch 20 of the first
    resumes_bit_for_bit("spiral", 20, 30, |_| {});
}

#[test]
fn mnist_mlp_resumes_bit_for_bit_from_mid_epoch() {
    resumes_bit_for_bit("mnist-mlp", 100, 40, |_| {});
}

#[test]
fn a_run_switched_from_adam_to_sgd_resumes_bit_for_bit() {
    resumes_bit_for_bit("spiral", 25, 30, |trainer| {
        train(trainer, 10);
        trainer
            .change(SettingChange::Optimizer(Optimizer::Sgd))
            .expect("a switch");
        assert_eq!(trainer.events().len(), 1);
    });
}

#[test]
fn the_command_line_resumes_as_if_it_had_never_stopped_and_writes_one_csv_row_per_step() {
    let dir = tempfile::tempdir().expect("a folder");
    let run = dir.path().join("run.json");
    let csv = dir.path().join("steps.csv");
    let path = |p: &Path| p.to_str().expect("utf-8").to_string();
    let epochs = |output: &Output| -> Vec<Value> {
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect()
    };
    let whole = epochs(&cli(&[
        "train", "--preset", "spiral", "--epochs", "4", "--json",
    ]));
    let first = epochs(&cli(&[
        "train",
        "--preset",
        "spiral",
        "--epochs",
        "2",
        "--json",
        "--save-run",
        &path(&run),
    ]));
    let rest = epochs(&cli(&[
        "train",
        "--resume",
        &path(&run),
        "--epochs",
        "4",
        "--json",
        "--csv",
        &path(&csv),
    ]));
    let fields = [
        "epoch",
        "steps",
        "loss",
        "accuracy",
        "test_loss",
        "test_accuracy",
    ];
    for (a, b) in whole.iter().zip(first.iter().chain(&rest)) {
        for field in fields {
            assert_eq!(a[field], b[field], "{field}");
        }
    }
    assert_eq!(rest.len(), 2);

    // the CSV of the resumed epochs: the header, one row per step, the losses of the run
    let text = std::fs::read_to_string(&csv).expect("the CSV");
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("step,epoch,loss,test_loss,test_accuracy,event")
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let mut trainer = config("spiral").build().expect("builds");
    train(&mut trainer, 64);
    let steps = trainer.batches_per_epoch();
    assert_eq!(rows.len(), 2 * steps);
    let losses = train(&mut trainer, 2 * steps);
    for (k, row) in rows.iter().enumerate() {
        assert_eq!(row.len(), 6, "{row:?}");
        assert_eq!(row[0].parse::<usize>(), Ok(64 + k + 1));
        assert_eq!(row[1].parse::<usize>(), Ok(2 + k / steps));
        let loss: f64 = row[2].parse().expect("a number");
        assert_eq!(loss.to_bits(), losses[k], "row {k}");
        let last_of_epoch = (k + 1) % steps == 0;
        assert_eq!(!row[3].is_empty(), last_of_epoch, "row {k}: {row:?}");
        if last_of_epoch {
            let epoch = &rest[k / steps];
            assert_eq!(row[3].parse::<f64>().ok(), epoch["test_loss"].as_f64());
            assert_eq!(row[4].parse::<f64>().ok(), epoch["test_accuracy"].as_f64());
        }
        assert_eq!(row[5], "");
    }
}

/// A saved spiral run, as text, and its folder.
fn saved_run() -> (tempfile::TempDir, PathBuf, String) {
    let dir = tempfile::tempdir().expect("a folder");
    let path = dir.path().join("run.json");
    let config = config("spiral");
    let mut trainer = config.build().expect("builds");
    train(&mut trainer, 5);
    RunFile::new(&config, &trainer).save(&path).expect("saved");
    let text = std::fs::read_to_string(&path).expect("written");
    (dir, path, text)
}

#[test]
fn every_bad_run_file_is_refused_with_its_reason_and_changes_nothing() {
    let (dir, good, text) = saved_run();
    let json: Value = serde_json::from_str(&text).expect("JSON");
    let edited = |edit: &dyn Fn(&mut Value)| {
        let mut value = json.clone();
        edit(&mut value);
        value.to_string()
    };
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "truncated",
            text[..text.len() / 2].to_string(),
            "not a valid run file",
        ),
        ("empty", String::new(), "not a valid run file"),
        (
            "a model file",
            "{\"format\":\"backprop-lab-model\"}".into(),
            "not a valid run file",
        ),
        (
            "another format",
            edited(&|v| v["format"] = "something-else".into()),
            "the format is \"something-else\"",
        ),
        (
            "newer",
            edited(&|v| v["version"] = 99.into()),
            "version 99 is newer",
        ),
        (
            "a weight short",
            edited(&|v| {
                v["trainer"]["parameters"][0]["weight"]
                    .as_array_mut()
                    .expect("weights")
                    .pop();
            }),
            "holds 63 values",
        ),
        (
            "the wrong shape",
            edited(&|v| {
                v["trainer"]["parameters"][0]["rows"] = 16.into();
                v["trainer"]["parameters"][0]["cols"] = 4.into();
            }),
            "bias has 32 values for 16 rows",
        ),
        (
            "a layer too many",
            edited(&|v| {
                let extra = v["trainer"]["parameters"][0].clone();
                v["trainer"]["parameters"]
                    .as_array_mut()
                    .expect("tensors")
                    .push(extra);
            }),
            "has 5 parameter tensors; the network has 4",
        ),
        (
            "an order that is not a permutation",
            edited(&|v| v["trainer"]["order"][0] = v["trainer"]["order"][1].clone()),
            "epoch order",
        ),
        (
            "a cursor past the end",
            edited(&|v| v["trainer"]["cursor"] = 100_000.into()),
            "epoch order",
        ),
        (
            "an optimizer state of another kind",
            edited(&|v| {
                v["trainer"]["settings"]["optimizer"]["optimizer"] =
                    serde_json::json!({"type": "sgd"})
            }),
            "optimizer state",
        ),
    ];
    let existing = dir.path().join("existing.json");
    for (what, contents, reason) in cases {
        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, &contents).expect("written");
        std::fs::write(&existing, "the previous run").expect("written");
        let message = match RunFile::load(&bad).and_then(|run| run.resume(&bad)) {
            Ok(_) => panic!("{what}: accepted"),
            Err(error) => error.to_string(),
        };
        assert!(message.contains(reason), "{what}: {message}");
        assert!(
            message.starts_with(&bad.display().to_string()),
            "{what}: {message}"
        );
        // the command line: a message, exit code 1, and the file it would have saved untouched
        let output = cli(&[
            "train",
            "--resume",
            bad.to_str().expect("utf-8"),
            "--epochs",
            "2",
            "--save-run",
            existing.to_str().expect("utf-8"),
        ]);
        assert_eq!(output.status.code(), Some(1), "{what}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(reason), "{what}: {stderr}");
        assert_eq!(
            std::fs::read_to_string(&existing).expect("kept"),
            "the previous run"
        );
        assert_eq!(
            std::fs::read_to_string(&good).expect("kept"),
            text,
            "{what}"
        );
    }
    assert!(matches!(
        RunFile::load(&dir.path().join("missing.json")),
        Err(RunFileError::Io { .. })
    ));
}

#[test]
fn a_save_killed_mid_write_leaves_the_old_file_intact() {
    // a large run (the CNN's 693,962 weights with Adam's moments: about 26 MB), so the save
    // takes long enough to be caught in the middle
    let dir = tempfile::tempdir().expect("a folder");
    let path = dir.path().join("run.json");
    let config = config("mnist-cnn");
    let trainer = config.build().expect("builds");
    RunFile::new(&config, &trainer).save(&path).expect("saved");
    let before = std::fs::read(&path).expect("written");
    // the same run saved again over itself, by another process, killed while it writes
    let mut child = Command::new(env!("CARGO_BIN_EXE_backprop-lab"))
        .args(["train", "--resume", path.to_str().expect("utf-8")])
        .args([
            "--epochs",
            "0",
            "--json",
            "--save-run",
            path.to_str().expect("utf-8"),
        ])
        .spawn()
        .expect("the binary runs");
    let temporary = temporary_path_of(&path, child.id());
    let started = Instant::now();
    loop {
        if std::fs::metadata(&temporary).is_ok_and(|m| m.len() > 0) {
            child.kill().expect("killed"); // SIGKILL: no chance to clean up
            break;
        }
        assert!(
            child.try_wait().expect("waitable").is_none(),
            "the save finished before it could be caught"
        );
        assert!(started.elapsed() < Duration::from_secs(60), "no save began");
        std::thread::sleep(Duration::from_millis(1));
    }
    child.wait().expect("reaped");
    assert!(temporary.exists(), "killed before the rename");
    assert_eq!(
        std::fs::read(&path).expect("still there"),
        before,
        "the old file, intact"
    );
    assert!(RunFile::load(&path).is_ok());
}

/// Where process `pid` writes its save of `path` first.
fn temporary_path_of(path: &Path, pid: u32) -> PathBuf {
    let own = temporary_path(path);
    let name = own.file_name().expect("a name").to_string_lossy().replace(
        &format!(".{}.tmp", std::process::id()),
        &format!(".{pid}.tmp"),
    );
    own.with_file_name(name)
}
