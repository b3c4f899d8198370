//! Forks, the timeline and the histograms in a real run: xor forked at step 0 into SGD and Adam
//! gives each branch the command line's losses bit for bit; a rewound kept step holds the
//! command line's weights at that step bit for bit, and "resume from here" goes on as the
//! command line does; a step not kept shows the nearest kept one; the histograms count the
//! snapshot's own values.

use std::path::Path;
use std::process::Command as Process;

use backprop_lab::nn::Optimizer;
use backprop_lab::train::histogram::{BINS, Histogram};
use backprop_lab::train::protocol::{Command, LossPoint, Restore, Update};
use backprop_lab::train::{Preset, RunConfig, SettingChange};

#[path = "common/worker_run.rs"]
mod worker_run;
use worker_run::Run;

fn config(preset: &str) -> RunConfig {
    RunConfig::from_preset(&Preset::named(preset).expect("a preset"), 42)
}

/// `backprop-lab train` with `args`, its per-step CSV rows as (step, loss bits as f32).
fn cli_losses(args: &[&str]) -> Vec<(u64, u32)> {
    let dir = tempfile::tempdir().expect("a folder");
    let csv = dir.path().join("steps.csv");
    let output = Process::new(env!("CARGO_BIN_EXE_backprop-lab"))
        .args(args)
        .args(["--csv", csv.to_str().expect("utf-8")])
        .output()
        .expect("the binary runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = std::fs::read_to_string(&csv).expect("the CSV");
    text.lines()
        .skip(1)
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            let step = fields[0].parse().expect("a step");
            let loss: f64 = fields[2].parse().expect("a loss");
            (step, (loss as f32).to_bits())
        })
        .collect()
}

/// Every loss the worker sent after the first `from` updates, as (step, bits).
fn losses(run: &Run, from: usize) -> Vec<(u64, u32)> {
    losses_of(&run.updates[from..])
}

/// Every loss in `updates`, as (step, bits).
fn losses_of(updates: &[Update]) -> Vec<(u64, u32)> {
    updates
        .iter()
        .filter_map(|u| match u {
            Update::Losses(points) => Some(points.clone()),
            _ => None,
        })
        .flatten()
        .map(|p: LossPoint| (p.step, p.loss.to_bits()))
        .collect()
}

/// Sends `steps` Steps and waits until the last one's loss came.
fn step(run: &mut Run, steps: u64) {
    let target = run.worker_step() + steps;
    for _ in 0..steps {
        run.send(Command::Step);
    }
    run.until(
        "the last step's loss",
        |u| matches!(u, Update::Losses(p) if p.last().is_some_and(|p| p.step == target)),
    );
}

trait StepOf {
    fn worker_step(&self) -> u64;
}

impl StepOf for Run {
    /// The step of the last loss or restore sent (0 before any).
    fn worker_step(&self) -> u64 {
        self.updates
            .iter()
            .rev()
            .find_map(|u| match u {
                Update::Losses(p) => p.last().map(|p| p.step),
                Update::Restored { step, .. } => Some(*step),
                _ => None,
            })
            .unwrap_or(0)
    }
}

