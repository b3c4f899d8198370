//! Lessons and shared setups in the real app, driven headless through egui_kittest: Page Down
//! and Page Up, Copy setup and Paste setup, refused files, and every built-in lesson played to
//! its end with its numbers checked against the trainer `backprop-lab train` runs.

#[path = "common/app_harness.rs"]
mod app_harness;
#[path = "common/worker_run.rs"]
mod worker_run;

use app_harness::{App, step_until};
use backprop_lab::io::lesson_file::{Action, Lesson, LessonStep};
use backprop_lab::io::lessons::built_in;
use backprop_lab::io::torch::Framework;
use backprop_lab::train::controls::{Control, Hidden};
use backprop_lab::train::health::HealthAlert;
use backprop_lab::train::protocol::{Goal, Speed};
use backprop_lab::train::{Preset, RunConfig, SettingChange, TrainError, TrainSettings};
use backprop_lab::ui::views::{CodeView, WeightsView};
use backprop_lab::ui::{Alert, BackpropLab, Launch};
use egui::{Event, Key};
use egui_kittest::kittest::Queryable;

fn xor() -> RunConfig {
    let mut run = RunConfig::from_preset(&Preset::named("xor").expect("xor"), 42);
    run.epochs = None;
    run
}

fn app() -> App {
    let mut harness = app_harness::launch(Launch {
        config: Some(xor()),
        views: Some(vec!["curves".into()]),
        ..Launch::default()
    });
    // the lessons' runs at full speed: the numbers are the same at any pace
    harness.state_mut().set_speed(Speed::Full);
    harness
}

/// Runs frames until the lesson's step is done (its goal reached, its step recorded): within
/// ten minutes (a CNN's five epochs on a slow machine).
fn step_done(harness: &mut App) {
    let started = std::time::Instant::now();
    let done = |app: &BackpropLab| {
        app.lesson().is_some_and(|l| !l.busy()) && !app.run_view().status.running
    };
    harness.step();
    while !done(harness.state()) {
        assert!(
            started.elapsed().as_secs() < 600,
            "the lesson's step never ended"
        );
        harness.step();
    }
}

fn page_down(harness: &mut App) {
    harness.key_press(Key::PageDown);
    step_done(harness);
}

fn two_step_lesson() -> Lesson {
    let mut lesson = Lesson::setup("Two steps", xor(), vec!["curves".into()], Hidden::default());
    lesson.steps = vec![
        LessonStep {
            text: "lr 0.1, 20 steps".into(),
            actions: vec![
                Action::Set(SettingChange::LearningRate(0.1)),
                Action::PlayUntil(Goal::Step(20)),
            ],
        },
        LessonStep {
            text: "MSE, 20 more".into(),
            actions: vec![
                Action::Pin("lr 0.1".into()),
                Action::Set(SettingChange::Loss(backprop_lab::nn::Loss::Mse)),
                Action::ShowCode(Framework::Keras),
                Action::PlayUntil(Goal::Step(40)),
            ],
        },
    ];
    lesson
}

fn pin_labels(app: &BackpropLab) -> Vec<String> {
    app.pins()
        .pins()
        .iter()
        .map(|pin| pin.label.clone())
        .collect()
}

fn weights(app: &BackpropLab) -> Vec<f32> {
    let snapshot = app.worker().and_then(|w| w.snapshot()).expect("a snapshot");
    snapshot
        .layers
        .iter()
        .filter_map(|l| l.weight.as_ref())
        .flat_map(|w| w.iter().copied())
        .collect()
}

#[test]
fn page_down_does_a_steps_actions_once_and_page_up_takes_up_the_previous_steps_state() {
    let mut harness = app();
    let opened = harness
        .state_mut()
        .open_lesson(two_step_lesson(), "test".into());
    assert!(opened.is_ok(), "{opened:?}");
    harness.step();
    harness.get_by_label("Two steps  ·  2 steps");
    page_down(&mut harness);
    let app = harness.state();
    assert_eq!(app.run_view().status.step, 20);
    // the change was made once: one marker, the setting confirmed
    assert_eq!(app.run_view().markers.len(), 1);
    assert_eq!(app.active_config().settings.optimizer.learning_rate, 0.1);
    let (at_20, curve_20) = (weights(app), app.run_view().train_loss.points().len());
    page_down(&mut harness);
    let app = harness.state();
    assert_eq!(app.run_view().status.step, 40);
    assert_eq!(app.run_view().markers.len(), 2);
    assert_eq!(app.lesson().map(|l| l.at), Some(2));
    assert_eq!(app.views().get::<CodeView>().framework, Framework::Keras);
    assert_eq!(pin_labels(app), ["lr 0.1"]);
    // at the end, Page Down does nothing more
    page_down(&mut harness);
    assert_eq!(harness.state().run_view().status.step, 40);
    assert_eq!(harness.state().run_view().markers.len(), 2);

    harness.key_press(Key::PageUp);
    step_until(&mut harness, "the state of step 1", |app| {
        app.worker()
            .and_then(|w| w.snapshot())
            .is_some_and(|s| s.step == 20)
    });
    let app = harness.state();
    assert_eq!(app.lesson().map(|l| l.at), Some(1));
    assert_eq!(weights(app), at_20, "the weights as step 1 left them");
    assert_eq!(
        app.active_config().settings.loss,
        backprop_lab::nn::Loss::CrossEntropy
    );
    assert_eq!(app.active_config().settings.optimizer.learning_rate, 0.1);
    assert_eq!(app.run_view().train_loss.points().len(), curve_20);
    assert_eq!(
        app.views().get::<CodeView>().framework,
        Framework::PyTorch,
        "the code view as step 1 left it"
    );
    assert!(pin_labels(app).is_empty(), "the pins as step 1 left them");
    // and forward again does step 2 again, once
    page_down(&mut harness);
    assert_eq!(harness.state().run_view().status.step, 40);
    assert_eq!(harness.state().run_view().markers.len(), 2);
    assert_eq!(pin_labels(harness.state()), ["lr 0.1"]);
}