#[test]
fn xor_forked_at_step_0_into_sgd_and_adam_gives_each_branch_the_command_lines_losses() {
    const STEPS: u64 = 40;
    let mut run = Run::start(config("xor"));
    run.until("ready", |u| matches!(u, Update::Ready(_)));
    run.send(Command::Fork);
    run.until("the fork", |u| matches!(u, Update::Forked { step: 0, .. }));
    run.send(Command::Change(SettingChange::Optimizer(Optimizer::Sgd)));
    let start = run.updates.len();
    step(&mut run, STEPS);
    let sgd = losses(&run, start);

    run.send(Command::BackToFork);
    let back = run.until("back at the fork", |u| {
        matches!(
            u,
            Update::Restored {
                why: Restore::Fork { .. },
                ..
            }
        )
    });
    assert!(
        matches!(
            back,
            Update::Restored {
                step: 0,
                why: Restore::Fork { left: STEPS },
                ..
            }
        ),
        "{back:?}"
    );
    run.send(Command::Change(SettingChange::Optimizer(Optimizer::ADAM)));
    let start = run.updates.len();
    step(&mut run, STEPS);
    let adam = losses(&run, start);

    let epochs = STEPS.to_string();
    let train = ["train", "--preset", "xor", "--epochs", &epochs];
    let cli_sgd = cli_losses(&[&train[..], &["--optimizer", "sgd"]].concat());
    let cli_adam = cli_losses(&[&train[..], &["--optimizer", "adam"]].concat());
    assert_eq!(sgd.len(), STEPS as usize);
    assert_eq!(sgd, cli_sgd, "the SGD branch");
    assert_eq!(adam, cli_adam, "the Adam branch");
    // the same weights at the fork: the first losses (before any update) are equal
    assert_eq!(sgd[0], adam[0]);
    assert_ne!(sgd[STEPS as usize - 1], adam[STEPS as usize - 1]);
}

/// The weights of the worker's latest snapshot, as bits.
fn snapshot_weights(run: &Run) -> Vec<u32> {
    let snapshot = run.worker.snapshot().expect("a snapshot");
    snapshot
        .layers
        .iter()
        .filter_map(|l| Some((l.weight.as_ref()?, l.bias.as_ref()?)))
        .flat_map(|(w, b)| w.iter().chain(b).map(|v| v.to_bits()).collect::<Vec<_>>())
        .collect()
}