#[test]
fn a_lesson_sets_the_learners_pins_aside_and_gives_them_back_when_it_closes() {
    let mut harness = app();
    harness.get_by_label("Step").click();
    step_until(&mut harness, "a step trained", |app| {
        app.run_view().status.step == 1 && !app.run_view().train_loss.is_empty()
    });
    harness.get_by_label("Pin").click();
    harness.step();
    let mine = pin_labels(harness.state());
    assert_eq!(mine.len(), 1, "the learner's pin");
    let opened = harness
        .state_mut()
        .open_lesson(two_step_lesson(), "test".into());
    assert!(opened.is_ok(), "{opened:?}");
    assert!(
        pin_labels(harness.state()).is_empty(),
        "the lesson starts from none"
    );
    page_down(&mut harness);
    page_down(&mut harness);
    assert_eq!(pin_labels(harness.state()), ["lr 0.1"]);
    harness.state_mut().close_lesson();
    assert_eq!(pin_labels(harness.state()), mine);
}

#[test]
fn copy_setup_then_paste_setup_into_a_fresh_app_gives_the_same_run() {
    let mut teacher = app();
    let mut config = xor();
    config.settings.optimizer.learning_rate = 0.2;
    config.seed = 7;
    teacher.state_mut().set_hidden(Hidden::of([Control::Seed]));
    let lesson = Lesson::setup(
        "Mine",
        config.clone(),
        vec!["boundary".into()],
        Hidden::default(),
    );
    assert!(
        teacher
            .state_mut()
            .open_lesson(lesson, "test".into())
            .is_ok()
    );
    teacher.step();
    teacher.get_by_label("File").click();
    // a menu's first frame only sizes it, unseen
    teacher.step();
    teacher.step();
    teacher.get_by_label("Copy setup").click();
    teacher.step();
    let copied = teacher
        .output()
        .platform_output
        .commands
        .iter()
        .find_map(|command| match command {
            egui::OutputCommand::CopyText(text) => Some(text.clone()),
            _ => None,
        })
        .expect("the setup on the clipboard");
    drop(teacher);

    let mut student = app();
    assert_ne!(student.state().active_config(), &config);
    student.input_mut().events.push(Event::Paste(copied));
    student.step();
    step_until(&mut student, "the pasted run", |app| {
        app.active_config() == &config && app.run_view().info.is_some()
    });
    assert_eq!(student.state().shown_views(), ["boundary"]);
    assert!(
        student.state().hidden().is_empty(),
        "the lesson's own controls"
    );
}

#[test]
fn a_malformed_or_newer_lesson_is_a_message_and_changes_nothing() {
    let mut harness = app();
    harness.get_by_label("Step").click();
    step_until(&mut harness, "a step", |app| {
        app.run_view().status.step == 1
    });
    let before = harness.state().active_config().clone();
    let cases = [
        (
            "{\"format\": \"backprop-lab-lesson\", \"version\": 1, \"title\": ",
            "not a lesson file",
        ),
        (
            "{\"format\": \"backprop-lab-lesson\", \"version\": 9, \"title\": \"x\"}",
            "lesson file version 9 is newer than this program reads (1)",
        ),
    ];
    for (text, said) in cases {
        harness.state_mut().paste_setup(text);
        harness.step();
        harness.get_by_label_contains(said);
        assert_eq!(harness.state().active_config(), &before);
        assert_eq!(harness.state().run_view().status.step, 1, "the run goes on");
        assert!(harness.state().lesson().is_none());
    }
    // a file dropped on the window: the same
    let folder = tempfile::tempdir().expect("a folder");
    let path = folder.path().join("lesson.json");
    let mut newer = serde_json::to_value(two_step_lesson()).expect("json");
    newer["version"] = 2.into();
    std::fs::write(&path, newer.to_string()).expect("written");
    harness.state_mut().open_dropped(path.clone());
    harness.step();
    harness.get_by_label_contains("lesson file version 2 is newer");
    assert_eq!(harness.state().active_config(), &before);
    // a good one opens the same way
    std::fs::write(&path, two_step_lesson().to_json()).expect("written");
    harness.state_mut().open_dropped(path);
    harness.step();
    assert_eq!(
        harness.state().lesson().map(|l| l.lesson.steps.len()),
        Some(2)
    );
}

#[test]
fn a_lesson_file_opens_from_the_command_line_and_save_setup_writes_one() {
    let folder = tempfile::tempdir().expect("a folder");
    let path = folder.path().join("two.json");
    std::fs::write(&path, two_step_lesson().to_json()).expect("written");
    let mut harness = app_harness::launch(Launch {
        lesson: Some(path),
        present: true,
        ..Launch::default()
    });
    harness.step();
    assert!(harness.state().presenting());
    assert_eq!(harness.state().active_config(), &xor());
    // presenting, the lesson's buttons are in the toolbar
    harness.get_by_label("Next");
    let setup = folder.path().join("setup.json");
    let lesson = harness.state().current_setup("setup");
    lesson.save(&setup).expect("saved");
    let read = Lesson::load(&setup).expect("reads");
    assert_eq!(read.run, xor());
    assert!(read.steps.is_empty());
}

/// What a lesson's runs are at each point: the run loaded, and the setting changes made since.
#[derive(Clone)]
struct Expected {
    run: RunConfig,
    changes: Vec<SettingChange>,
}

impl Expected {
    fn settings(&self) -> TrainSettings {
        self.changes
            .iter()
            .fold(self.run.settings, |settings, change| settings.with(*change))
    }

    /// The trainer `backprop-lab train` runs for this configuration, to `goal`: the test loss
    /// and accuracy there, or the step it diverged at.
    fn train_to(&self, goal: Goal) -> Result<(u64, f64, f64), u64> {
        let run = RunConfig {
            settings: self.settings(),
            ..self.run.clone()
        };
        let mut trainer = run.build().expect("the lesson's run builds");
        let done = |trainer: &backprop_lab::train::Trainer| match goal {
            Goal::Epoch(epoch) => trainer.epoch() >= epoch,
            Goal::Step(step) => trainer.step() >= step,
            Goal::TestAccuracy { .. } => panic!("no built-in lesson plays to an accuracy"),
        };
        while !done(&trainer) {
            match trainer.train_batch() {
                Ok(_) => {}
                Err(TrainError::Diverged { step, .. }) => return Err(step),
                Err(error) => panic!("{error}"),
            }
        }
        let test = trainer.evaluate_test().expect("evaluates");
        Ok((trainer.step(), test.loss, test.accuracy))
    }
}