/// The weights of a model file, as bits, in the network's own order.
fn model_weights(path: &Path) -> Vec<u32> {
    let (network, _) = backprop_lab::io::load_any(path, None).expect("the model loads");
    network
        .params()
        .flat_map(|p| {
            p.weight
                .iter()
                .chain(&p.bias)
                .map(|v| v.to_bits())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn a_rewound_kept_step_is_the_command_lines_run_at_that_step_and_resumes_as_it_does() {
    let mut run = Run::start(config("spiral"));
    run.until("ready", |u| matches!(u, Update::Ready(_)));
    // three epochs, paused at each end: each end is kept
    let mut ends = Vec::new();
    for epoch in 1..=3 {
        run.send(Command::StepEpoch);
        let status = run.until(
            "the epoch's end",
            |u| matches!(u, Update::Status(s) if !s.running && s.epochs >= epoch as f64),
        );
        let Update::Status(status) = status else {
            unreachable!()
        };
        ends.push(status.step);
    }
    let summary = run.until(
        "the third end kept",
        |u| matches!(u, Update::Timeline(t) if t.latest() == Some(ends[2])),
    );
    let Update::Timeline(summary) = summary else {
        unreachable!()
    };
    for end in &ends {
        assert!(summary.kept.iter().any(|k| k.0 == *end), "{end} kept");
    }
    assert!(summary.bytes <= summary.budget);

    // a step that was not kept (here: one not trained yet) shows the nearest kept one, and
    // says which was asked
    run.send(Command::ViewStep(ends[2] + 1000));
    let viewed = run.until("the view", |u| matches!(u, Update::Restored { .. }));
    assert!(
        matches!(viewed, Update::Restored { step, why: Restore::View { requested }, .. }
            if step == ends[2] && requested == ends[2] + 1000),
        "{viewed:?}"
    );
    // the end of epoch 2, kept exactly
    run.send(Command::ViewStep(ends[1]));
    let viewed = run.until("the view", |u| matches!(u, Update::Restored { .. }));
    assert!(
        matches!(viewed, Update::Restored { step, why: Restore::View { requested }, .. }
            if step == ends[1] && requested == ends[1]),
        "{viewed:?}"
    );
    run.until(
        "its snapshot",
        |u| matches!(u, Update::Status(s) if s.step == ends[1]),
    );
    let dir = tempfile::tempdir().expect("a folder");
    let model = dir.path().join("two-epochs.safetensors");
    let output = Process::new(env!("CARGO_BIN_EXE_backprop-lab"))
        .args(["train", "--preset", "spiral", "--epochs", "2", "--save"])
        .arg(&model)
        .output()
        .expect("the binary runs");
    assert!(output.status.success());
    assert_eq!(
        snapshot_weights(&run),
        model_weights(&model),
        "weights at epoch 2"
    );

    // back to the present: the third epoch's end again
    run.send(Command::BackToPresent);
    run.until(
        "the present",
        |u| matches!(u, Update::Restored { why: Restore::Present, step, .. } if *step == ends[2]),
    );
    run.until(
        "its snapshot",
        |u| matches!(u, Update::Status(s) if s.step == ends[2]),
    );
    let present = snapshot_weights(&run);

    // view epoch 2 again and go on from there: the third epoch as the command line trains it
    run.send(Command::ViewStep(ends[1]));
    run.until("the view", |u| {
        matches!(
            u,
            Update::Restored {
                why: Restore::View { .. },
                ..
            }
        )
    });
    let start = run.updates.len();
    run.send(Command::StepEpoch);
    let resumed = run.until("the resume", |u| {
        matches!(
            u,
            Update::Restored {
                why: Restore::Resume { .. },
                ..
            }
        )
    });
    assert!(
        matches!(resumed, Update::Restored { step, why: Restore::Resume { left }, .. }
            if step == ends[1] && left == ends[2]),
        "{resumed:?}"
    );
    run.until(
        "the third epoch again",
        |u| matches!(u, Update::Status(s) if !s.running && s.step == ends[2]),
    );
    let third = losses(&run, start);
    let cli: Vec<(u64, u32)> = cli_losses(&["train", "--preset", "spiral", "--epochs", "3"])
        .into_iter()
        .filter(|(step, _)| *step > ends[1])
        .collect();
    assert_eq!(third, cli, "the losses after resuming");
    assert_eq!(snapshot_weights(&run), present, "the same third epoch");
}

/// Bin `i`'s count done again from scratch: the values v with low + i w <= v < low + (i+1) w
/// (the last bin also holds `high`).
fn count_in_bin(values: &[f32], histogram: &Histogram, i: usize) -> u32 {
    if histogram.low == histogram.high {
        // one value repeated: all of it in bin 0, as documented
        return if i == 0 { values.len() as u32 } else { 0 };
    }
    let (low, high) = histogram.bin_range(i);
    values
        .iter()
        .filter(|&&v| v >= low && (v < high || (i == BINS - 1 && v <= histogram.high)))
        .count() as u32
}

#[test]
fn histograms_count_the_snapshots_own_weights_gradients_and_activations() {
    let mut run = Run::start(config("circle"));
    run.until("ready", |u| matches!(u, Update::Ready(_)));
    step(&mut run, 5);
    let frame = run.until(
        "the histograms of step 5",
        |u| matches!(u, Update::Histograms(f) if f.step == 5),
    );
    let Update::Histograms(frame) = frame else {
        unreachable!()
    };
    // the worker fills the snapshot slot before it sends the frame
    let snapshot = run.worker.snapshot().expect("a snapshot");
    assert_eq!(snapshot.step, 5);
    assert_eq!(frame.layers.len(), snapshot.layers.len());
    let mut checked = 0;
    for (layer, histograms) in snapshot.layers.iter().zip(&frame.layers) {
        let mut pairs = vec![(
            layer.probe_activation.to_vec(),
            Some(&histograms.activation),
        )];
        if let Some(weight) = &layer.weight {
            pairs.push((weight.iter().copied().collect(), histograms.weight.as_ref()));
        }
        if let Some(gradient) = &layer.grad_weight {
            pairs.push((
                gradient.iter().copied().collect(),
                histograms.gradient.as_ref(),
            ));
        }
        for (values, histogram) in pairs {
            let histogram = histogram.expect("a histogram for each quantity");
            let low = values.iter().copied().fold(f32::INFINITY, f32::min);
            let high = values.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            assert_eq!((histogram.low, histogram.high), (low, high));
            let counts: Vec<u32> = (0..BINS)
                .map(|i| count_in_bin(&values, histogram, i))
                .collect();
            assert_eq!(histogram.counts, counts);
            assert_eq!(histogram.total(), values.len() as u64);
            checked += 1;
        }
    }
    assert!(checked >= 7, "{checked} histograms checked");
}

#[test]
fn back_to_a_fork_never_made_is_refused_and_recording_off_keeps_nothing_new() {
    let mut run = Run::start(config("xor"));
    run.until("ready", |u| matches!(u, Update::Ready(_)));
    run.send(Command::SetRecording(false));
    let start = run.updates.len();
    step(&mut run, 3);
    run.send(Command::BackToFork);
    let refused = run.until("a refusal", |u| matches!(u, Update::Refused { .. }));
    assert!(format!("{refused:?}").contains("no fork"), "{refused:?}");
    // no state nor histogram recorded since: only the start, kept before recording stopped
    assert!(!run.updates[start..].iter().any(|u| matches!(
        u,
        Update::Histograms(_) | Update::Restored { .. }
    ) || matches!(u, Update::Timeline(t) if t.latest() != Some(0))));
    // viewing step 1 shows the nearest kept (the start: 3, the present, is further) and says
    // which was asked
    run.send(Command::ViewStep(1));
    let viewed = run.until("the view", |u| matches!(u, Update::Restored { .. }));
    assert!(
        matches!(
            viewed,
            Update::Restored {
                step: 0,
                why: Restore::View { requested: 1 },
                ..
            }
        ),
        "{viewed:?}"
    );
    // and back to the present exactly: step 3
    run.send(Command::BackToPresent);
    let back = run.until("the present", |u| matches!(u, Update::Restored { .. }));
    assert!(
        matches!(
            back,
            Update::Restored {
                step: 3,
                why: Restore::Present,
                ..
            }
        ),
        "{back:?}"
    );
}

#[test]
fn going_back_while_running_sends_the_branch_lefts_losses_first_and_a_viewed_step_adds_no_point() {
    let mut config = config("spiral");
    config.epochs = None;
    let mut run = Run::start(config);
    run.until("ready", |u| matches!(u, Update::Ready(_)));
    run.send(Command::Fork);
    run.send(Command::Play);
    run.until(
        "a few batches",
        |u| matches!(u, Update::Losses(p) if p.last().is_some_and(|p| p.step > 200)),
    );
    run.send(Command::BackToFork);
    let back = run.until("back at the fork", |u| {
        matches!(
            u,
            Update::Restored {
                why: Restore::Fork { .. },
                ..
            }
        )
    });
    let Update::Restored {
        why: Restore::Fork { left },
        ..
    } = back
    else {
        unreachable!()
    };
    let at = run
        .updates
        .iter()
        .position(|u| matches!(u, Update::Restored { .. }))
        .expect("the restore");
    // every loss of the branch left came before the restore, up to the step it had reached
    let before: Vec<u64> = losses_of(&run.updates[..at]).iter().map(|l| l.0).collect();
    assert_eq!(before, (1..=left).collect::<Vec<_>>());
    // and the new branch counts from the fork again
    step(&mut run, 3);
    let after: Vec<u64> = losses(&run, at).iter().map(|l| l.0).collect();
    assert_eq!(after, [1, 2, 3]);

    // viewing a past step, then Pause (as Space would): no test point for the past step
    run.send(Command::ViewStep(1));
    run.until("the view", |u| matches!(u, Update::Restored { .. }));
    let viewed = run.updates.len();
    run.send(Command::Pause);
    run.until("paused", |u| matches!(u, Update::Status(s) if !s.running));
    assert!(
        !run.updates[viewed..]
            .iter()
            .any(|u| matches!(u, Update::Evaluated(_))),
        "a point for the viewed step"
    );
}