#[test]
fn every_built_in_lesson_plays_to_its_end_with_the_numbers_of_backprop_lab_train() {
    for lesson in built_in() {
        let title = lesson.title.clone();
        let mut harness = app();
        let opened = harness
            .state_mut()
            .open_lesson(lesson.clone(), "built in".into());
        assert!(opened.is_ok(), "{title}: {opened:?}");
        let mut expected = Expected {
            run: lesson.run.clone(),
            changes: Vec::new(),
        };
        let mut fork = expected.clone();
        // the test point the last "play until" stopped at (step, loss)
        let mut last_test = None;
        for (index, step) in lesson.steps.iter().enumerate() {
            page_down(&mut harness);
            assert_eq!(harness.state().lesson().map(|l| l.at), Some(index + 1));
            for action in &step.actions {
                match action {
                    Action::LoadRun(run) => {
                        expected = Expected {
                            run: run.clone(),
                            changes: Vec::new(),
                        }
                    }
                    Action::LoadPreset { preset, seed } => {
                        let preset = Preset::named(preset).expect("a preset");
                        expected = Expected {
                            run: RunConfig::from_preset(&preset, *seed),
                            changes: Vec::new(),
                        };
                    }
                    Action::Set(change) => expected.changes.push(*change),
                    Action::Fork => fork = expected.clone(),
                    Action::BackToFork => expected = fork.clone(),
                    Action::Pin(name) => {
                        // one pin of that name, ending where the last "play until" stopped
                        let pins = harness.state().pins().pins();
                        let named: Vec<_> = pins.iter().filter(|pin| pin.label == *name).collect();
                        let ends = named
                            .iter()
                            .map(|pin| pin.test_loss.points().last().map(|p| (p.step, p.value)))
                            .collect::<Vec<_>>();
                        assert_eq!(
                            ends,
                            [last_test],
                            "{title}, step {}: the pin \"{name}\"",
                            index + 1
                        );
                    }
                    Action::ShowCode(framework) => assert_eq!(
                        harness.state().views().get::<CodeView>().framework,
                        *framework,
                        "{title}, step {}",
                        index + 1
                    ),
                    Action::ShowWeights(layout) => assert_eq!(
                        harness.state().views().get::<WeightsView>().layout,
                        *layout,
                        "{title}, step {}: the weights view keeps its layout",
                        index + 1
                    ),
                    Action::PlayUntil(goal) => {
                        let app = harness.state();
                        // a loss that blew up paused the run there: the trainer to that step
                        let now = app.run_view().status.step;
                        let blown_up = app.run_view().health.iter().find_map(|alert| match alert {
                            HealthAlert::BlowUp { step, .. } if *step == now => Some(*step),
                            _ => None,
                        });
                        let goal = &blown_up.map_or(*goal, Goal::Step);
                        let shown = match &app.run_view().alert {
                            Some(Alert::Diverged { step, .. }) => Err(*step),
                            _ => {
                                let last = |series: &backprop_lab::ui::Series| {
                                    *series.points().last().expect("a test point")
                                };
                                let (loss, accuracy) = (
                                    last(&app.run_view().test_loss),
                                    last(&app.run_view().test_accuracy),
                                );
                                last_test = Some((loss.step, loss.value));
                                Ok((loss.step as u64, loss.value, accuracy.value))
                            }
                        };
                        assert_eq!(
                            shown,
                            expected.train_to(*goal),
                            "{title}, step {}: the app against the trainer",
                            index + 1
                        );
                    }
                    _ => {}
                }
            }
            assert!(
                harness
                    .state()
                    .lesson()
                    .and_then(|l| l.problem.clone())
                    .is_none(),
                "{title}, step {}: {:?}",
                index + 1,
                harness.state().lesson().and_then(|l| l.problem.clone())
            );
        }
        assert_eq!(
            harness.state().lesson().map(|l| l.at),
            Some(lesson.steps.len()),
            "{title} ends"
        );
    }
}

#[test]
fn play_until_stops_the_trainer_exactly_at_its_goal_and_says_so() {
    use backprop_lab::train::protocol::{Command, Update};
    let mut circle = RunConfig::from_preset(&Preset::named("circle").expect("circle"), 42);
    circle.epochs = None;
    let mut run = worker_run::Run::start(circle.clone());
    let reached = |run: &mut worker_run::Run| match run
        .until("the goal", |u| matches!(u, Update::Reached { .. }))
    {
        Update::Reached { goal, step } => (goal, step),
        _ => unreachable!(),
    };
    let batches = {
        let trainer = circle.build().expect("builds");
        trainer
            .data()
            .train
            .len()
            .div_ceil(circle.settings.batch_size) as u64
    };
    run.send(Command::PlayUntil(Goal::Epoch(2)));
    assert_eq!(reached(&mut run), (Goal::Epoch(2), 2 * batches));
    assert_eq!(run.paused().step, 2 * batches);
    run.send(Command::PlayUntil(Goal::Step(2 * batches + 7)));
    assert_eq!(reached(&mut run).1, 2 * batches + 7);
    // a goal already behind: reached at once, nothing trained
    run.send(Command::PlayUntil(Goal::Step(3)));
    assert_eq!(reached(&mut run).1, 2 * batches + 7);
    // an accuracy: looked at each epoch's end; one that cannot be had stops at the bound
    let impossible = Goal::TestAccuracy {
        at_least: 1.01,
        within_epochs: 5,
    };
    run.send(Command::PlayUntil(impossible));
    assert_eq!(reached(&mut run), (impossible, 5 * batches));
    // a reachable one, on a fresh run: the first epoch's end at that accuracy
    let target = 0.8f32;
    let mut run = worker_run::Run::start(circle);
    run.send(Command::PlayUntil(Goal::TestAccuracy {
        at_least: target,
        within_epochs: 200,
    }));
    let (_, step) = reached(&mut run);
    assert_eq!(step % batches, 0, "at an epoch's end");
    let accuracy_at = |run: &worker_run::Run, at: u64| {
        run.updates.iter().rev().find_map(|u| match u {
            Update::Evaluated(point) if point.step == at => Some(point.test.accuracy),
            _ => None,
        })
    };
    let accuracy = accuracy_at(&run, step).expect("evaluated where it stopped");
    assert!(accuracy >= f64::from(target), "{accuracy}");
    // every epoch's end before it was evaluated, and below the target
    for epoch in 1..step / batches {
        let before = accuracy_at(&run, epoch * batches).expect("evaluated at each epoch's end");
        assert!(before < f64::from(target), "epoch {epoch}: {before}");
    }
}
